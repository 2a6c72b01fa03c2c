"""Run a planned sweep through an evaluator, resumably, one result file per finished point.

Work units are (point, replication) pairs; each runs :func:`run_unit` (a top-level, picklable
function) on the evaluator (:mod:`simulator.runner.executors`: sequential, process pool,
Dask). Every point runs replications ``0..N-1`` with the sweep's seed, so replication ``r``
draws the same random numbers at every point (common random numbers).

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
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..scenario.models import Scenario
from .points import Plan
from .spec import KPIS, TOTAL_KPIS

__all__ = [
    "POINT_COLUMNS",
    "SweepFailed",
    "SweepInterrupted",
    "SweepRun",
    "atomic_write",
    "mark_complete",
    "replication_kpis",
    "run_sweep",
    "run_unit",
]

#: Columns of a point file.
POINT_COLUMNS = ["replication", "demand_id", "country", "sector", "material", "kpi", "value"]
ALL = "all"


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


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary sibling of ``path``, then ``os.replace`` it: ``path``
    is either absent, or complete. The temporary file is removed if ``write`` raises."""
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


def replication_kpis(timeseries: pd.DataFrame, scenario: Scenario, replication: int,
                     disruption: str | None = None) -> pd.DataFrame:
    """Long KPI rows (:data:`POINT_COLUMNS`) of one replication's engine ``timeseries``: every
    :data:`~simulator.sweep.spec.KPIS` per demand sector (:func:`replication_metrics`, the
    time to survive counted from ``disruption`` or each sector's default anchor), and
    :data:`~simulator.sweep.spec.TOTAL_KPIS` over all demand (``demand_id`` ``all``)."""
    from ..analysis.metrics import replication_metrics

    ts = timeseries.assign(replication=np.int32(replication))
    m = replication_metrics(ts, scenario, event_id=disruption)
    keys = ["demand_id", "country", "sector", "material"]
    long = m.melt(id_vars=keys, value_vars=list(KPIS), var_name="kpi", value_name="value")
    demand, delivered = float(m["demand_t"].sum()), float(m["delivered_t"].sum())
    total = {"fill_rate": delivered / demand if demand > 0 else 1.0,
             "cumulative_shortfall_t": float(m["cumulative_shortfall_t"].sum()),
             "demand_t": demand, "delivered_t": delivered}
    tot = pd.DataFrame({"demand_id": ALL, "country": ALL, "sector": ALL, "material": ALL,
                        "kpi": list(TOTAL_KPIS), "value": [total[k] for k in TOTAL_KPIS]})
    out = pd.concat([long, tot], ignore_index=True)
    out.insert(0, "replication", np.int32(replication))
    out["value"] = out["value"].astype(np.float64)
    return out[POINT_COLUMNS]


def run_unit(scenario: Scenario, seed: int, replication: int,
             disruption: str | None = None) -> tuple[pd.DataFrame, float]:
    """One replication of one point (the evaluators' unit of work): its KPI rows and wall
    seconds. Raises SweepFailed naming the replication and seed when the engine raises."""
    from ..engine import run_replication

    t0 = time.perf_counter()
    try:
        res = run_replication(scenario, seed=seed, replication=replication)
        rows = replication_kpis(res.timeseries, scenario, replication, disruption)
    except Exception as exc:
        detail = " ".join(str(exc).split()) or "(no message)"
        raise SweepFailed(f"replication {replication} (seed {seed}) failed: "
                          f"{type(exc).__name__}: {detail}",
                          "".join(traceback.format_exception(exc))) from None
    return rows, time.perf_counter() - t0


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
    for h in plan.unique_hashes:
        (run.skipped if _point_file(out, h).exists() else run.computed).append(h)
    write_manifest(plan, out, "running", {"started_at": started.isoformat()})
    units = deque((h, r) for h in run.computed for r in range(reps))
    run.units = len(units)
    if on_plan is not None:
        on_plan(len(units), len(run.skipped))
    ev = evaluator if evaluator is not None else SequentialEvaluator()
    parts: dict[str, list[pd.DataFrame]] = {}
    done_points = len(run.skipped)
    t0 = time.perf_counter()

    def accept(h: str, rows: pd.DataFrame, guard: SigintGuard) -> None:
        nonlocal done_points
        with guard.deferred():
            parts.setdefault(h, []).append(rows)
            if len(parts[h]) == reps:
                frame = pd.concat(parts.pop(h), ignore_index=True)
                frame = frame.sort_values(["replication", "demand_id", "kpi"],
                                          kind="stable").reset_index(drop=True)
                atomic_write(_point_file(out, h), lambda tmp: frame.to_parquet(tmp, index=False))
                done_points += 1
            if on_done is not None:
                on_done(1)

    status = "failed"
    try:
        with SigintGuard() as guard:
            _drive(ev, units, scenario_of, plan.spec.seed, accept, guard,
                   plan.spec.disruption)
        status = "computed"  # `complete` once write_outputs has written the rest
    except KeyboardInterrupt as exc:
        status = "interrupted"
        with contextlib.suppress(Exception):
            ev.abort()
        raise SweepInterrupted(done_points, len(plan.unique_hashes), out,
                               signal_of(exc)) from None
    except BaseException:
        with contextlib.suppress(Exception):
            ev.abort()
        raise
    finally:
        run.wall_seconds = time.perf_counter() - t0
        describe = getattr(ev, "describe", None)
        run.executor = describe() if describe else {"executor": type(ev).__name__}
        with contextlib.suppress(OSError):
            write_manifest(plan, out, status, {
                "started_at": started.isoformat(),
                "finished_at": dt.datetime.now(dt.UTC).isoformat(),
                "computed_points": len(run.computed), "skipped_points": len(run.skipped),
                "wall_seconds": round(run.wall_seconds, 3), **run.executor})
    return run


def _drive(ev: Any, units: deque[tuple[str, int]], scenario_of: dict[str, Scenario], seed: int,
           accept: Callable[[str, pd.DataFrame, Any], None], guard: Any,
           disruption: str | None = None) -> None:
    """Submit units in order with a bounded window, hand results to ``accept``."""
    limit = getattr(ev, "inline_below_s", None)
    def inline() -> float:
        h, r = units.popleft()
        try:
            rows, seconds = run_unit(scenario_of[h], seed, r, disruption)
        except SweepFailed as exc:
            raise SweepFailed(f"point {h}: {exc}", exc.traceback_text) from None
        accept(h, rows, guard)
        return seconds

    if limit is not None and units:  # time one unit here; tiny sweeps never start a pool
        seconds = inline()
        if seconds * len(units) < limit:
            while units:
                inline()
    window = 1 if getattr(ev, "in_process", True) else 2 * max(1, ev.max_workers)
    in_flight: dict[Future, tuple[str, int]] = {}
    while units or in_flight:
        while units and len(in_flight) < window:
            h, r = units.popleft()
            in_flight[ev.submit(run_unit, scenario_of[h], seed, r, disruption)] = (h, r)
        done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
        for fut in sorted(done, key=lambda f: in_flight[f]):
            h, r = in_flight.pop(fut)
            try:
                rows, _ = fut.result()
            except KeyboardInterrupt:
                raise
            except SweepFailed as exc:
                raise SweepFailed(f"point {h}: {exc}", exc.traceback_text) from None
            except Exception as exc:
                detail = " ".join(str(exc).split()) or "(no message)"
                raise SweepFailed(f"point {h}: replication {r} (seed {seed}) failed on the "
                                  f"executor: {type(exc).__name__}: {detail}") from exc
            accept(h, rows, guard)
