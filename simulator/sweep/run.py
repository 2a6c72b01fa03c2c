"""Run a planned sweep through an evaluator, resumably, one result file per finished point.

Work units are (point, replication) pairs, run in batches by :func:`run_units` (a top-level,
picklable function) on the evaluator (:mod:`simulator.runner.executors`: sequential, process
pool, Dask) through the runner's driver (:class:`~simulator.runner.driver.Driver`, the one that
runs ``critmin run``: ordering, batching, stop signals, failures). Every point runs
replications ``0..N-1`` with the sweep's seed, so replication ``r`` draws the same random
numbers at every point (common random numbers).

Layout of the sweep folder::

    sweep.json              the spec, the design and every point (index, hash, values)
    points/<hash>.parquet   one finished point: replication x demand sector x KPI (long)
    sweep.parquet, points.csv, figures...   written by :mod:`simulator.sweep.summary`

A point file is written (temporary file, then ``os.replace``) as soon as all replications of
the point have finished, and never rewritten: rerunning the same sweep into the folder skips
every point whose file exists (points are identified by a hash of the resolved scenario, the
seed and the replications, so a changed point is a new point).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis.long_kpis import POINT_COLUMNS, replication_kpis
from ..atomic import atomic_write
from ..runner.driver import Driver, Job, describe, format_ids
from ..runner.errors import ReplicationFailed, RunFailed
from ..scenario.models import Scenario
from .points import Plan, finished_point, write_point

__all__ = [
    "POINT_COLUMNS",
    "PointFailed",
    "SweepFailed",
    "SweepInterrupted",
    "SweepRun",
    "UnitRows",
    "atomic_write",
    "mark_complete",
    "replication_kpis",
    "run_sweep",
    "run_unit",
    "run_units",
]


class SweepInterrupted(KeyboardInterrupt):
    """A stop signal (``signum``: Ctrl-C, or SIGTERM / SIGHUP where the command line handles
    them) during a sweep; finished points are on disk (``done`` of ``total``)."""

    def __init__(self, done: int, total: int, out_dir: Path, signum: int = signal.SIGINT):
        super().__init__(f"interrupted after {done} of {total} point(s)")
        self.done, self.total, self.out_dir = done, total, out_dir
        self.signum = int(signum)


class SweepFailed(RuntimeError):
    """A replication of a point raised (or a worker died); finished points are kept."""

    def __init__(self, message: str, traceback_text: str = ""):
        super().__init__(message)
        self.traceback_text = traceback_text


@dataclass
class SweepRun:
    """What :func:`run_sweep` did: points computed now, skipped as already finished."""

    out_dir: Path
    computed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    units: int = 0
    wall_seconds: float = 0.0
    executor: dict[str, Any] = field(default_factory=dict)


@dataclass
class UnitRows:
    """One finished unit: the KPI rows of replication ``replication`` of point ``point``."""

    point: str
    replication: int
    rows: pd.DataFrame
    wall_seconds: float


class PointFailed(ReplicationFailed):
    """Replication ``replication`` of point ``point`` raised (picklable, like its base)."""

    def __init__(self, point: str, replication: int, seed: int, error_type: str, message: str,
                 traceback_text: str = "", finished: Sequence[UnitRows] = ()):
        super().__init__(replication, seed, error_type, message, traceback_text,
                         finished)  # type: ignore[arg-type]
        self.point = point
        self.args = (f"point {point}: {self.args[0]}",)

    def __reduce__(self):
        return (type(self), (self.point, self.replication, self.seed, self.error_type,
                             self.error_message, self.traceback_text, self.finished))


def run_unit(scenario: Scenario, seed: int, replication: int,
             disruption: str | None = None) -> tuple[pd.DataFrame, float]:
    """One replication of one point: its KPI rows and wall seconds."""
    from ..engine import run_replication

    t0 = time.perf_counter()
    res = run_replication(scenario, seed=seed, replication=replication)
    rows = replication_kpis(res.timeseries, scenario, replication, disruption, seed,
                            res.prices)
    return rows, time.perf_counter() - t0


def run_units(scenarios: dict[str, Scenario], seed: int, units: Sequence[tuple[str, int]],
              disruption: str | None = None) -> list[UnitRows]:
    """Run ``units`` ((point hash, replication) pairs) one after another: the unit of work of
    every evaluator (top-level, picklable). A unit that raises is raised as
    :exc:`PointFailed` naming it and the seed, carrying the units finished before it."""
    done: list[UnitRows] = []
    for h, r in units:
        try:
            rows, seconds = run_unit(scenarios[h], seed, r, disruption)
        except Exception as exc:
            raise PointFailed(h, r, seed, type(exc).__name__, str(exc),
                              "".join(traceback.format_exception(exc)), done) from None
        done.append(UnitRows(h, r, rows, seconds))
    return done


def _label(units: list[tuple[str, int]], seed: int) -> str:
    """``point a1b2: replication(s) 0-1, point c3d4: replication(s) 0 (seed 5)``."""
    by_point: dict[str, list[int]] = {}
    for h, r in units:
        by_point.setdefault(h, []).append(r)
    return ", ".join(f"point {h}: replication(s) {format_ids(rs)}"
                     for h, rs in by_point.items()) + f" (seed {seed})"


def _point_file(out_dir: Path, h: str) -> Path:
    return out_dir / "points" / f"{h}.parquet"


def write_manifest(plan: Plan, out_dir: Path, status: str, extra: dict[str, Any]) -> None:
    """``sweep.json``: the spec, the design's points (index, hash, values, finished) and
    ``status``: ``running``, ``interrupted``, ``failed``, ``computed`` (every point finished,
    the derived outputs not written yet) or ``complete`` (:func:`mark_complete`)."""
    from ..runner.store import package_version

    doc = {
        "format": "critmin-sweep-1", "critmin_version": package_version(), "status": status,
        "spec": plan.spec.record(), "base_scenario": plan.base.name,
        "design": plan.design.name, "n_points": len(plan.points),
        "n_unique_points": len(plan.unique_hashes),
        "points": [{"point": p.index, "hash": p.hash, "values": p.values,
                    "finished": _point_file(out_dir, p.hash).exists()} for p in plan.points],
        **extra,
    }
    text = json.dumps(doc, indent=1, default=str) + "\n"
    atomic_write(out_dir / "sweep.json", lambda tmp: tmp.write_text(text, encoding="utf-8"))


def mark_complete(out_dir: Path, outputs: list[str]) -> None:
    """Set ``sweep.json``'s status to ``complete`` and list the derived ``outputs``: call it
    only after every one of them has been written."""
    path = out_dir / "sweep.json"
    if not path.exists():
        return
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.update(status="complete", outputs=sorted(outputs),
               outputs_written_at=dt.datetime.now(dt.UTC).isoformat())
    text = json.dumps(doc, indent=1, default=str) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def run_sweep(plan: Plan, out_dir: str | os.PathLike[str], *, evaluator: Any = None,
              on_done: Callable[[int], None] | None = None,
              on_plan: Callable[[int, int], None] | None = None) -> SweepRun:
    """Run every point of ``plan`` that has no result file in ``out_dir`` yet; ``sweep.json``
    then says ``computed`` (:func:`~simulator.sweep.outputs.write_outputs` makes it
    ``complete``).

    ``evaluator`` (default: sequential, in this process) runs the units; ``on_plan(units,
    skipped_points)`` is called once before running, ``on_done(1)`` per finished unit
    (progress bars). Raises SweepInterrupted on Ctrl-C and SweepFailed when a replication
    raises or a worker dies; either way pending work is cancelled and finished points stay
    on disk. Raises OSError when ``out_dir`` cannot be written."""
    from ..runner.executors import SequentialEvaluator
    from ..runner.signals import SigintGuard, signal_of

    out = Path(out_dir)
    (out / "points").mkdir(parents=True, exist_ok=True)
    reps = plan.spec.replications
    started = dt.datetime.now(dt.UTC)
    run = SweepRun(out)
    scenario_of: dict[str, Scenario] = {}
    for p in plan.points:
        scenario_of.setdefault(p.hash, p.scenario)
    for h in plan.unique_hashes:  # a damaged or foreign file is set aside and recomputed
        (run.skipped if finished_point(_point_file(out, h), plan.identity(h))
         else run.computed).append(h)
    write_manifest(plan, out, "running", {"started_at": started.isoformat()})
    units = [(h, r) for h in run.computed for r in range(reps)]
    run.units = len(units)
    if on_plan is not None:
        on_plan(len(units), len(run.skipped))
    ev = evaluator if evaluator is not None else SequentialEvaluator()
    parts: dict[str, list[pd.DataFrame]] = {}
    done_points = len(run.skipped)
    t0 = time.perf_counter()

    def deliver(unit: UnitRows) -> None:  # in unit order, under the driver's guard
        nonlocal done_points
        h = unit.point
        parts.setdefault(h, []).append(unit.rows)
        if len(parts[h]) == reps:
            frame = pd.concat(parts.pop(h), ignore_index=True)
            frame = frame.sort_values(["replication", "demand_id", "kpi"],
                                      kind="stable").reset_index(drop=True)
            atomic_write(_point_file(out, h),
                         lambda tmp: write_point(tmp, frame, plan.identity(h)))
            done_points += 1

    seed, disruption = plan.spec.seed, plan.spec.disruption
    job: Job[tuple[str, int], UnitRows] = Job(
        units=units,
        task=lambda batch: (run_units, ({h: scenario_of[h] for h, _ in batch}, seed, batch,
                                        disruption)),
        key=lambda u: (u.point, u.replication),
        label=lambda batch: _label(batch, seed))
    driver = Driver(job, ev, deliver, None if on_done is None else lambda _u: on_done(1))
    status = "failed"
    try:
        with SigintGuard() as guard:
            driver.run(guard)
        status = "computed"  # `complete` once write_outputs has written the rest
    except KeyboardInterrupt as exc:
        status = "interrupted"
        raise SweepInterrupted(done_points, len(plan.unique_hashes), out,
                               signal_of(exc)) from None
    except RunFailed as exc:
        if isinstance(exc.__cause__, OSError):
            raise exc.__cause__ from None  # a full disk is not a failed replication
        raise SweepFailed(str(exc), getattr(exc, "traceback_text", "")) from None
    finally:
        run.wall_seconds = time.perf_counter() - t0
        run.executor = describe(ev)
        with contextlib.suppress(OSError):
            write_manifest(plan, out, status, {
                "started_at": started.isoformat(),
                "finished_at": dt.datetime.now(dt.UTC).isoformat(),
                "computed_points": len(run.computed), "skipped_points": len(run.skipped),
                "wall_seconds": round(run.wall_seconds, 3), **run.executor})
    return run
