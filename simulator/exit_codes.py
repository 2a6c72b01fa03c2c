"""Exit codes of every critmin command, in one table (docs/cli.md, "Exit codes"): BSD
``sysexits.h`` codes where one fits, ``128 + N`` for a stop by signal N."""

from __future__ import annotations

__all__ = ["EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_INVALID", "EXIT_IOERR", "EXIT_MISSING",
           "EXIT_OK", "EXIT_UNAVAILABLE", "EXIT_USAGE", "exit_for_signal"]

EXIT_OK = 0
EXIT_USAGE = 2
"""Unknown command or option, bad option value, missing argument."""
EXIT_INVALID = 65
"""EX_DATAERR: an invalid scenario or sweep, a damaged run folder."""
EXIT_MISSING = 66
"""EX_NOINPUT: an input file or folder does not exist."""
EXIT_UNAVAILABLE = 69
"""EX_UNAVAILABLE: an executor or an optional extra is not there."""
EXIT_INTERNAL = 70
"""EX_SOFTWARE: a bug, a failed replication or a dead worker."""
EXIT_IOERR = 74
"""EX_IOERR: output cannot be written (full disk, permissions)."""
EXIT_INTERRUPTED = 130
"""128 + SIGINT: Ctrl-C (SIGTERM and SIGHUP give 143 and 129)."""


def exit_for_signal(signum: int) -> int:
    """The exit code of a command stopped by signal ``signum``: ``128 + signum`` (130 for
    SIGINT, 143 for SIGTERM, 129 for SIGHUP)."""
    return 128 + int(signum)
