"""Paired scenario comparison over common random numbers.

Replication ``r`` of two scenarios run with the same seed draws the same random numbers for
every random source they share (docs/engine.md, "Randomness"), so the per-replication
difference ``b - a`` removes the noise the two runs have in common. Formulas: docs/metrics.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .metrics import SUMMARY_METRICS, t_critical_95

__all__ = ["PAIRED_COLUMNS", "PAIR_COLUMNS", "comparison_pairs", "paired_differences",
           "pairs_table", "unique_names"]

PAIRED_COLUMNS = [
    "demand_id", "country", "sector", "material", "metric", "n_pairs", "n", "mean_a",
    "mean_b", "mean_diff", "ci95_low", "ci95_high", "ci_excludes_zero",
]
_LABELS = ("country", "sector", "material")


NOISE = 1e-9
"""Relative size below which a paired difference is rounding, not a difference."""


def _excludes_zero(low: float, high: float, xa: np.ndarray, xb: np.ndarray) -> bool:
    """Whether the CI ``[low, high]`` excludes 0 by more than floating-point noise."""
    scale = max(1.0, float(np.abs(xa).max(initial=0.0)), float(np.abs(xb).max(initial=0.0)))
    return bool(low > NOISE * scale or high < -NOISE * scale)


def paired_differences(
    metrics_a: pd.DataFrame,
    metrics_b: pd.DataFrame,
    metrics: Sequence[str] = SUMMARY_METRICS,
) -> pd.DataFrame:
    """Per demand sector x metric, the mean paired difference ``b - a`` and its 95% CI.

    Both frames are :func:`~simulator.analysis.metrics.replication_metrics` outputs (one row
    per replication x demand_id). Rows are paired on (replication, demand_id); unmatched rows
    are ignored. For each demand sector and metric, with ``d_r = b_r - a_r`` over the ``n``
    pairs where both values are finite (a NaN time - no shortfall / not recovered - drops
    the pair; booleans such as ``recovered`` count as 0/1):

    - ``mean_diff`` = mean d_r; ``ci95_low``/``ci95_high`` = mean_diff -+ t(0.975, n-1) *
      sd(d) / sqrt(n) (paired t; NaN for n < 2);
    - ``ci_excludes_zero``: ``ci95_low > 0 or ci95_high < 0`` beyond floating-point noise
      (1e-9 of the values' size: two runs that differ only in rounding are not "different");
      False when the CI is NaN;
    - ``mean_a``, ``mean_b``: means over the same n pairs; ``n_pairs``: matched replications.

    Columns :data:`PAIRED_COLUMNS`; labels (country, sector, material) are taken from ``a``.
    """
    missing = [m for m in metrics
               if m not in metrics_a.columns or m not in metrics_b.columns]
    if missing:
        raise ValueError(f"metric column(s) missing from a or b: {', '.join(missing)}")
    cols = ["replication", "demand_id", *metrics]
    a = metrics_a[[*cols, *[c for c in _LABELS if c in metrics_a]]].copy()
    b = metrics_b[cols].copy()
    for df in (a, b):
        df["demand_id"] = df["demand_id"].astype(str)
        df["replication"] = df["replication"].astype(np.int64)
    joined = a.merge(b, on=["replication", "demand_id"], how="inner", suffixes=("_a", "_b"),
                     validate="one_to_one")
    rows = []
    for did, g in joined.groupby("demand_id", sort=True):
        first = g.iloc[0]
        labels = {"demand_id": str(did), **{c: str(first[c]) for c in _LABELS if c in g}}
        for m in metrics:
            xa = g[f"{m}_a"].to_numpy(dtype=np.float64)
            xb = g[f"{m}_b"].to_numpy(dtype=np.float64)
            ok = np.isfinite(xa) & np.isfinite(xb)
            xa, xb = xa[ok], xb[ok]
            d = xb - xa
            n = int(d.size)
            mean = float(d.mean()) if n else math.nan
            if n >= 2:
                half = t_critical_95(n - 1) * float(d.std(ddof=1)) / math.sqrt(n)
                low, high = mean - half, mean + half
            else:
                low = high = math.nan
            rows.append({
                **labels, "metric": m, "n_pairs": len(g), "n": n,
                "mean_a": float(xa.mean()) if n else math.nan,
                "mean_b": float(xb.mean()) if n else math.nan,
                "mean_diff": mean, "ci95_low": low, "ci95_high": high,
                "ci_excludes_zero": _excludes_zero(low, high, xa, xb),
            })
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in PAIRED_COLUMNS})
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)


def unique_names(names: Sequence[str]) -> list[str]:
    """Compared scenarios' names made unique: the second ``baseline`` is ``baseline-2``."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return out


PAIR_COLUMNS = [
    "level", "group", "metric", "reference", "scenario", "n", "mean_reference",
    "mean_scenario", "diff_mean", "ci95_low", "ci95_high", "ci_excludes_zero", "unit",
]


def comparison_pairs(names: Sequence[str], references: Sequence[str],
                     seeds: Mapping[str, int | None] | None = None) -> list[tuple[str, str]]:
    """The ``(reference, scenario)`` pairs whose paired difference ``scenario - reference``
    a comparison reports, in order: every other scenario against each of ``references`` in
    turn (in ``names`` order), then every remaining pair as later minus earlier in
    ``names``. Pairs whose ``seeds`` differ share no random numbers and are left out.

    Raises ``ValueError`` for a reference not in ``names``."""
    unknown = [r for r in references if r not in names]
    if unknown:
        raise ValueError(f"not a compared scenario: {', '.join(unknown)}")
    seeds = seeds or {}
    out: list[tuple[str, str]] = []
    covered: set[frozenset[str]] = set()
    for ref in dict.fromkeys(references):
        for other in names:
            if other != ref:
                out.append((ref, other))
                covered.add(frozenset((ref, other)))
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if frozenset((a, b)) not in covered:
                out.append((a, b))
    return [(a, b) for a, b in out if seeds.get(a) == seeds.get(b)]


def pairs_table(level_metrics: Mapping[str, Mapping[str, pd.DataFrame]],
                pairs: Sequence[tuple[str, str]],
                metrics: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Every pair's paired differences (:data:`PAIR_COLUMNS`, ``pairs.csv`` of a
    comparison): ``level_metrics[level][scenario]`` are replication-metrics frames and
    ``metrics[level]`` the metrics to difference at that level; ``diff_mean`` is
    ``scenario - reference`` (:func:`paired_differences`), rows in ``pairs`` order;
    ``unit`` names what ``units_short`` counts (the reference's unit; ``""`` on other rows)."""
    frames = []
    for a, b in pairs:
        for level, per in level_metrics.items():
            d = paired_differences(per[a], per[b], metrics=metrics[level])
            if d.empty:
                continue
            first = per[a].drop_duplicates("demand_id")
            units = (dict(zip(first["demand_id"].astype(str),
                              first["unit"].fillna("").astype(str), strict=True))
                     if "unit" in first else {})
            unit = [units.get(str(g), "") if m == "units_short" else ""
                    for g, m in zip(d["demand_id"], d["metric"], strict=True)]
            frames.append(pd.DataFrame({
                "level": level, "group": d["demand_id"], "metric": d["metric"],
                "reference": a, "scenario": b, "n": d["n"], "mean_reference": d["mean_a"],
                "mean_scenario": d["mean_b"], "diff_mean": d["mean_diff"],
                "ci95_low": d["ci95_low"], "ci95_high": d["ci95_high"],
                "ci_excludes_zero": d["ci_excludes_zero"], "unit": unit}))
    if not frames:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in PAIR_COLUMNS})
    return pd.concat(frames, ignore_index=True)[PAIR_COLUMNS]
