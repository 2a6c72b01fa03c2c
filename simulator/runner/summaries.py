"""Small per-replication summaries computed where a replication runs, combined in the parent.

A worker returns, besides its replication's tables, only what the run-level outputs need:

- :func:`replication_summaries`: named per-replication tables written as ``<name>.csv``
  (``kpis``: the headline fill-rate KPIs and units not built; ``metrics``: every
  resilience metric of :func:`~simulator.analysis.metrics.replication_metrics`);
- :class:`SectorCurve`: fill rate and shortfall per step per sector (float32), for the
  fill-rate figure;
- the sector statistics behind the run's console table (also :func:`sector_curve`).

The parent never needs every daily series of every replication at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis.kpis import KPI_COLUMNS, fill_rate, sector_kpis
from ..analysis.metrics import METRIC_COLUMNS, replication_metrics
from ..engine.investment import PROJECT_COLUMNS
from ..scenario.models import Scenario

__all__ = [
    "FIGURE_MAX_REPLICATIONS",
    "SUMMARY_COLUMNS",
    "SectorCurve",
    "combine_sector_stats",
    "curve_frame",
    "long_frame",
    "replication_summaries",
    "sector_curve",
]

#: Above this many replications, the figure is drawn from the 0th..100th percentiles per step.
FIGURE_MAX_REPLICATIONS = 101
_GROUP = "sector"


def replication_summaries(timeseries: pd.DataFrame, scenario: Scenario,
                          disruption: str | None = None,
                          projects: pd.DataFrame | None = None,
                          prices: pd.DataFrame | None = None,
                          seed: int | None = None) -> dict[str, pd.DataFrame]:
    """Per-replication tables for one (or more) replications' ``timeseries``; each is written
    as ``<name>.csv`` with the rows of every replication, in replication order.
    ``disruption`` anchors the time to survive (default: per sector, see docs/metrics.md);
    ``projects`` are the replication's plants built on price (``replication`` first, then
    :data:`~simulator.engine.investment.PROJECT_COLUMNS`); ``prices`` value the shortfall
    (``value_at_risk_usd``); ``seed`` (the run's) dates uncertain events per replication."""
    metrics = replication_metrics(timeseries, scenario, event_id=disruption, prices=prices,
                                  seed=seed)
    out = {"kpis": _with_units(sector_kpis(timeseries), metrics), "metrics": metrics}
    if projects is not None:
        out["projects"] = projects
    return out


#: Columns of the run's ``kpis.csv``: the headline KPIs and the units not built.
RUN_KPI_COLUMNS = [*KPI_COLUMNS, "unit", "units_short"]


def _with_units(kpis: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """``kpis`` with ``unit`` and ``units_short`` of the same replication and demand sector
    from ``metrics`` (``""`` and NaN for a demand sector without ``units``)."""
    if kpis.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in RUN_KPI_COLUMNS})
    keys = ["replication", "demand_id"]
    units = metrics[[*keys, "unit", "units_short"]].astype({"demand_id": str})
    out = kpis.astype({"demand_id": str}).merge(units, on=keys, how="left",
                                                validate="one_to_one")
    out["unit"] = out["unit"].fillna("")
    return out[RUN_KPI_COLUMNS]


#: Columns of each summary table when no replication finished.
SUMMARY_COLUMNS: dict[str, list[str]] = {"kpis": RUN_KPI_COLUMNS, "metrics": METRIC_COLUMNS,
                                         "projects": ["replication", *PROJECT_COLUMNS]}


@dataclass(frozen=True)
class SectorCurve:
    """One replication's fill rate and shortfall (t per step) per step and sector."""

    days: np.ndarray  # int32 [steps]
    sectors: tuple[str, ...]
    fill_rate: np.ndarray  # float32 [steps, sectors]
    shortfall_t: np.ndarray  # float32 [steps, sectors]

    def same_layout(self, other: SectorCurve) -> bool:
        return self.sectors == other.sectors and np.array_equal(self.days, other.days)


def sector_curve(timeseries: pd.DataFrame) -> tuple[SectorCurve, pd.DataFrame]:
    """One replication's :class:`SectorCurve` and per-sector statistics.

    The same quantities as :func:`~simulator.analysis.kpis.fill_rate_curve` and
    :func:`~simulator.analysis.kpis.group_summary` by sector (tonnes summed over the sector's
    countries and materials per step; fill rate 1.0 with no demand), computed with numpy
    because this runs once per replication. The statistics frame has one row per sector:
    horizon ``fill_rate``, ``trough_fill_rate`` (worst step) and ``shortfall_t`` (total).
    """
    day_index, days = _factorize(timeseries["day"].to_numpy(dtype=np.int32))
    sec_index, sectors = _factorize_labels(timeseries[_GROUP])
    shape = (len(days), len(sectors))
    flat = day_index * len(sectors) + sec_index
    size = shape[0] * shape[1]

    def total(column: str) -> np.ndarray:
        values = timeseries[column].to_numpy(dtype=np.float64)
        return np.bincount(flat, weights=values, minlength=size).reshape(shape)

    demand, delivered, short = total("demand_t"), total("delivered_t"), total("shortfall_t")
    fill = fill_rate(delivered, demand)
    present = np.bincount(flat, minlength=size).reshape(shape) > 0
    trough = np.where(present, fill, np.inf).min(axis=0) if shape[0] else np.ones(shape[1])
    stats = pd.DataFrame({
        _GROUP: np.asarray(sectors, dtype=object),
        "fill_rate": fill_rate(delivered.sum(axis=0), demand.sum(axis=0)),
        "trough_fill_rate": trough,
        "shortfall_t": short.sum(axis=0),
    })
    curve = SectorCurve(days.astype(np.int32), tuple(str(x) for x in sectors),
                        fill.astype(np.float32), short.astype(np.float32))
    return curve, stats


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniques, inverse = np.unique(values, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), uniques


def _factorize_labels(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`_factorize` for a label column (categorical or not), by its string values."""
    cat = values.array if isinstance(values.dtype, pd.CategoricalDtype) else \
        pd.Categorical(values.astype(object))
    names = np.asarray([str(c) for c in cat.categories], dtype=object)
    code_index, used = _factorize(np.asarray(cat.codes, dtype=np.int64))
    if len(used) and used[0] < 0:
        raise ValueError(f"missing {values.name} label in the timeseries")
    order = np.argsort(names[used].astype(str), kind="stable")
    rank = np.empty(len(used), dtype=np.int64)
    rank[order] = np.arange(len(used))
    return rank[code_index], names[used][order]


def combine_sector_stats(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Across replications, per sector, the columns of
    :func:`~simulator.analysis.kpis.group_summary`: ``replications``, ``fill_rate_min``,
    ``fill_rate_p50``, ``trough_fill_rate_min``, ``shortfall_t_mean``, ``shortfall_t_max``."""
    cols = [_GROUP, "replications", "fill_rate_min", "fill_rate_p50", "trough_fill_rate_min",
            "shortfall_t_mean", "shortfall_t_max"]
    if not parts:
        return pd.DataFrame({c: [] for c in cols})
    stats = pd.concat(parts, ignore_index=True)
    out = (stats.groupby(_GROUP, sort=True)
           .agg(replications=("fill_rate", "size"), fill_rate_min=("fill_rate", "min"),
                fill_rate_p50=("fill_rate", "median"),
                trough_fill_rate_min=("trough_fill_rate", "min"),
                shortfall_t_mean=("shortfall_t", "mean"),
                shortfall_t_max=("shortfall_t", "max"))
           .reset_index())
    return out[cols]


def curve_frame(curves: Sequence[tuple[int, SectorCurve]], start_date: dt.date,
                max_replications: int = FIGURE_MAX_REPLICATIONS) -> pd.DataFrame:
    """A sector-level "timeseries" for :func:`~simulator.viz.curves.fill_rate_figure`.

    Columns replication, day, date, sector, demand_t, delivered_t, shortfall_t with
    ``demand_t`` = 1 and ``delivered_t`` = the fill rate, so the figure's own aggregation gives
    back each replication's fill rate. Up to ``max_replications`` replications are passed as
    they are. Beyond that (when every replication has the same steps and sectors), the rows are
    the 0th, 1st, ..., 100th percentiles across replications per step and sector (as pseudo
    replications 0..100): any whole-number percentile of those equals the same percentile over
    all replications, so the P5/P50/P95 bands are unchanged while the figure needs a fraction
    of the memory and time.
    """
    start = np.datetime64(start_date, "D")
    if not curves:
        return _long([], [], start)
    first = curves[0][1]
    if len(curves) > max_replications and all(first.same_layout(c) for _, c in curves):
        q = np.arange(101, dtype=np.float64)
        fill = np.percentile(np.stack([c.fill_rate for _, c in curves]).astype(np.float64),
                             q, axis=0)
        short = np.percentile(np.stack([c.shortfall_t for _, c in curves]).astype(np.float64),
                              q, axis=0)
        pseudo = [SectorCurve(first.days, first.sectors, fill[k], short[k]) for k in range(101)]
        return _long(list(range(101)), pseudo, start)
    return _long([r for r, _ in curves], [c for _, c in curves], start)


def long_frame(reps: list[int], curves: list[SectorCurve], start_date: dt.date) -> pd.DataFrame:
    """The figure's long frame of ``curves`` (one pseudo replication each, ids ``reps``)."""
    return _long(reps, curves, np.datetime64(start_date, "D"))


def _long(reps: list[int], curves: list[SectorCurve], start: np.datetime64) -> pd.DataFrame:
    if not curves:
        return pd.DataFrame({
            "replication": np.array([], np.int32), "day": np.array([], np.int32),
            "date": np.array([], "datetime64[ns]"), _GROUP: pd.Categorical([]),
            "demand_t": np.array([], np.float64), "delivered_t": np.array([], np.float64),
            "shortfall_t": np.array([], np.float64)})
    sectors = sorted({s for c in curves for s in c.sectors})
    code = {s: i for i, s in enumerate(sectors)}
    parts = []
    for r, c in zip(reps, curves, strict=True):
        n_days, n_sec = c.fill_rate.shape
        day = np.repeat(c.days, n_sec)
        parts.append((np.full(n_days * n_sec, r, np.int32), day,
                      np.tile(np.array([code[s] for s in c.sectors], np.int16), n_days),
                      np.asarray(c.fill_rate, np.float64).ravel(),
                      np.asarray(c.shortfall_t, np.float64).ravel()))
    rep, day, sec, fill, short = (np.concatenate(x) for x in zip(*parts, strict=True))
    return pd.DataFrame({
        "replication": rep, "day": day,
        "date": (start + day.astype("timedelta64[D]")).astype("datetime64[ns]"),
        _GROUP: pd.Categorical.from_codes(sec, categories=sectors),
        "demand_t": np.ones(len(rep)), "delivered_t": fill, "shortfall_t": short,
    })
