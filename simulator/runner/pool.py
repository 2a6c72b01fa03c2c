"""A small local process pool behind the ``concurrent.futures.Executor`` API (public
``multiprocessing`` only).

Why not ``ProcessPoolExecutor``: stopping its workers at once, knowing which call a dead worker
was running, and not hanging on a result a dying worker only half sent all needed its private
attributes. Here each worker has a task pipe and a result pipe of its own, so:

- the pool knows which call every worker runs: a worker that dies (killed, out of memory) fails
  exactly that call's Future with :exc:`WorkerDied` (pid and signal), and the other workers
  carry on; when none is left, the pending calls fail with ``BrokenProcessPool``;
- this process keeps no copy of a worker's result-pipe write end, so a worker that dies half-way
  through sending a result reads as end-of-file here, never as a wait for the rest;
- :meth:`WorkerPool.kill` SIGKILLs the workers (their work is being thrown away).

Workers ignore SIGINT, SIGTERM and SIGHUP (a terminal, ``timeout`` or a batch scheduler sends
them to the whole process group): the parent decides what stopping means and stops them. A
worker whose parent has gone (SIGKILLed, crashed) exits by itself within
:data:`PARENT_POLL_SECONDS` (a watchdog thread polls ``os.getppid()``), so no worker outlives
its pool for long.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import signal
import threading
import time
import traceback
from collections import deque
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection, wait
from typing import Any

__all__ = ["PARENT_POLL_SECONDS", "WorkerDied", "WorkerPool", "watch_parent"]

#: How often a worker checks that its parent is still there.
PARENT_POLL_SECONDS = 0.5
_STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP")
                      if hasattr(signal, n))
_live: set[WorkerPool] = set()


class WorkerDied(BrokenProcessPool):
    """The worker process running a call died before returning its result."""

    def __init__(self, pid: int | None, exitcode: int | None):
        super().__init__(f"worker process {pid} {describe_exit(exitcode)}")
        self.pid, self.exitcode = pid, exitcode

    def __reduce__(self):
        return (type(self), (self.pid, self.exitcode))


class RemoteTraceback(Exception):
    """The worker's traceback, attached as ``__cause__`` of an exception raised there."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def describe_exit(exitcode: int | None) -> str:
    """``was killed by signal 9 (SIGKILL)`` / ``exited with status 3``."""
    if exitcode is None:
        return "closed its pipe"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        return f"was killed by signal {-exitcode} ({name})"
    return f"exited with status {exitcode}"


def watch_parent(expected: int | None = None, interval: float = PARENT_POLL_SECONDS) -> None:
    """Exit this process (status 1, no cleanup) as soon as its parent process is gone: a
    daemon thread polls ``os.getppid()`` every ``interval`` seconds. ``expected``: the pid the
    parent should have (a parent that died before this call is caught too)."""
    parent = os.getppid()
    if expected is not None and parent != expected:
        os._exit(1)

    def poll() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:  # re-parented: our parent died
                os._exit(1)

    threading.Thread(target=poll, name="critmin-parent-watch", daemon=True).start()


def _worker(tasks: Connection, results: Connection, parent: int | None) -> None:
    """A worker's main loop: a pickled ``(fn, args, kwargs)`` in, ``(ok, value, tb)`` out;
    an empty message (or end-of-file) stops it."""
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    watch_parent(parent)
    while True:
        try:
            blob = tasks.recv_bytes()
        except (EOFError, OSError):
            return
        if not blob:
            return
        try:
            fn, args, kwargs = pickle.loads(blob)
            out: tuple[bool, Any, str] = (True, fn(*args, **kwargs), "")
        except BaseException as exc:  # returned to the caller, as ProcessPoolExecutor does
            out = (False, exc, "".join(traceback.format_exception(exc)))
        try:
            data = pickle.dumps(out, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            what = "result" if out[0] else f"exception {type(out[1]).__name__}"
            data = pickle.dumps((False, RuntimeError(f"cannot pickle the {what}: {exc}"),
                                 out[2]))
        try:
            results.send_bytes(data)
        except OSError:  # the parent is gone
            return


class _Worker:
    def __init__(self, process: Any, tasks: Connection, results: Connection):
        self.process, self.tasks, self.results = process, tasks, results
        self.future: Future | None = None


class WorkerPool(Executor):
    """``workers`` processes of ``mp_context``, started on the first :meth:`submit`."""

    def __init__(self, workers: int, mp_context: Any):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.max_workers = workers
        self._ctx = mp_context
        self._workers: list[_Worker] = []
        self._pending: deque[tuple[Future, bytes]] = deque()
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = mp_context.Pipe(duplex=False)
        self._thread: threading.Thread | None = None
        self._closing = self._killed = False
        self._broken: str | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def pids(self) -> list[int]:
        """The pids of the live worker processes."""
        return [w.process.pid for w in list(self._workers) if w.process.is_alive()]

    # -- the Executor API --
    def submit(self, fn, /, *args, **kwargs) -> Future:
        blob = pickle.dumps((fn, args, kwargs), pickle.HIGHEST_PROTOCOL)
        with self._lock:
            if self._closing:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if self._broken:
                raise BrokenProcessPool(self._broken)
            if self._thread is None:
                self._start()
            fut: Future = Future()
            self._pending.append((fut, blob))
        self._wake()
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closing = True
            if cancel_futures:
                self._cancel_pending()
        self._wake()
        if wait:
            self._join()

    def kill(self) -> None:
        """Cancel pending calls, SIGKILL every worker, fail the running calls; wait for it."""
        with self._lock:
            self._closing = self._killed = True
            self._cancel_pending()
            workers = list(self._workers)
        for w in workers:
            with contextlib.suppress(Exception):
                w.process.kill()
        self._wake()
        self._join()

    # -- inside --
    def _start(self) -> None:
        """Start every worker, then the thread that feeds them (no fork after a thread)."""
        parent = os.getpid() if self._ctx.get_start_method() != "forkserver" else None
        for _ in range(self.max_workers):
            task_r, task_w = self._ctx.Pipe(duplex=False)
            result_r, result_w = self._ctx.Pipe(duplex=False)
            p = self._ctx.Process(target=_worker, args=(task_r, result_w, parent),
                                  name="critmin-worker")
            p.start()
            task_r.close()
            result_w.close()  # only the worker holds the write end: its death reads as EOF
            self._workers.append(_Worker(p, task_w, result_r))
        _live.add(self)
        self._thread = threading.Thread(target=self._manage, name="critmin-pool", daemon=True)
        self._thread.start()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send_bytes(b"x")

    def _cancel_pending(self) -> None:
        while self._pending:
            self._pending.popleft()[0].cancel()

    def _join(self) -> None:
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        _live.discard(self)

    def _manage(self) -> None:
        try:
            while self._step():
                pass
        finally:
            self._close_all()

    def _step(self) -> bool:
        """Hand out work, wait for something to happen, deal with it; False when done."""
        with self._lock:
            killed = self._killed
            idle = [w for w in self._workers if w.future is None]
            handout: list[tuple[_Worker, Future, bytes]] = []
            while idle and self._pending and not killed:
                fut, blob = self._pending.popleft()
                if fut.set_running_or_notify_cancel():
                    handout.append((idle.pop(), fut, blob))
            busy = any(w.future is not None for w in self._workers) or handout
            if not self._workers or (self._closing and not self._pending and not busy):
                return False
        for w, fut, blob in handout:
            w.future = fut
            with contextlib.suppress(OSError):  # if the worker died, its sentinel says so
                w.tasks.send_bytes(blob)
        watched = [self._wake_r]
        for w in self._workers:
            watched += [w.results, w.process.sentinel]
        for ready in wait(watched):
            if ready is self._wake_r:
                with contextlib.suppress(EOFError, OSError):
                    while self._wake_r.poll():
                        self._wake_r.recv_bytes()
        for w in list(self._workers):
            if w.future is not None and w.results.poll():
                self._receive(w)
            if not w.process.is_alive():
                self._bury(w)
        return True

    def _receive(self, w: _Worker) -> None:
        fut, w.future = w.future, None
        assert fut is not None
        try:
            ok, value, tb = pickle.loads(w.results.recv_bytes())
        except (EOFError, OSError):
            w.future = fut  # died while sending: _bury fails it
            return
        except Exception as exc:
            ok, value, tb = False, RuntimeError(f"cannot unpickle the result: {exc}"), ""
        if ok:
            fut.set_result(value)
        else:
            if tb:
                value.__cause__ = RemoteTraceback(tb)
            fut.set_exception(value)

    def _bury(self, w: _Worker) -> None:
        w.process.join()
        self._workers.remove(w)
        for conn in (w.tasks, w.results):
            conn.close()
        if w.future is not None:
            fut, w.future = w.future, None
            if self._killed:
                fut.set_exception(BrokenProcessPool("the pool was stopped"))
            else:
                fut.set_exception(WorkerDied(w.process.pid, w.process.exitcode))
        if not self._workers:
            with self._lock:
                if not self._killed:
                    self._broken = "every worker process died"
                while self._pending:
                    fut = self._pending.popleft()[0]
                    if fut.set_running_or_notify_cancel():
                        fut.set_exception(BrokenProcessPool(self._broken or "stopped"))

    def _close_all(self) -> None:
        """Stop (or kill) the workers still there and reap them."""
        for w in list(self._workers):
            with contextlib.suppress(OSError):
                w.tasks.send_bytes(b"")
        deadline = time.monotonic() + 5
        for w in list(self._workers):
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            self._bury(w)
        for conn in (self._wake_r, self._wake_w):
            conn.close()


@atexit.register
def _kill_live_pools() -> None:
    """At interpreter exit, no pool's workers are left behind (nor waited for)."""
    for pool in list(_live):
        with contextlib.suppress(Exception):
            pool.kill()
