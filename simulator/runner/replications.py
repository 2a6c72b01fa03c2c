"""Replications of one scenario, run in order; tidy frames with ``replication`` and ``date``.

The unit of work is :func:`run_one` (one replication in, plain frames out). It is a top-level,
picklable function of picklable arguments so a process pool or a Dask cluster can call it later;
:func:`run_scenario` only loops over it and stitches the pieces together.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..engine import run_replication
from ..engine.recorder import FLOW_COLUMNS, PRODUCTION_COLUMNS, TIMESERIES_COLUMNS
from ..scenario.models import Scenario

__all__ = [
    "LABEL_COLUMNS",
    "ReplicationFrames",
    "RunInterrupted",
    "RunResults",
    "run_one",
    "run_scenario",
    "tidy",
]

#: Label columns that order rows after ``replication`` and ``day``, per table.
LABEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "timeseries": ("country", "sector", "demand_id", "material"),
    "flows": ("origin", "destination", "material"),
    "production": ("facility", "country", "stage", "material"),
}
TABLES = tuple(LABEL_COLUMNS)


@dataclass(frozen=True)
class ReplicationFrames:
    """What one replication returns: the engine's tables plus bookkeeping."""

    replication: int
    timeseries: pd.DataFrame
    flows: pd.DataFrame
    production: pd.DataFrame
    balance: pd.DataFrame
    event_count: int
    step_days: int
    wall_seconds: float


@dataclass
class RunResults:
    """All replications of one run, concatenated.

    ``timeseries``, ``flows`` and ``production`` start with ``replication`` (int32), ``day``
    (int32) and ``date`` (datetime64[ns] = start date + day), then the engine's columns; rows
    are sorted by replication, day and labels. ``balance`` holds each replication's mass-balance
    table; ``event_counts`` and ``wall_seconds`` are per replication, in replication order.
    """

    scenario_name: str
    seed: int
    replications_requested: int
    step_days: int
    timeseries: pd.DataFrame
    flows: pd.DataFrame
    production: pd.DataFrame
    balance: dict[int, pd.DataFrame] = field(default_factory=dict)
    event_counts: list[int] = field(default_factory=list)
    wall_seconds: list[float] = field(default_factory=list)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    @property
    def replications(self) -> int:
        """Replications completed."""
        return len(self.event_counts)

    @property
    def complete(self) -> bool:
        return self.replications == self.replications_requested

    def balance_table(self) -> pd.DataFrame:
        """Every replication's mass-balance ledger in one table with a ``replication`` column."""
        parts = [b.assign(replication=np.int32(r)) for r, b in sorted(self.balance.items())]
        if not parts:
            return pd.DataFrame({"replication": pd.Series([], dtype=np.int32)})
        table = pd.concat(parts, ignore_index=True)
        return table[["replication", *[c for c in table.columns if c != "replication"]]]


class RunInterrupted(KeyboardInterrupt):
    """Raised by :func:`run_scenario` on Ctrl-C; ``partial`` holds the finished replications."""

    def __init__(self, partial: RunResults):
        super().__init__(f"interrupted after {partial.replications} replication(s)")
        self.partial = partial


def run_one(scenario: Scenario, seed: int, replication: int) -> ReplicationFrames:
    """Run one replication and return its frames with ``replication`` and ``date`` added."""
    t0 = time.perf_counter()
    res = run_replication(scenario, seed=seed, replication=replication)
    wall = time.perf_counter() - t0
    frames = {
        name: _with_run_columns(getattr(res, name), scenario.start_date, replication)
        for name in TABLES
    }
    return ReplicationFrames(replication, frames["timeseries"], frames["flows"],
                             frames["production"], res.balance, res.event_count, res.step_days,
                             wall)


def run_scenario(
    scenario: Scenario,
    replications: int = 1,
    seed: int = 0,
    on_done: Callable[[ReplicationFrames], None] | None = None,
) -> RunResults:
    """Run replications ``0..replications-1`` of ``scenario`` one after another.

    ``on_done`` is called after each replication (progress bars). On Ctrl-C, raises
    :exc:`RunInterrupted` carrying the replications finished so far.
    """
    if replications < 1:
        raise ValueError("replications must be >= 1")
    started = _utcnow()
    done: list[ReplicationFrames] = []
    try:
        for r in range(replications):
            done.append(run_one(scenario, seed, r))
            if on_done is not None:
                on_done(done[-1])
    except KeyboardInterrupt as exc:
        raise RunInterrupted(combine(scenario, seed, replications, done, started)) from exc
    return combine(scenario, seed, replications, done, started)


def combine(scenario: Scenario, seed: int, requested: int, parts: Sequence[ReplicationFrames],
            started_at: dt.datetime | None = None) -> RunResults:
    """Stitch per-replication frames (in any order) into one :class:`RunResults`."""
    parts = sorted(parts, key=lambda p: p.replication)
    frames = {
        name: tidy(name, pd.concat([getattr(p, name) for p in parts], ignore_index=True)
                   if parts else _with_run_columns(_empty(name), scenario.start_date, 0))
        for name in TABLES
    }
    return RunResults(
        scenario_name=scenario.name, seed=seed, replications_requested=requested,
        step_days=scenario.simulation.step_days,
        timeseries=frames["timeseries"], flows=frames["flows"], production=frames["production"],
        balance={p.replication: p.balance for p in parts},
        event_counts=[p.event_count for p in parts],
        wall_seconds=[p.wall_seconds for p in parts],
        started_at=started_at, finished_at=_utcnow(),
    )


def tidy(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Canonical form of a run table: label columns categorical with sorted categories, rows
    sorted (stably) by replication, day and labels, a fresh RangeIndex."""
    df = df.copy()
    labels = LABEL_COLUMNS[table]
    for col in labels:
        values = df[col].astype(object)
        cats = sorted({str(v) for v in values if not pd.isna(v)})
        df[col] = pd.Categorical(values, categories=cats)
    df = df.sort_values(["replication", "day", *labels], kind="stable")
    return df.reset_index(drop=True)


def _with_run_columns(df: pd.DataFrame, start: dt.date, replication: int) -> pd.DataFrame:
    day = df["day"].to_numpy(dtype=np.int32)
    date = (np.datetime64(start, "D") + day.astype("timedelta64[D]")).astype("datetime64[ns]")
    out = df.copy()
    out.insert(0, "replication", np.full(len(df), replication, dtype=np.int32))
    out.insert(out.columns.get_loc("day") + 1, "date", date)
    return out


def _empty(table: str) -> pd.DataFrame:
    """An engine table with no rows and the engine's dtypes."""
    cols = {"timeseries": TIMESERIES_COLUMNS, "flows": FLOW_COLUMNS,
            "production": PRODUCTION_COLUMNS}[table]
    data: dict[str, object] = {}
    for c in cols:
        if c == "day":
            data[c] = np.array([], dtype=np.int32)
        elif c.endswith("_t") or c == "tonnes":
            data[c] = np.array([], dtype=np.float64)
        else:
            data[c] = pd.Categorical([])
    return pd.DataFrame(data, columns=cols)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
