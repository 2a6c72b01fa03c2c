"""critmin's version, without importing the rest of the package (``critmin --version``)."""

from __future__ import annotations

import importlib.metadata

__all__ = ["package_version"]


def package_version() -> str:
    """critmin's installed version, else ``simulator.__version__``, else ``0+unknown``."""
    try:
        return importlib.metadata.version("critmin")
    except importlib.metadata.PackageNotFoundError:
        import simulator

        return str(getattr(simulator, "__version__", "0+unknown"))
