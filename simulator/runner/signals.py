"""Stop signals (SIGINT, SIGTERM, SIGHUP) at safe points: never half-way through handing a
replication to the results store.

One process-wide handler turns a stop signal into :exc:`StopSignal` (a ``KeyboardInterrupt``
carrying the signal number), depending on where the main thread is:

- inside a :class:`SigintGuard` (a run or a sweep is going): raised at once, except inside
  :meth:`SigintGuard.deferred` blocks, where it is held until the block ends;
- inside :func:`hold_stop_signals` but outside a guard (the command line between starting the
  executor and saving): held; :attr:`Held.signum` says which one came, the guard raises it on
  entry;
- inside :func:`confirm_stop` (saving): the first signal only calls ``note``, a second raises.

Python's default SIGINT handler is replaced only while one of these is active and only in the
main thread; SIGTERM and SIGHUP are handled only where :func:`stop_signals` (the command line)
installed the handler, so a library caller keeps the default (the process dies). Elsewhere (another
thread, a custom handler already installed) nothing changes.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ..exit_codes import exit_for_signal

__all__ = ["STOP_SIGNALS", "Held", "SigintGuard", "StopSignal", "confirm_stop",
           "hold_stop_signals", "sigint_confirms", "signal_name", "signal_of", "stop_signals"]

#: The signals that ask a run to stop: Ctrl-C, ``kill`` / ``timeout`` / a batch scheduler or
#: a container stop, a closed terminal.
STOP_SIGNALS: tuple[int, ...] = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM",
                                                                   "SIGHUP")
                                      if hasattr(signal, n))


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class StopSignal(KeyboardInterrupt):
    """A stop signal, raised in the main thread; ``exit_code`` is 128 + its number."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(int(signum))  # type(e)(*e.args) rebuilds it (SimPy does)
        self.signum = int(signum)

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return signal_name(self.signum)

    @property
    def exit_code(self) -> int:
        return exit_for_signal(self.signum)


def signal_of(exc: BaseException | None) -> int:
    """The stop signal behind ``exc`` (its ``signum``, or one of its causes' or contexts'),
    else SIGINT (a plain ``KeyboardInterrupt``)."""
    seen = 0
    while exc is not None and seen < 20:
        signum = getattr(exc, "signum", None)
        if isinstance(signum, int):
            return signum
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return int(signal.SIGINT)


class _State:
    """The process-wide handler and where the main thread is (see the module docstring)."""

    def __init__(self) -> None:
        self.guards = 0  # active SigintGuards: raise at once
        self.depth = 0  # deferred blocks: hold
        self.holds = 0  # hold_stop_signals blocks: hold outside guards
        self.pending: int | None = None
        self.note: Callable[[int], None] | None = None
        self.presses = 0

    def __call__(self, signum: int, frame: Any) -> None:
        if self.note is not None:
            self.presses += 1
            self.pending = self.pending or signum
            if self.presses > 1:
                raise StopSignal(signum)
            self.note(signum)
        elif self.depth or (self.holds and not self.guards):
            self.pending = self.pending or signum
        else:
            raise StopSignal(signum)

    def take(self) -> None:
        """Raise the held signal, if any."""
        if self.pending is not None:
            signum, self.pending = self.pending, None
            raise StopSignal(signum)


_state = _State()


def _settle() -> None:
    """Forget a signal held for nobody (no guard, hold or confirmation block left)."""
    if not (_state.guards or _state.holds or _state.note):
        _state.pending = None


def _is_default(signum: int, handler: Any) -> bool:
    if handler is _state:
        return True
    if signum == signal.SIGINT:
        return handler is signal.default_int_handler
    return False  # SIGTERM / SIGHUP: only once stop_signals() installed the handler


@contextlib.contextmanager
def _installed(signals: tuple[int, ...], default: Callable[[int, Any], bool]
               ) -> Iterator[bool]:
    """Route ``signals`` whose handler passes ``default`` to the shared handler while the block
    runs (main thread only); yields whether SIGINT is routed."""
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous: dict[int, Any] = {}
    for signum in signals:
        handler = signal.getsignal(signum)
        if handler is not _state and default(signum, handler):
            previous[signum] = signal.signal(signum, _state)
    try:
        yield signal.getsignal(signal.SIGINT) is _state
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """The command line: SIGTERM and SIGHUP (where they have their default action) raise
    :exc:`StopSignal` like Ctrl-C raises ``KeyboardInterrupt``, for the whole block."""
    with _installed(STOP_SIGNALS, lambda s, h: s != signal.SIGINT and h is signal.SIG_DFL):
        yield


class Held:
    """What :func:`hold_stop_signals` yields: ``signum`` of a stop signal that came and was
    not raised (``None`` if none came)."""

    @property
    def signum(self) -> int | None:
        return _state.pending


@contextlib.contextmanager
def hold_stop_signals() -> Iterator[Held]:
    """Hold stop signals outside :class:`SigintGuard` blocks (a guard raises a held one on
    entry): nothing between a run's end and its saving can lose the finished work."""
    with _installed(STOP_SIGNALS, _is_default) as routed:
        if not routed:
            yield Held()
            return
        _state.holds += 1
        try:
            yield Held()
        finally:
            _state.holds -= 1
            _settle()


class SigintGuard:
    """While a run goes: a stop signal raises :exc:`StopSignal` at once, except inside
    :meth:`deferred` blocks. A signal held before (:func:`hold_stop_signals`) is raised on
    entry."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._active = False

    def __enter__(self) -> SigintGuard:
        self._active = self._stack.enter_context(_installed(STOP_SIGNALS, _is_default))
        if self._active:
            _state.guards += 1
            if _state.depth == 0:
                try:
                    _state.take()
                except BaseException:
                    self.__exit__()
                    raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._active:
            _state.guards -= 1
            self._active = False
            _settle()
        self._stack.close()

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold stop signals until the block ends, then raise one (unless the block raised)."""
        if not self._active:  # another thread, or a custom handler: nothing to hold
            yield
            return
        _state.depth += 1
        try:
            yield
        finally:
            _state.depth -= 1
        if not _state.depth and _state.guards:
            _state.take()


@contextlib.contextmanager
def confirm_stop(note: Callable[[int], None]) -> Iterator[None]:
    """While saving: a first stop signal only calls ``note(signum)`` (say what is going on), a
    second one raises :exc:`StopSignal`. A signal already held counts as the first. Does
    nothing outside the main thread or when a custom SIGINT handler is installed."""
    with _installed(STOP_SIGNALS, _is_default) as routed:
        if not routed:
            yield
            return
        saved = (_state.note, _state.presses)
        _state.note, _state.presses = note, int(_state.pending is not None)
        try:
            yield
        finally:
            _state.note, _state.presses = saved
            _settle()


@contextlib.contextmanager
def sigint_confirms(note: Callable[[], None]) -> Iterator[None]:
    """:func:`confirm_stop` with a ``note`` that takes no argument (the old name)."""
    with confirm_stop(lambda _signum: note()):
        yield
