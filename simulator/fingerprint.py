"""Which model produced a result: a fingerprint of the code that computes it.

A resumed run or sweep reuses results saved earlier; they are only valid if the same model
computed them. :func:`model_fingerprint` hashes critmin's version and the source of every
module that turns a scenario into numbers (the scenario language, the engine, the runner, the
analysis, the sweep). The command line, the app, figures and reports are left out: changing
them changes no number.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["MODEL_PACKAGES", "model_fingerprint"]

#: The subpackages of ``simulator`` whose code computes results.
MODEL_PACKAGES = ("scenario", "engine", "runner", "analysis", "sweep")


@functools.cache
def model_fingerprint() -> str:
    """16 hex digits of SHA-256 over critmin's version and the ``.py`` files of
    :data:`MODEL_PACKAGES` (paths relative to the package, in sorted order, and bytes)."""
    from .runner.store import package_version

    root = Path(__file__).resolve().parent
    h = hashlib.sha256(package_version().encode())
    for package in MODEL_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            h.update(b"\0" + path.relative_to(root).as_posix().encode() + b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()[:16]
