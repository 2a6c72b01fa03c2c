"""Replications of one scenario through an evaluator; results handed on in replication order.

- :func:`run_one` runs one replication in this process and returns plain pandas frames with
  ``replication`` and ``date`` columns (notebooks, tests).
- :func:`run_batch` is the unit of work an evaluator runs (a top-level, picklable function of
  picklable arguments): a few consecutive replications in, a list of compact
  :class:`ReplicationPayload` out (Arrow tables and small summaries, no large DataFrames).
- :func:`run_scenario` submits batches to an evaluator (``SequentialEvaluator`` by default; a
  process pool or Dask, see :mod:`simulator.runner.executors`) through the driver that sweeps
  use too (:class:`~simulator.runner.driver.Driver`), which puts finished replications back
  in replication order whatever order they complete in; each goes to a sink: in memory
  (the returned :class:`RunResults` then holds the tables) or a
  :class:`~simulator.runner.store.RunWriter` that appends them to Parquet files as they come.

Each replication draws from ``SeedSequence(seed, spawn_key=(replication, stream_id))``, so the
results of a replication do not depend on the evaluator, the batch it ran in or the other
replications of the run.
"""

from __future__ import annotations

import datetime as dt
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from ..engine import run_replication
from ..scenario.models import Scenario
from . import summaries as _summaries
from .driver import Driver, Job, describe, format_ids
from .errors import ReplicationFailed, RunFailed, RunInterrupted
from .results import ReplicationFrames, ReplicationPayload, RunResults
from .signals import SigintGuard, signal_of
from .tables import LABEL_COLUMNS, TABLES, from_arrow, to_arrow

__all__ = [
    "LABEL_COLUMNS",
    "ReplicationFailed",
    "ReplicationFrames",
    "ReplicationPayload",
    "RunFailed",
    "RunInterrupted",
    "RunResults",
    "format_ids",
    "run_batch",
    "run_one",
    "run_scenario",
    "tidy",
]

class Sink(Protocol):
    """Where :func:`run_scenario` hands finished replications, in replication order."""

    def add(self, payload: ReplicationPayload) -> None: ...


class _MemorySink:
    def __init__(self) -> None:
        self.tables: dict[str, list[pa.Table]] = {name: [] for name in TABLES}

    def add(self, payload: ReplicationPayload) -> None:
        for name in TABLES:
            self.tables[name].append(payload.tables[name])

    def frames(self) -> dict[str, pd.DataFrame]:
        return {name: from_arrow(parts, name) for name, parts in self.tables.items()}


# ---- one replication ---------------------------------------------------------------------

def run_one(scenario: Scenario, seed: int, replication: int) -> ReplicationFrames:
    """Run one replication and return its frames with ``replication`` and ``date`` added."""
    t0 = time.perf_counter()
    res = run_replication(scenario, seed=seed, replication=replication)
    wall = time.perf_counter() - t0
    frames = {
        name: _with_run_columns(getattr(res, name), scenario.start_date, replication)
        for name in TABLES
    }
    projects = res.projects.copy()
    projects.insert(0, "replication", np.int32(replication))
    return ReplicationFrames(replication, frames["timeseries"], frames["flows"],
                             frames["production"], frames["stockpiles"], res.balance,
                             res.event_count, res.step_days, wall, frames["prices"], projects)


def payload_of(frames: ReplicationFrames, scenario: Scenario, seed: int,
               disruption: str | None = None) -> ReplicationPayload:
    """Pack one replication's frames into a compact :class:`ReplicationPayload`."""
    ts = frames.timeseries
    curve, stats = _summaries.sector_curve(ts)
    return ReplicationPayload(
        replication=frames.replication, seed=seed,
        tables={name: to_arrow(name, getattr(frames, name)) for name in TABLES},
        summaries=_summaries.replication_summaries(ts, scenario, disruption,
                                                   projects=frames.projects,
                                                   prices=frames.prices, seed=seed),
        curve=curve, sector_stats=stats,
        balance=frames.balance, event_count=frames.event_count, step_days=frames.step_days,
        wall_seconds=frames.wall_seconds,
    )


def run_batch(scenario: Scenario, seed: int, replications: Sequence[int],
              disruption: str | None = None) -> list[ReplicationPayload]:
    """Run ``replications`` one after another (the unit of work of every evaluator);
    ``disruption`` anchors the time to survive (:func:`~simulator.analysis.tts_anchors`).

    An exception in a replication is raised as :exc:`ReplicationFailed` naming the
    replication and seed, carrying the replications of this batch that finished before it.
    """
    done: list[ReplicationPayload] = []
    for r in replications:
        try:
            done.append(payload_of(run_one(scenario, seed, r), scenario, seed, disruption))
        except Exception as exc:
            raise ReplicationFailed(
                r, seed, type(exc).__name__, str(exc),
                "".join(traceback.format_exception(exc)), done) from None
    return done


# ---- many replications -------------------------------------------------------------------

def run_scenario(
    scenario: Scenario,
    replications: int | Iterable[int] = 1,
    seed: int = 0,
    on_done: Callable[[ReplicationPayload], None] | None = None,
    *,
    evaluator=None,
    sink: Sink | None = None,
    disruption: str | None = None,
    saved: Mapping[int, Callable[[], ReplicationPayload]] | None = None,
) -> RunResults:
    """Run ``replications`` of ``scenario`` (a count N for 0..N-1, or the ids to run).

    ``evaluator`` runs the work (default: a ``SequentialEvaluator``, in this process).
    Finished replications go to ``sink.add`` in replication order; without a sink the
    returned :class:`RunResults` holds the tables in memory. ``on_done`` is called per finished
    replication in completion order (progress bars). ``disruption`` names the event every
    sector's time to survive counts from (``KeyError`` listing the ids if unknown).
    ``saved`` maps replications finished earlier (a resumed run) to loaders of their payloads:
    they are not run again, only handed on in their place.

    On Ctrl-C (or another stop signal, :mod:`~simulator.runner.signals`), raises
    :exc:`RunInterrupted`; if a replication raises, :exc:`ReplicationFailed`
    (naming it and the seed); if the executor breaks (a worker process died), :exc:`RunFailed`.
    Either way pending work is cancelled, every replication that finished has been handed to
    the sink, and the exception's ``partial`` holds the run's results so far.
    """
    from ..analysis.anchors import check_event
    from .executors import SequentialEvaluator

    ids = _replication_ids(replications)
    if disruption is not None:
        check_event(scenario, disruption)
    results = RunResults(
        scenario_name=scenario.name, seed=seed, replications_requested=len(ids),
        step_days=scenario.simulation.step_days, started_at=_utcnow(), requested_ids=ids,
        disruption=disruption)
    make_spill = getattr(sink, "spill", None)
    if callable(make_spill):  # a run folder: summaries to disk as they come
        results.spill = make_spill()
    memory = _MemorySink() if sink is None else None
    out: Sink = memory if memory is not None else sink  # type: ignore[assignment]

    def deliver(payload: ReplicationPayload) -> None:
        out.add(payload)
        results.add(payload)

    def finish() -> RunResults:
        results.finished_at = _utcnow()
        if memory is not None:
            for name, frame in memory.frames().items():
                setattr(results, name, frame)
        return results

    ev = evaluator if evaluator is not None else SequentialEvaluator()
    job: Job[int, ReplicationPayload] = Job(
        units=ids,
        task=lambda batch: (run_batch, (scenario, seed, batch, disruption)),
        key=lambda p: p.replication,
        label=lambda batch: f"replication(s) {format_ids(batch)} (seed {seed})")
    driver = Driver(job, ev, deliver, on_done, saved)
    try:
        with SigintGuard() as guard:
            driver.run(guard)
    except KeyboardInterrupt as exc:
        results.executor = describe(ev)
        raise RunInterrupted(finish(), signal_of(exc)) from exc
    except RunFailed as exc:
        results.executor = describe(ev)
        results.error = exc.record()
        exc.partial = finish()
        raise
    results.executor = describe(ev)
    return finish()


def _replication_ids(replications: int | Iterable[int]) -> list[int]:
    if isinstance(replications, int | np.integer):
        if replications < 1:
            raise ValueError("replications must be >= 1")
        return list(range(int(replications)))
    ids = sorted({int(r) for r in replications})
    if not ids:
        raise ValueError("no replications to run")
    if ids[0] < 0:
        raise ValueError("replication ids must be >= 0")
    return ids


# ---- frames ------------------------------------------------------------------------------

def tidy(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Canonical form of a run table: label columns categorical with sorted categories, rows
    sorted (stably) by replication, day and labels, a fresh RangeIndex."""
    return from_arrow([to_arrow(table, df)], table)


def _with_run_columns(df: pd.DataFrame, start: dt.date, replication: int) -> pd.DataFrame:
    day = df["day"].to_numpy(dtype=np.int32)
    date = (np.datetime64(start, "D") + day.astype("timedelta64[D]")).astype("datetime64[ns]")
    out = df.copy()
    out.insert(0, "replication", np.full(len(df), replication, dtype=np.int32))
    out.insert(out.columns.get_loc("day") + 1, "date", date)
    return out


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
