"""What a comparison shows: the sectors and demand sectors of interest, the ``kpis.csv`` table
(each scenario's KPIs with the paired differences against the reference) and the rows of the
``critmin compare`` table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .inputs import CompareInput

__all__ = [
    "KPI_COLUMNS",
    "PRICE_COLUMNS",
    "SECTOR_METRICS",
    "TABLE_METRICS",
    "auto_smooth_days",
    "demands_of_interest",
    "kpi_table",
    "price_table",
    "sectors_of_interest",
    "table_rows",
]

#: Columns of the comparison's ``kpis.csv``.
KPI_COLUMNS = [
    "level", "group", "country", "sector", "material", "metric", "unit", "scenario", "role",
    "n",
    "mean", "ci95_low", "ci95_high", "p5", "p50", "p95", "share_recovered",
    "tts_anchor_event", "tts_anchor_date", "diff_vs", "diff_n", "diff_mean", "diff_ci95_low",
    "diff_ci95_high", "diff_ci_excludes_zero",
]

#: Metrics of the sector level (summed over countries) in ``kpis.csv`` and ``pairs.csv``.
SECTOR_METRICS = ("fill_rate", "trough_fill_rate", "time_to_survive_days",
                  "time_to_recover_days", "days_below_threshold", "cumulative_shortfall_t",
                  "resilience_loss_pct_days", "units_short", "demand_destroyed_t",
                  "demand_thrifted_t")

#: Metrics in the standard-output table of ``critmin compare``, in order.
TABLE_METRICS = ("fill_rate", "trough_fill_rate", "cumulative_shortfall_t", "units_short",
                 "days_below_threshold", "time_to_recover_days")


def _checked(requested: Sequence[str], known: Sequence[str], what: str, hint: str) -> list[str]:
    """``requested`` without repeats; raises ``KeyError`` naming any not in ``known``."""
    unknown = [r for r in requested if r not in known]
    if unknown:
        raise KeyError(f"unknown {what}: {', '.join(unknown)} ({hint})")
    return list(dict.fromkeys(requested))


def sectors_of_interest(metrics: dict[str, pd.DataFrame], requested: Sequence[str] | None,
                        limit: int = 4) -> tuple[list[str], str | None]:
    """The sectors to draw: ``requested`` (checked), else the ``limit`` sectors with the
    largest mean cumulative shortfall in any scenario; else the sector with the most demand.
    ``metrics`` are sector-level :func:`replication_metrics` per scenario. Returns the
    sectors and a note (or ``None``). Unknown requested sectors raise ``KeyError``."""
    known = sorted({str(s) for m in metrics.values() for s in m["sector"].unique()})
    if requested:
        return _checked(requested, known, "sector(s)", f"known: {', '.join(known)}"), None
    worst: dict[str, float] = {}
    demand: dict[str, float] = {}
    for m in metrics.values():
        g = m.groupby("sector")
        for s, v in g["cumulative_shortfall_t"].mean().items():
            worst[str(s)] = max(worst.get(str(s), 0.0), float(v))
        for s, v in g["demand_t"].mean().items():
            demand[str(s)] = max(demand.get(str(s), 0.0), float(v))
    short = sorted((s for s, v in worst.items() if v > 1e-6), key=lambda s: (-worst[s], s))
    if short:
        note = (f"{len(short) - limit} more sector(s) with smaller shortfalls: use --sector"
                if len(short) > limit else None)
        return short[:limit], note
    top = sorted(demand, key=lambda s: (-demand[s], s))[:1]
    return top, "no sector ran short in any scenario; showing the sector with the most demand"


def demands_of_interest(metrics: dict[str, pd.DataFrame], requested: Sequence[str] | None,
                        limit: int = 3) -> list[str]:
    """The demand sectors (country x sector) to draw and tabulate: ``requested`` (checked;
    unknown ids raise ``KeyError``), else the ``limit`` whose mean fill rate differs most
    between the compared scenarios (best minus worst, whichever the reference: a remedy
    compared with its threat ranks the same sectors as the threat with the baseline; ties:
    larger shortfall in the worst scenario, then id), among those short in some scenario,
    skipping a demand sector that is the only one of its sector (its sector overlay shows
    it already). ``metrics`` are demand-level :func:`replication_metrics` per scenario."""
    known = sorted({str(d) for m in metrics.values() for d in m["demand_id"].unique()})
    if requested:
        return _checked(requested, known, "demand sector(s)", f"e.g. {', '.join(known[:4])}")
    frames = list(metrics.values())
    if len(frames) < 2:
        return []
    fills = pd.concat([m.groupby("demand_id", observed=True)["fill_rate"].mean()
                       for m in frames], axis=1)
    shorts = pd.concat([m.groupby("demand_id", observed=True)["cumulative_shortfall_t"].mean()
                        for m in frames], axis=1)
    spread = (fills.max(axis=1) - fills.min(axis=1)).dropna()
    short = shorts.max(axis=1).fillna(0.0)
    sectors = frames[0].groupby("sector", observed=True)["demand_id"].nunique()
    sector_of = frames[0].drop_duplicates("demand_id").set_index("demand_id")["sector"]
    hit = [str(d) for d, v in spread.items()
           if short.get(d, 0.0) > 1e-6 and v > 0 and sectors.get(sector_of.get(d), 0) > 1]
    return sorted(hit, key=lambda d: (-float(spread[d]), -float(short[d]), d))[:limit]


def kpi_table(inputs: Sequence[CompareInput], level_metrics: dict[str, dict[str, pd.DataFrame]]
              ) -> pd.DataFrame:
    """The comparison's ``kpis.csv`` (:data:`KPI_COLUMNS`).

    ``level_metrics[level][scenario]`` are :func:`replication_metrics` frames; the first
    input is the reference of the paired differences."""
    from ..analysis.compare import paired_differences
    from ..analysis.metrics import summarize

    frames = []
    base = inputs[0].name
    for level, per in level_metrics.items():
        cols = list(SECTOR_METRICS) if level == "sector" else None
        for inp in inputs:
            mt = per[inp.name]
            summ = summarize(mt, columns=cols) if cols else summarize(mt)
            summ = summ.rename(columns={"demand_id": "group"})
            summ.insert(0, "level", level)
            summ["scenario"] = inp.name
            summ["role"] = "reference" if inp.name == base else "alternative"
            if inp.name != base:
                pd_ = paired_differences(per[base], mt,
                                         metrics=cols or list(summ["metric"].unique()))
                pd_ = pd_.rename(columns={
                    "demand_id": "group", "n": "diff_n", "mean_diff": "diff_mean",
                    "ci95_low": "diff_ci95_low", "ci95_high": "diff_ci95_high",
                    "ci_excludes_zero": "diff_ci_excludes_zero"})
                summ = summ.merge(pd_[["group", "metric", "diff_n", "diff_mean",
                                       "diff_ci95_low", "diff_ci95_high",
                                       "diff_ci_excludes_zero"]],
                                  on=["group", "metric"], how="left")
                summ["diff_vs"] = base
            frames.append(summ)
    out = pd.concat(frames, ignore_index=True)
    text = ("diff_vs", "tts_anchor_event", "tts_anchor_date", "unit")
    for c in KPI_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan if c not in text else ""
    out[list(text)] = out[list(text)].fillna("")
    order = {n.name: i for i, n in enumerate(inputs)}
    out["_s"] = out["scenario"].map(order)
    out["_l"] = out["level"].map({"sector": 0, "demand": 1})
    out = out.sort_values(["_l", "group", "metric", "_s"], kind="stable")
    return out[KPI_COLUMNS].reset_index(drop=True)


#: Columns of :func:`price_table`.
PRICE_COLUMNS = ["material", "market", "stat", "scenario", "n", "mean", "ci95_low",
                 "ci95_high", "diff_vs", "diff_n", "diff_mean", "diff_ci95_low",
                 "diff_ci95_high", "diff_ci_excludes_zero"]


#: A price within this fraction of its ceiling counts as at the ceiling (the price closes on
#: a capped target exponentially, so it reaches the cap itself only in the limit).
AT_CEILING = 0.98


def price_table(prices: dict[str, pd.DataFrame], reference: str,
                ceilings: dict[str, dict[tuple[str, str], float]] | None = None
                ) -> pd.DataFrame:
    """Per priced material x market tier x scenario, per-replication statistics of
    ``price_usd_per_kg`` (``prices.parquet`` frames by scenario): ``peak`` (the highest
    step) and ``average`` (mean over the horizon's steps), and, where ``ceilings`` gives the
    scenario's ceiling for the material and tier (USD/kg, e.g.
    :func:`simulator.scenario.tiers.price_ceilings`), ``at_ceiling``: the share of steps with
    the price within 2% of it (:data:`AT_CEILING`), where the price says more about the cap,
    a modelling assumption, than about the market. Each is a mean over replications with its
    95% CI and, for scenarios other than ``reference``, the paired difference against it
    (same replication ids) with its 95% CI (:data:`PRICE_COLUMNS`; empty when no run has
    prices)."""
    from ..analysis.compare import paired_differences
    from ..analysis.metrics import mean_ci95

    keys = ["replication", "material", "market"]
    stats: dict[str, pd.DataFrame] = {}
    for name, p in prices.items():
        if p is None or p.empty:
            continue
        p = p.assign(material=p["material"].astype(str), market=p["market"].astype(str))
        cap = (ceilings or {}).get(name, {})
        if cap:
            top = pd.Series([cap.get((m, k), np.inf) for m, k in
                             zip(p["material"], p["market"], strict=True)], index=p.index)
            p = p.assign(at_ceiling=(p["price_usd_per_kg"] >= AT_CEILING * top).astype(float))
        g = p.groupby(keys, observed=True, sort=True)
        price = g["price_usd_per_kg"]
        frame = {"peak": price.max(), "average": price.mean()}
        if cap:
            frame["at_ceiling"] = g["at_ceiling"].mean()
        stats[name] = pd.DataFrame(frame).reset_index()
    rows = []
    ref = stats.get(reference)
    for name, st in stats.items():
        for (mat, mkt), grp in st.groupby(["material", "market"], sort=True):
            for stat in [c for c in ("peak", "average", "at_ceiling") if c in grp]:
                n, mean, lo, hi = mean_ci95(grp[stat].to_numpy())
                row = {"material": mat, "market": mkt, "stat": stat, "scenario": name,
                       "n": n, "mean": mean, "ci95_low": lo, "ci95_high": hi, "diff_vs": ""}
                if ref is not None and name != reference and stat in ref:
                    other = ref[(ref["material"] == mat) & (ref["market"] == mkt)]
                    frame = {
                        k: f.assign(demand_id=f"{mat}/{mkt}")[["replication", "demand_id",
                                                               stat]]
                        for k, f in (("a", other), ("b", grp))}
                    d = paired_differences(frame["a"], frame["b"], metrics=[stat])
                    if len(d):
                        r = d.iloc[0]
                        row.update(diff_vs=reference, diff_n=r["n"], diff_mean=r["mean_diff"],
                                   diff_ci95_low=r["ci95_low"], diff_ci95_high=r["ci95_high"],
                                   diff_ci_excludes_zero=bool(r["ci_excludes_zero"]))
                rows.append(row)
    return pd.DataFrame(rows, columns=PRICE_COLUMNS)


def table_rows(kpis: pd.DataFrame, sectors: Sequence[str], level: str = "sector"
               ) -> list[dict[str, Any]]:
    """The rows of ``kpis`` that the ``critmin compare`` table shows, in its order, every
    column (``critmin compare --format csv|json``); ``units_short`` only for groups with a
    unit."""
    sec = kpis[(kpis["level"] == level) & kpis["metric"].isin(TABLE_METRICS)]
    if "unit" in sec:
        sec = sec[(sec["metric"] != "units_short") | (sec["unit"].fillna("") != "")]
    order = {m: i for i, m in enumerate(TABLE_METRICS)}
    rows = []
    for s in sectors:
        part = sec[sec["group"] == s]
        part = part.iloc[sorted(range(len(part)), key=lambda i: order[part["metric"].iloc[i]])]
        rows += part.to_dict("records")
    return rows


def auto_smooth_days(scenario: Any) -> int:
    """The overlays' default trailing window: 1/40 of the horizon in whole steps (91 days
    for ten years of weekly steps, 21 for two), so weekly lots do not hide the trend."""
    step = scenario.simulation.step_days
    horizon = (scenario.end_date - scenario.start_date).days
    return step * max(1, round(horizon / 40 / step))
