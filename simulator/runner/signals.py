"""Ctrl-C at safe points: never half-way through handing a replication to the results store.

:class:`SigintGuard` replaces Python's default SIGINT handler (only that one, and only in the
main thread) while a run is going: Ctrl-C raises :exc:`KeyboardInterrupt` at once, except inside
:meth:`SigintGuard.deferred` blocks, where it is held until the block ends. Elsewhere (another
thread, a custom handler already installed) the guard does nothing.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

__all__ = ["SigintGuard", "sigint_confirms"]


class SigintGuard:
    def __init__(self) -> None:
        self._depth = 0
        self._pending = False
        self._previous = None
        self._installed = False

    def __enter__(self) -> SigintGuard:
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def _handle(self, signum: int, frame: object) -> None:
        if self._depth:
            self._pending = True
        else:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold Ctrl-C until the block ends, then raise it (unless the block raised)."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if not self._depth and self._pending:
            self._pending = False
            raise KeyboardInterrupt


@contextlib.contextmanager
def sigint_confirms(note: Callable[[], None]) -> Iterator[None]:
    """While saving: a first Ctrl-C only calls ``note`` (say what is going on), a second one
    raises :exc:`KeyboardInterrupt`. Does nothing outside the main thread or when a custom
    SIGINT handler is installed."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    presses = 0

    def handle(signum: int, frame: object) -> None:
        nonlocal presses
        presses += 1
        if presses > 1:
            raise KeyboardInterrupt
        note()

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
