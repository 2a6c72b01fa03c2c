"""Runs started from the workbench: one background thread per run, through the public runner.

A run is what ``critmin run`` does: :func:`~simulator.runner.run_scenario` streaming
finished replications into a :class:`~simulator.runner.RunWriter`, and ``writer.close`` writing
the same run folder (tables, KPIs, figures, manifest), on an evaluator from
:func:`~simulator.runner.make_evaluator` (a process pool on all cores) that the session keeps
between runs, so its workers start once (:func:`warm`). The runner's ``on_done`` callback, called
per finished replication, drives the progress bar, keeps the finished replications' time series
for a live preview, and cancels: after Cancel it raises ``KeyboardInterrupt`` once, which the
runner handles as Ctrl-C (pending work cancelled, finished replications kept, manifest
``status: interrupted``). So Cancel takes effect when the next replication finishes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["RunJob", "RunRecord", "new_evaluator", "prepare_worker", "warm"]


def new_evaluator(workers: int | None) -> Any:
    """``critmin run -j N``'s evaluator, N = ``workers`` or every core (1: in this process)."""
    from ..runner import make_evaluator
    from ..runner.executors import available_cores

    return make_evaluator("local", workers or available_cores())


def warm(evaluator: Any, scenario: Any) -> None:
    """Start the evaluator's workers now (an empty batch each), so a run does not wait for
    them to start and import the engine."""
    if getattr(evaluator, "in_process", True):
        return
    for _ in range(int(getattr(evaluator, "max_workers", 1))):
        evaluator.submit(prepare_worker, scenario)


def prepare_worker(scenario: Any) -> None:
    """Import what a worker runs: the engine (an empty batch) and the figures (a run's
    figures are drawn on a worker, :class:`~simulator.report.run_figures.FiguresOnWorkers`)."""
    from ..report import run_figures  # noqa: F401
    from ..runner import run_batch
    from ..viz import curves  # noqa: F401

    run_batch(scenario, 0, [])


@dataclass(eq=False)
class RunRecord:
    """One run of the session (or a run folder opened from disk)."""

    number: int
    scenario_name: str
    source: str  # the scenario file, or "run folder"
    overrides: list[str]
    replications: int
    seed: int
    run_dir: Path | None = None
    status: str = "running"  # running, complete, interrupted, failed
    message: str = ""
    seconds: float | None = None
    done: int = 0

    @property
    def label(self) -> str:
        """``#2 baseline (20 reps, seed 0; 1 change)``."""
        changes = [o for o in self.overrides if not o.startswith("name=")]
        what = (f"{len(changes)} change{'s' if len(changes) != 1 else ''}" if changes
                else "as written" if self.source != "run folder" else "from disk")
        state = "" if self.status == "complete" else f", {self.status}"
        return (f"#{self.number} {self.scenario_name} ({self.done} reps, seed {self.seed}; "
                f"{what}{state})")


@dataclass
class RunJob:
    """A run in a background thread; poll :attr:`record` and :meth:`partial_timeseries`."""

    scenario: Any
    record: RunRecord
    out_root: Path
    evaluator: Any
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _parts: list[tuple[int, Any]] = field(default_factory=list, repr=False)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _raised: bool = field(default=False, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _started: float = field(default=0.0, repr=False)

    def start(self) -> None:
        """Start the run in a daemon thread."""
        self._started = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="critmin-app-run", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Stop after the next finished replication, keeping those that finished."""
        self._cancel.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def kept(self) -> int:
        """Replications whose time series this job keeps in memory."""
        with self._lock:
            return len(self._parts)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._started if self._started else 0.0

    @property
    def spent(self) -> bool:
        """Whether the run stopped early: the runner then aborted the evaluator."""
        return self.record.status in ("interrupted", "failed")

    def partial_timeseries(self, by: str, key: str) -> pd.DataFrame | None:
        """The rows with ``by == key`` of the replications finished so far, in replication
        order (the order of the run folder's ``timeseries.parquet``), or None."""
        import pyarrow as pa
        import pyarrow.compute as pc

        from ..runner.tables import from_arrow

        with self._lock:
            parts = [table for _, table in sorted(self._parts, key=lambda p: p[0])]
        if not parts:
            return None
        table = pa.concat_tables(parts)
        keep = pc.equal(pc.cast(table[by], pa.string()), key)
        return from_arrow([table.filter(keep)], "timeseries")

    def _on_done(self, payload: Any) -> None:
        with self._lock:
            self._parts.append((payload.replication, payload.tables["timeseries"]))
            self.record.done += 1
        if self._cancel.is_set() and not self._raised:
            self._raised = True
            raise KeyboardInterrupt

    def _run(self) -> None:
        from ..report.run_figures import FiguresOnWorkers
        from ..runner import ExecutorUnavailable, RunFailed, RunInterrupted, RunWriter, run_scenario

        rec = self.record
        stopped: BaseException | None = None
        try:
            with RunWriter(self.scenario, out_root=self.out_root, overrides=rec.overrides,
                           figures=FiguresOnWorkers(self.evaluator)) as writer:
                try:
                    results = run_scenario(self.scenario, rec.replications, seed=rec.seed,
                                           on_done=self._on_done, evaluator=self.evaluator,
                                           sink=writer)
                except (RunInterrupted, RunFailed) as exc:
                    stopped, results = exc, exc.partial
                if results is not None and results.replications:
                    rec.run_dir = writer.close(results)
                    rec.done = results.replications
        except ExecutorUnavailable as exc:
            rec.status, rec.message = "failed", str(exc)
        except Exception as exc:  # shown in the page, never a traceback
            rec.status = "failed"
            rec.message = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        else:
            if isinstance(stopped, RunInterrupted):
                rec.status = "interrupted"
                rec.message = (f"cancelled after {rec.done} of {rec.replications} "
                               "replication(s)" + ("; kept" if rec.run_dir else
                                                   "; nothing to keep"))
            elif stopped is not None:
                rec.status, rec.message = "failed", str(stopped)
            else:
                rec.status = "complete"
        finally:
            rec.seconds = self.elapsed
