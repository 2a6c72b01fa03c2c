"""Atomic file writes: everything critmin writes goes to a temporary sibling first and is
renamed into place, so a reader (or a crash) sees the old file or the new one, never half of
it. Run and compare folders apply the same idea to whole folders (runner/store.py)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "write_text_atomic"]


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary sibling of ``path`` (``.<name>.tmp-<pid>``), flush
    it to disk (fsync) and rename it to ``path``; the parent folder is created if needed. If
    ``write`` raises (a full disk, a failed check), the temporary file is removed, ``path`` is
    left as it was and the exception propagates. Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        with tmp.open("rb") as f:  # on disk before it is renamed into place
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (:func:`atomic_write`)."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
