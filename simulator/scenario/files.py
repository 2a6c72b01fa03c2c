"""Reading input files safely: regular files only, never blocking, never more than a limit.

Scenario and sweep files (and every file a scenario ``extends``) are read through
:func:`read_input`: it refuses anything that is not a regular file (a directory, a FIFO that
would block, a device such as ``/dev/zero`` or ``/dev/urandom`` that never ends) before opening
it, opens without blocking, and reads at most :func:`max_input_bytes` bytes, so a file's size is
checked before any parsing and memory stays bounded whatever the path names.
"""

from __future__ import annotations

import os
import stat

MAX_BYTES_ENV = "CRITMIN_MAX_SCENARIO_BYTES"
DEFAULT_MAX_BYTES = 2_000_000
"""Safety limit on one scenario or sweep file, in bytes: 60 times the largest shipped scenario
(``baseline.yaml``, 32 kB). The pure-Python YAML parser takes 5 to 15 s and about 100 MB of
memory per MB of YAML, so this keeps a mistaken path or a generated file from tying up the
machine; set ``CRITMIN_MAX_SCENARIO_BYTES`` to raise it."""

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
_CHUNK = 1 << 20


class InputError(Exception):
    """A file that cannot be read as input; ``missing`` when it does not exist."""

    def __init__(self, reason: str, missing: bool = False):
        super().__init__(reason)
        self.missing = missing


def max_input_bytes() -> int:
    """The size limit on one input file: ``$CRITMIN_MAX_SCENARIO_BYTES`` or the default.

    Raises InputError when the variable is set to anything but a whole number >= 1."""
    text = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"invalid {MAX_BYTES_ENV}={text!r}: expected a whole number of "
                         "bytes >= 1")
    return value


def _not_regular(mode: int) -> str | None:
    """What a file of ``mode`` is when it is not a regular file, else None."""
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def _too_large(size: str, limit: int) -> InputError:
    return InputError(f"{size} bytes, over the limit of {limit:,} bytes for an input file "
                      f"(a safety limit; set {MAX_BYTES_ENV} to raise it)")


def read_input(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the regular file at ``path``, at most :func:`max_input_bytes` of them.

    Raises InputError (``missing`` for a file that does not exist) for anything else: not a
    regular file, too large, unreadable. A FIFO or device is refused without being opened.
    """
    limit = max_input_bytes()
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError("not found", missing=True) from None
    except (OSError, ValueError) as exc:  # ValueError: embedded NUL in the name
        raise InputError(str(getattr(exc, "strerror", None) or exc)) from None
    kind = _not_regular(info.st_mode)
    if kind is not None:
        raise InputError(f"{kind}, not a regular file")
    if info.st_size > limit:
        raise _too_large(f"{info.st_size:,}", limit)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise InputError(str(exc.strerror or exc)) from None
    try:
        kind = _not_regular(os.fstat(fd).st_mode)  # replaced since the stat above?
        if kind is not None:
            raise InputError(f"{kind}, not a regular file")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:  # files in /proc report size 0: read at most limit + 1 bytes
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise _too_large(f"more than {limit:,}", limit)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(str(exc.strerror or exc)) from None
    finally:
        os.close(fd)
