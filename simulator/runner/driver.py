"""The replication driver: the one loop that runs units of work on an evaluator.

A :class:`Job` names the units in the order their results are wanted (replication ids for a
run, (point, replication) pairs for a sweep) and how to run a batch of them. :class:`Driver`
submits batches with a bounded window in flight (batch size and window from the evaluator),
puts finished results back in unit order whatever order they complete in, hands them on,
skips units finished earlier (``saved``: a resumed run) and stops cleanly: on a stop signal or
a failure, pending work is cancelled and every unit that finished is handed on.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures import BrokenExecutor as _BrokenExecutor
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from .errors import ReplicationFailed, RunFailed
from .signals import SigintGuard

__all__ = ["MAX_BATCH", "TARGET_BATCH_SECONDS", "Driver", "Job", "describe", "format_ids"]

#: Remote batches aim at about this many seconds of work (fewer round trips for fast models).
TARGET_BATCH_SECONDS = 0.5
MAX_BATCH = 64

K = TypeVar("K", bound=Hashable)


class Timed(Protocol):
    """A unit's result: the driver reads only its engine seconds."""

    wall_seconds: float


R = TypeVar("R", bound=Timed)


@dataclass(frozen=True)
class Job(Generic[K, R]):
    """What a :class:`Driver` runs.

    ``units``: in the order results are handed on. ``task(batch)``: a picklable function and
    its arguments that run ``batch`` and return one result per unit, in order; a unit that
    raises makes it raise a :exc:`ReplicationFailed` carrying the results finished before
    (``finished``). ``key(result)``: the unit of a result. ``label(batch)``: the batch in an
    executor error, e.g. ``"replication(s) 0-2 (seed 5)"``.
    """

    units: Sequence[K]
    task: Callable[[list[K]], tuple[Callable[..., list[R]], tuple[Any, ...]]]
    key: Callable[[R], K]
    label: Callable[[list[K]], str]


class Driver(Generic[K, R]):
    """Submits batches, keeps a bounded window in flight, re-orders finished units.

    ``deliver`` gets every result in unit order (after a stop: every finished one, in order,
    gaps allowed); ``on_done`` gets each in completion order (progress bars); ``saved`` maps
    units finished earlier to loaders of their results, handed on in their place.
    """

    def __init__(self, job: Job[K, R], evaluator: Any, deliver: Callable[[R], None],
                 on_done: Callable[[R], None] | None = None,
                 saved: Mapping[K, Callable[[], R]] | None = None):
        self.job, self.ev = job, evaluator
        self.ids = list(job.units)
        self.deliver, self.on_done = deliver, on_done
        self.position = {u: i for i, u in enumerate(self.ids)}
        self.saved = {u: load for u, load in (saved or {}).items() if u in self.position}
        self.queue = deque(u for u in self.ids if u not in self.saved)
        self.buffer: dict[K, R] = {}
        self.next = 0  # index into ids of the next unit to deliver
        self.in_flight: dict[Future, list[K]] = {}
        self.rep_seconds = 0.0  # engine seconds of the units run, and their number
        self.rep_count = 0
        self.last_seconds = 0.0

    # -- bookkeeping --
    def accept(self, results: Iterable[R]) -> None:
        for res in results:
            self.buffer[self.job.key(res)] = res
            self.rep_seconds += res.wall_seconds
            self.last_seconds = res.wall_seconds
            self.rep_count += 1
            if self.on_done is not None:
                self.on_done(res)

    def _take(self, unit: K) -> R:
        return self.buffer.pop(unit) if unit in self.buffer else self.saved.pop(unit)()

    def flush(self, everything: bool = False) -> None:
        while self.next < len(self.ids) and (self.ids[self.next] in self.buffer
                                             or self.ids[self.next] in self.saved):
            self.deliver(self._take(self.ids[self.next]))
            self.next += 1
        if everything:
            for u in sorted({*self.buffer, *self.saved}, key=self.position.__getitem__):
                self.deliver(self._take(u))

    def batch_size(self) -> int:
        if getattr(self.ev, "in_process", True) or not self.rep_count:
            return 1
        mean = max(self.rep_seconds / self.rep_count, 1e-6)
        balanced = len(self.queue) // (4 * max(1, self.ev.max_workers))
        return int(max(1, min(MAX_BATCH, balanced, round(TARGET_BATCH_SECONDS / mean))))

    # -- the loop --
    def run(self, guard: SigintGuard) -> None:
        """Run every unit; raises ``KeyboardInterrupt`` on a stop signal and
        :exc:`RunFailed` (or :exc:`ReplicationFailed`) on a failure, after :meth:`_stop`."""
        try:
            with guard.deferred():
                self.flush()  # saved units before the first one to run
            self._calibrate(guard)
            self._loop(guard)
        except BaseException as exc:
            with guard.deferred():  # a second stop signal waits until the workers are stopped
                self._stop(exc)
            if isinstance(exc, KeyboardInterrupt | RunFailed) or not isinstance(exc, Exception):
                raise
            detail = " ".join(str(exc).split()) or "(no message)"
            raise RunFailed(f"{type(exc).__name__}: {detail}") from exc

    def _inline(self, guard: SigintGuard) -> None:
        fn, args = self.job.task([self.queue.popleft()])
        results = fn(*args)
        with guard.deferred():
            self.accept(results)
            self.flush()

    def _calibrate(self, guard: SigintGuard) -> None:
        """With an evaluator that allows it (``inline_below_s``), run the first unit here;
        if the rest would take less than that, run them all here too (no pool)."""
        limit = getattr(self.ev, "inline_below_s", None)
        if limit is None or not self.queue:
            return
        self._inline(guard)
        if self.last_seconds * len(self.queue) < limit:
            while self.queue:
                self._inline(guard)

    def _loop(self, guard: SigintGuard) -> None:
        in_process = getattr(self.ev, "in_process", True)
        window = 1 if in_process else 2 * max(1, self.ev.max_workers)
        while self.queue or self.in_flight:
            size = self.batch_size()
            ahead = max(4 * window * size, 16)
            while (self.queue and len(self.in_flight) < window
                   and self.position[self.queue[0]] - self.next < ahead):
                batch = [self.queue.popleft() for _ in range(min(size, len(self.queue)))]
                fn, args = self.job.task(batch)
                try:
                    fut = self.ev.submit(fn, *args)
                except _BrokenExecutor as exc:  # the workers died: a call in flight says
                    self.queue.extendleft(reversed(batch))  # which unit killed them
                    if not self.in_flight:
                        raise RunFailed(f"a worker process died before running "
                                        f"{self.job.label(batch)}: {exc}") from exc
                    break
                self.in_flight[fut] = batch
            done, _ = wait(list(self.in_flight), return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: self.position[self.in_flight[f][0]]):
                with guard.deferred():
                    batch = self.in_flight.pop(fut)
                    self.accept(self._result(fut, batch))
                    self.flush()

    def _result(self, fut: Future, batch: list[K]) -> list[R]:
        """A batch's results; executor failures become :exc:`RunFailed` naming the batch."""
        try:
            return fut.result()
        except (RunFailed, KeyboardInterrupt):
            raise
        except _BrokenExecutor as exc:
            raise RunFailed(f"a worker process died while running "
                            f"{self.job.label(batch)}: {exc}") from exc
        except Exception as exc:
            detail = " ".join(str(exc).split()) or "(no message)"
            raise RunFailed(f"{self.job.label(batch)} failed on the executor: "
                            f"{type(exc).__name__}: {detail}") from exc

    def _stop(self, exc: BaseException) -> None:
        """Cancel what is pending, keep every unit that finished, deliver in order."""
        with contextlib.suppress(Exception):
            self.ev.abort()
        finished = list(getattr(exc, "finished", ()))
        if isinstance(exc, ReplicationFailed):
            exc.finished = []
        for fut, batch in list(self.in_flight.items()):
            if fut.done() and not fut.cancelled():
                try:
                    finished.extend(self._result(fut, batch))
                except RunFailed as other:
                    finished.extend(getattr(other, "finished", ()))
        self.in_flight.clear()
        self.accept(r for r in finished if self.job.key(r) not in self.buffer)
        self.flush(everything=True)


def describe(ev: Any) -> dict[str, object]:
    """The evaluator as a manifest records it (``executor``, ``workers``...)."""
    info = getattr(ev, "describe", None)
    return info() if info else {"executor": type(ev).__name__, "workers": None}


def format_ids(ids: Iterable[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``"0-2,5,7-8"``."""
    out: list[str] = []
    ids = sorted(ids)
    i = 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        out.append(str(ids[i]) if i == j else f"{ids[i]}-{ids[j]}")
        i = j + 1
    return ",".join(out)
