"""What a run returns: :class:`ReplicationPayload` per replication, :class:`RunResults` per run.

:class:`RunResults` keeps each replication's summaries in memory (lists of small frames), or,
when a run streams into a run folder, hands them to a :class:`~simulator.runner.spill.Spill`
(the parent's memory then does not grow with the number of replications).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from . import summaries as _summaries
from .spill import Spill

__all__ = ["ReplicationFrames", "ReplicationPayload", "RunResults"]


@dataclass(frozen=True)
class ReplicationFrames:
    """What :func:`run_one` returns: the engine's tables plus bookkeeping."""

    replication: int
    timeseries: pd.DataFrame
    flows: pd.DataFrame
    production: pd.DataFrame
    stockpiles: pd.DataFrame
    balance: pd.DataFrame
    event_count: int
    step_days: int
    wall_seconds: float
    prices: pd.DataFrame
    projects: pd.DataFrame | None = None
    """Plants built on price: ``replication`` then the engine's project columns."""


@dataclass(frozen=True)
class ReplicationPayload:
    """What a worker sends back for one replication: compact and cheap to pickle.

    ``tables`` are canonical Arrow tables (:func:`~simulator.runner.tables.to_arrow`);
    ``summaries`` the small per-replication tables of
    :func:`~simulator.runner.summaries.replication_summaries`; ``curve`` and ``sector_stats``
    what the figure and the console table need.
    """

    replication: int
    seed: int
    tables: dict[str, pa.Table]
    summaries: dict[str, pd.DataFrame]
    curve: _summaries.SectorCurve
    sector_stats: pd.DataFrame
    balance: pd.DataFrame
    event_count: int
    step_days: int
    wall_seconds: float


@dataclass
class RunResults:
    """One run: bookkeeping and compact summaries, plus the tables when kept in memory.

    ``timeseries``, ``flows``, ``production``, ``stockpiles`` and ``prices`` (when
    :func:`run_scenario` ran without a sink; ``None`` when they were streamed to disk) start
    with ``replication`` (int32), ``day`` (int32) and ``date`` (datetime64[ns] = start date +
    day), then the engine's columns;
    rows are sorted by replication, day and labels. ``balance`` holds each replication's
    mass-balance table; ``event_counts`` and ``wall_seconds`` are per finished replication, in
    replication order (``replication_ids``).

    With a ``spill`` (a run streamed into a run folder), the per-replication summaries, curves
    and balances go to it instead of ``balance``, ``summary_parts``, ``curves`` and
    ``sector_stat_parts`` (left empty); the methods below read them from it.
    """

    scenario_name: str
    seed: int
    replications_requested: int
    step_days: int
    timeseries: pd.DataFrame | None = None
    flows: pd.DataFrame | None = None
    production: pd.DataFrame | None = None
    stockpiles: pd.DataFrame | None = None
    prices: pd.DataFrame | None = None
    balance: dict[int, pd.DataFrame] = field(default_factory=dict)
    event_counts: list[int] = field(default_factory=list)
    wall_seconds: list[float] = field(default_factory=list)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    requested_ids: list[int] = field(default_factory=list)
    replication_ids: list[int] = field(default_factory=list)
    summary_parts: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    curves: list[tuple[int, _summaries.SectorCurve]] = field(default_factory=list)
    sector_stat_parts: list[pd.DataFrame] = field(default_factory=list)
    executor: dict[str, object] = field(default_factory=lambda: {"executor": "sequential",
                                                                 "workers": 1})
    error: dict[str, object] | None = None
    disruption: str | None = None
    """The event the time to survive counts from (``None``: each sector's default)."""
    spill: Spill | None = None

    @property
    def replications(self) -> int:
        """Replications completed."""
        return len(self.replication_ids)

    @property
    def complete(self) -> bool:
        return self.replication_ids == list(self.requested_ids)

    def add(self, p: ReplicationPayload) -> None:
        """Record a finished replication's compact results (in replication order)."""
        self.replication_ids.append(p.replication)
        self.event_counts.append(p.event_count)
        self.wall_seconds.append(p.wall_seconds)
        if self.spill is not None:
            self.spill.add(p)
            return
        self.balance[p.replication] = p.balance
        for name, table in p.summaries.items():
            self.summary_parts.setdefault(name, []).append(table)
        self.curves.append((p.replication, p.curve))
        self.sector_stat_parts.append(p.sector_stats.assign(replication=np.int32(p.replication)))

    def summary(self, name: str) -> pd.DataFrame:
        """Per-replication summary table ``name`` (e.g. ``kpis``) of every finished
        replication."""
        if self.spill is not None:
            return self.spill.table(name)
        parts = self.summary_parts.get(name, [])
        if not parts:
            return pd.DataFrame({c: [] for c in _summaries.SUMMARY_COLUMNS.get(name, [])})
        return pd.concat(parts, ignore_index=True)

    @property
    def kpis(self) -> pd.DataFrame:
        """Per replication x demand sector KPIs (:func:`~simulator.analysis.sector_kpis`)."""
        return self.summary("kpis")

    def sector_summary(self) -> pd.DataFrame:
        """Per sector across replications, as :func:`~simulator.analysis.group_summary`."""
        if self.spill is not None:
            return self.spill.sector_summary()
        return _summaries.combine_sector_stats(self.sector_stat_parts)

    def curve_frame(self, start_date: dt.date) -> pd.DataFrame:
        """Sector-level fill-rate input for the figure
        (:func:`~simulator.runner.summaries.curve_frame`)."""
        if self.spill is not None:
            return self.spill.curve_frame(start_date)
        return _summaries.curve_frame(self.curves, start_date)

    def balance_table(self) -> pd.DataFrame:
        """Every replication's mass-balance ledger in one table with a ``replication`` column."""
        if self.spill is not None:
            return self.spill.table("balance")
        parts = [b.assign(replication=np.int32(r)) for r, b in sorted(self.balance.items())]
        if not parts:
            return pd.DataFrame({"replication": pd.Series([], dtype=np.int32)})
        table = pd.concat(parts, ignore_index=True)
        return table[["replication", *[c for c in table.columns if c != "replication"]]]
