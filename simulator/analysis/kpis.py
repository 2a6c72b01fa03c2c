"""Supply-security KPIs from a run's tidy time series.

Input frames are the runner's ``timeseries`` table (one row per replication x step x demand
sector with ``demand_t``, ``delivered_t``, ``shortfall_t``); a frame straight from the engine
(no ``replication`` or ``date`` column) is read as replication 0 without dates.

Fill rate is delivered / demanded tonnes; a step or period with no demand counts as 1.0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "KPI_COLUMNS",
    "fill_rate",
    "fill_rate_curve",
    "group_summary",
    "kpi_percentiles",
    "sector_kpis",
]

KPI_COLUMNS = [
    "replication", "demand_id", "country", "sector", "material",
    "demand_t", "delivered_t", "fill_rate", "trough_fill_rate", "trough_day", "trough_date",
    "cumulative_shortfall_t",
]
PERCENTILES = (5, 50, 95)


def fill_rate(delivered: pd.Series | np.ndarray | float, demand: pd.Series | np.ndarray | float
              ) -> np.ndarray:
    """The fill rate, delivered over demanded tonnes elementwise, 1.0 where nothing was
    demanded (the one definition every table, figure and sweep uses; docs/metrics.md)."""
    num = np.asarray(delivered, dtype=np.float64)
    den = np.asarray(demand, dtype=np.float64)
    out = np.ones_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out



def _prepared(timeseries: pd.DataFrame) -> pd.DataFrame:
    ts = timeseries
    if "replication" not in ts.columns:
        ts = ts.assign(replication=np.int32(0))
    if "date" not in ts.columns:
        ts = ts.assign(date=pd.Series(pd.NaT, index=ts.index, dtype="datetime64[ns]"))
    return ts


def sector_kpis(timeseries: pd.DataFrame) -> pd.DataFrame:
    """One row per replication x demand sector (``demand_id``), columns :data:`KPI_COLUMNS`.

    - ``fill_rate``: total delivered / total demand over the horizon;
    - ``trough_fill_rate``: the lowest single-step fill rate, at ``trough_day`` / ``trough_date``
      (the first such step);
    - ``cumulative_shortfall_t``: total tonnes short over the horizon.
    """
    ts = _prepared(timeseries)
    if ts.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in KPI_COLUMNS})
    ts = ts.assign(_step_fill=fill_rate(ts["delivered_t"], ts["demand_t"]))
    ts = ts.sort_values(["replication", "demand_id", "day"], kind="stable").reset_index(drop=True)
    grouped = ts.groupby(["replication", "demand_id"], observed=True, sort=True)
    out = grouped.agg(
        country=("country", "first"), sector=("sector", "first"),
        material=("material", "first"), demand_t=("demand_t", "sum"),
        delivered_t=("delivered_t", "sum"), cumulative_shortfall_t=("shortfall_t", "sum"),
        trough_fill_rate=("_step_fill", "min"),
    )
    trough_rows = ts.loc[grouped["_step_fill"].idxmin().to_numpy()]
    out["trough_day"] = trough_rows["day"].to_numpy()
    out["trough_date"] = trough_rows["date"].to_numpy()
    out["fill_rate"] = fill_rate(out["delivered_t"], out["demand_t"])
    out = out.reset_index()
    for col in ("demand_id", "country", "sector", "material"):
        out[col] = out[col].astype(str)
    out["replication"] = out["replication"].astype(np.int32)
    return out[KPI_COLUMNS]


def fill_rate_curve(timeseries: pd.DataFrame, by: str | Sequence[str] = ("sector",)
                    ) -> pd.DataFrame:
    """Fill rate per step per group per replication.

    Columns: replication, day, date, ``*by``, demand_t, delivered_t, shortfall_t, fill_rate, where
    the tonnes are summed within the group (e.g. over countries for ``by=("sector",)``) and
    ``fill_rate`` = delivered_t / demand_t of the group (1.0 with no demand).
    """
    by = [by] if isinstance(by, str) else list(by)
    ts = _prepared(timeseries)
    keys = ["replication", "day", *by]
    curve = (ts.groupby(keys, observed=True, sort=True)
             .agg(date=("date", "first"), demand_t=("demand_t", "sum"),
                  delivered_t=("delivered_t", "sum"), shortfall_t=("shortfall_t", "sum"))
             .reset_index())
    curve["fill_rate"] = fill_rate(curve["delivered_t"], curve["demand_t"])
    return curve[["replication", "day", "date", *by, "demand_t", "delivered_t",
                  "shortfall_t", "fill_rate"]]


def _pct(values: pd.Series, q: float) -> float:
    return float(np.percentile(values.to_numpy(dtype=np.float64), q))


def kpi_percentiles(kpis: pd.DataFrame, percentiles: Sequence[float] = PERCENTILES
                    ) -> pd.DataFrame:
    """Across replications, per demand sector: P5/P50/P95 of ``fill_rate``,
    ``trough_fill_rate`` and ``cumulative_shortfall_t`` (columns ``<kpi>_p5`` ...)."""
    keys = ["demand_id", "country", "sector", "material"]
    rows = []
    for key, g in kpis.groupby(keys, sort=True):
        row = dict(zip(keys, key, strict=True))
        row["replications"] = len(g)
        for kpi in ("fill_rate", "trough_fill_rate", "cumulative_shortfall_t"):
            for q in percentiles:
                row[f"{kpi}_p{q:g}"] = _pct(g[kpi], q)
        rows.append(row)
    return pd.DataFrame(rows)


def group_summary(timeseries: pd.DataFrame, by: str = "sector") -> pd.DataFrame:
    """One row per group (summed over countries) across replications: ``fill_rate_min`` and
    ``fill_rate_p50`` of the horizon fill rate, ``trough_fill_rate_min`` (worst single step in
    any replication), ``shortfall_t_mean`` and ``shortfall_t_max`` of total tonnes short."""
    curve = fill_rate_curve(timeseries, by=(by,))
    per_rep = (curve.groupby(["replication", by], observed=True, sort=True)
               .agg(demand_t=("demand_t", "sum"), delivered_t=("delivered_t", "sum"),
                    shortfall_t=("shortfall_t", "sum"), trough=("fill_rate", "min"))
               .reset_index())
    per_rep["fill_rate"] = fill_rate(per_rep["delivered_t"], per_rep["demand_t"])
    out = (per_rep.groupby(by, observed=True, sort=True)
           .agg(replications=("replication", "nunique"),
                fill_rate_min=("fill_rate", "min"),
                fill_rate_p50=("fill_rate", "median"),
                trough_fill_rate_min=("trough", "min"),
                shortfall_t_mean=("shortfall_t", "mean"),
                shortfall_t_max=("shortfall_t", "max"))
           .reset_index())
    out[by] = out[by].astype(str)
    return out
