"""Tables of a finished sweep: the long results and per-point summaries.

- :func:`sweep_table` (``sweep.parquet``): one row per design point x replication x demand
  sector x KPI: ``point, hash, <param columns>, [oat_param, oat_level,] replication,
  demand_id, country, sector, material, kpi, value``. Demand ``all`` rows hold the
  whole-scenario KPIs.
- :func:`point_summary` (``points.csv``): one row per point x demand sector x KPI with ``n``,
  ``n_valid``, ``mean``, ``ci95_low``, ``ci95_high`` (t interval of the mean over the finite
  values) and ``p5, p10, p50, p90, p95`` (linear interpolation; for the time metrics a NaN,
  "never within the horizon", counts as +inf, as in :func:`~simulator.analysis.summarize`).

"Which stockpile size keeps Japan's EV fill rate >= 95 % in 90 % of runs?" is::

    s = pd.read_csv("points.csv")
    s.query("kpi == 'fill_rate' and demand_id == 'jp_magnet_ev' and p10 >= 0.95")[PARAM].min()
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.metrics import t_critical_95
from .points import Plan, read_point

__all__ = ["PERCENTILES", "SUMMARY_STATS", "point_summary", "sweep_table"]

PERCENTILES = (5, 10, 50, 90, 95)
SUMMARY_STATS = ["n", "n_valid", "mean", "ci95_low", "ci95_high",
                 *[f"p{q}" for q in PERCENTILES]]
_KEYS = ["demand_id", "country", "sector", "material", "kpi", "unit"]


def _param_frame(plan: Plan) -> pd.DataFrame:
    """One row per design point: point, hash, parameter columns, design columns."""
    frame = pd.DataFrame({"point": np.arange(len(plan.points), dtype=np.int32),
                          "hash": [p.hash for p in plan.points]})
    for name in plan.design.params:
        col = pd.Series([p.values[name] for p in plan.points], name=name)
        if col.dtype == object and col.map(type).nunique() > 1:
            col = col.astype(str)
        frame[name] = col.to_numpy()
    for col in plan.design.meta.columns:
        frame[col] = plan.design.meta[col].to_numpy()
    return frame


def sweep_table(plan: Plan, out_dir: str | Path) -> pd.DataFrame:
    """The long results of every design point whose result file exists in ``out_dir``
    (points run once per distinct hash are repeated for every design point that has it)."""
    params = _param_frame(plan)
    parts = {}
    for h in plan.unique_hashes:
        f = Path(out_dir) / "points" / f"{h}.parquet"
        if f.exists():
            parts[h] = read_point(f, plan.identity(h))  # PointFileError if damaged
    frames = []
    for row in params.itertuples(index=False):
        part = parts.get(row.hash)
        if part is None:
            continue
        frames.append(part.assign(point=np.int32(row.point)))
    if not frames:
        return params.iloc[:0].assign(replication=np.int32(0), demand_id="", country="",
                                      sector="", material="", kpi="", unit="",
                                      value=0.0).iloc[:0]
    long = pd.concat(frames, ignore_index=True)
    out = params.merge(long, on="point", how="inner", sort=False)
    for col in ("demand_id", "country", "sector", "material", "kpi", "unit"):
        out[col] = out[col].astype(str)
    return out.sort_values(["point", "replication", "demand_id", "kpi"],
                           kind="stable").reset_index(drop=True)


def _stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Row-wise statistics of ``values`` [groups, replications] (NaN = +inf for
    percentiles, left out of the mean and its interval)."""
    finite = np.isfinite(values)
    n_valid = finite.sum(axis=1)
    safe = np.where(finite, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_valid > 0, safe.sum(axis=1) / np.maximum(n_valid, 1), np.nan)
        dev = np.where(finite, values - mean[:, None], 0.0)
        sd = np.sqrt((dev**2).sum(axis=1) / np.maximum(n_valid - 1, 1))
        t = np.array([t_critical_95(int(k) - 1) if k >= 2 else np.nan for k in n_valid])
        half = t * sd / np.sqrt(np.maximum(n_valid, 1))
    out = {"n": np.full(len(values), values.shape[1]), "n_valid": n_valid, "mean": mean,
           "ci95_low": mean - half, "ci95_high": mean + half}
    x = np.sort(np.where(np.isnan(values), np.inf, values), axis=1)
    size = x.shape[1]
    all_nan = np.isnan(values).all(axis=1)
    for q in PERCENTILES:
        pos = (size - 1) * q / 100.0
        lo = int(np.floor(pos))
        hi = min(lo + 1, size - 1)
        frac = pos - lo
        a, b = x[:, lo], x[:, hi]
        with np.errstate(invalid="ignore"):
            val = np.where((frac == 0) | (a == b), a, a + (b - a) * frac)
        out[f"p{q}"] = np.where(all_nan, np.nan, val)
    return out


def point_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per point x demand sector x KPI statistics of :func:`sweep_table` rows (see the module
    docstring), with the point's parameter and design columns first."""
    if table.empty:
        return pd.DataFrame(columns=["point", *_KEYS, *SUMMARY_STATS])
    head = [c for c in table.columns
            if c not in ("replication", "value", *_KEYS)]
    reps = np.sort(table["replication"].unique())
    wide = (table.set_index(["point", *_KEYS, "replication"])["value"]
            .unstack("replication").reindex(columns=reps))
    stats = _stats(wide.to_numpy(dtype=np.float64))
    out = wide.index.to_frame(index=False)
    for k, v in stats.items():
        out[k] = v
    firsts = table.drop_duplicates("point")[head]
    out = firsts.merge(out, on="point", how="right")
    return out.sort_values(["point", "demand_id", "kpi"], kind="stable").reset_index(drop=True)
