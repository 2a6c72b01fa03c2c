"""Resilience metrics per replication and their summaries across replications.

Pure functions on pandas frames; formulas, units and edge cases are in docs/metrics.md.

- :func:`event_windows` / :func:`tts_anchors` (from :mod:`.anchors`): the scenario's dated
  events, and the event each demand sector's time to survive counts from;
- :func:`replication_metrics`: one row per replication x demand sector from the runner's
  ``timeseries`` table (fill rate, trough, time to survive, time to recover, days below a
  threshold, cumulative shortfall, resilience-triangle loss, stockpile drawdown);
- :func:`summarize`: per demand sector x metric across replications: mean with a 95% t
  confidence interval, percentiles, and the share of replications that recovered.

The step fill rate is ``Q = delivered_t / demand_t`` (1 for a step with no demand). Every step
lasts ``scenario.simulation.step_days`` days and is dated by its first day, but a last step
that runs past the end date, which stands for its days before it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..scenario.models import Scenario
from .anchors import (
    Anchor,
    EventWindow,
    anchor_tables,
    disruption_start,
    event_windows,
    group_anchor,
    plant_starts,
)
from .kpis import fill_rate
from .value_at_risk import demand_units, value_at_risk

__all__ = [
    "METRIC_COLUMNS",
    "SUMMARY_COLUMNS",
    "SUMMARY_METRICS",
    "Anchor",
    "EventWindow",
    "disruption_start",
    "event_windows",
    "plant_starts",
    "replication_metrics",
    "summarize",
    "t_critical_95",
]

#: Columns of :func:`replication_metrics`, in order.
METRIC_COLUMNS = [
    "replication", "demand_id", "country", "sector", "material",
    "demand_t", "delivered_t", "demand_destroyed_t", "demand_thrifted_t", "fill_rate",
    "trough_fill_rate",
    "trough_day", "trough_date",
    "tts_anchor_event", "tts_anchor_date", "time_to_survive_days", "time_to_recover_days",
    "recovered",
    "days_below_threshold", "cumulative_shortfall_t", "resilience_loss_pct_days",
    "stockpile_drawdown_t", "unit", "units_short", "value_at_risk_usd",
]

#: The per-replication metrics :func:`summarize` and ``paired_differences`` report by default.
SUMMARY_METRICS = (
    "fill_rate", "trough_fill_rate", "time_to_survive_days", "time_to_recover_days",
    "days_below_threshold", "cumulative_shortfall_t", "resilience_loss_pct_days",
    "stockpile_drawdown_t", "value_at_risk_usd", "units_short", "demand_destroyed_t",
    "demand_thrifted_t",
)

#: Time metrics where NaN means "never within the horizon" (sorted as +inf by percentiles).
_CENSORED = ("time_to_survive_days", "time_to_recover_days")

#: Shortfall below this many tonnes in a step is rounding, not a shortage.
SHORTFALL_EPS_T = 1e-9

_LABELS = ("country", "sector", "material")
_KEYS = ["demand_id", *_LABELS]


# --------------------------------------------------------------------------- t quantile

# Two-sided 95%: the 0.975 quantile of Student's t with 1..30 degrees of freedom (computed
# with scipy.stats.t.ppf, which is not a dependency; tests compare against it when present).
_T975 = (
    12.706204736174694, 4.302652729749462, 3.1824463052837078, 2.7764451051977934,
    2.5705818356363146, 2.4469118511449786, 2.364624251592784, 2.306004135204166,
    2.262157162798205, 2.228138851986274, 2.200985160091639, 2.1788128296672284,
    2.1603686564627913, 2.144786687917804, 2.131449545559776, 2.1199052992212546,
    2.1098155778333156, 2.1009220402410382, 2.0930240544083087, 2.085963447265864,
    2.0796138447276795, 2.0738730679040254, 2.0686576104190486, 2.0638985616280245,
    2.0595385527532972, 2.0555294386428735, 2.0518305164802846, 2.0484071417952454,
    2.045229642132703, 2.0422724563012378,
)
_Z975 = 1.959963984540054  # standard normal 0.975 quantile


def t_critical_95(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (two-sided 95%).

    Exact (to double precision) from a table for ``df <= 30``; above, the Cornish-Fisher
    expansion of t in the normal quantile to order ``df**-4`` (Abramowitz & Stegun 26.7.5),
    whose error is below 3e-8 at ``df = 31`` and shrinks like ``df**-5``. NaN for ``df < 1``.
    """
    if df < 1:
        return math.nan
    if df <= len(_T975):
        return _T975[int(df) - 1]
    z, v = _Z975, float(df)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / v + g2 / v**2 + g3 / v**3 + g4 / v**4


def mean_ci95(values: np.ndarray) -> tuple[int, float, float, float]:
    """(n, mean, low, high) of the finite ``values``: ``mean -+ t(0.975, n-1) * s / sqrt(n)``
    with the sample standard deviation ``s`` (ddof 1). CI is NaN for n < 2; mean for n < 1."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return 0, math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return n, mean, math.nan, math.nan
    half = t_critical_95(n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return n, mean, mean - half, mean + half


# --------------------------------------------------------------------------- per replication

def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``values`` ranked by their string form, and the sorted strings."""
    codes, uniques = pd.factorize(values, sort=False)
    names = np.asarray(uniques, dtype=object).astype(str)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    return rank[codes], names[order]


def _empty_metrics() -> pd.DataFrame:
    dtypes = {"replication": np.int32, "trough_day": np.int32, "recovered": bool,
              "trough_date": "datetime64[ns]", "tts_anchor_date": "datetime64[ns]",
              "demand_id": object, "tts_anchor_event": object, "country": object,
              "sector": object, "material": object, "unit": object}
    return pd.DataFrame({c: pd.Series([], dtype=dtypes.get(c, np.float64))
                         for c in METRIC_COLUMNS})


def replication_metrics(
    timeseries: pd.DataFrame,
    scenario: Scenario,
    *,
    threshold: float = 0.9,
    recover_level: float = 0.95,
    recover_hold_days: int = 30,
    event_id: str | None = None,
    anchors: Mapping[str, Anchor | None] | None = None,
    prices: pd.DataFrame | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """One row per replication x demand sector, columns :data:`METRIC_COLUMNS`.

    ``timeseries`` is the runner's table (or one replication's part of it; a frame without
    ``replication`` is replication 0, without ``date`` is dated from ``scenario.start_date``).
    Rows may come in any order. With ``Q_k`` the fill rate of step ``k`` and ``s`` the step
    length in days (``scenario.simulation.step_days``):

    - ``demand_t``, ``delivered_t``, ``cumulative_shortfall_t``: sums over the horizon (t);
    - ``demand_destroyed_t``: tonnes of demand not bought because of price over the horizon
      (``destroyed_t``; 0 without a demand response): not in ``demand_t``, so the fill rate
      is on the price-reduced demand;
    - ``demand_thrifted_t``: tonnes of demand thrifted or substituted away over the horizon
      (``thrifted_t``; 0 without thrifting): neither in ``demand_t`` nor short;
    - ``fill_rate`` = delivered_t / demand_t (1 with no demand);
    - ``trough_fill_rate`` = min Q_k, at ``trough_day`` / ``trough_date`` (earliest on ties);
    - ``tts_anchor_event``, ``tts_anchor_date``: the event the time to survive counts from
      and its start (``""`` and NaT if none): ``anchors[demand_id]`` if given, else
      :func:`tts_anchors` (``event_id`` for every sector, or per sector the first event that
      reduces its supply); a summed group gets :func:`group_anchor`. An event whose start
      is uncertain counts from the date drawn in each replication
      (:func:`replication_anchors`), which needs the run's root ``seed`` (``ValueError``
      without it);
    - ``time_to_survive_days``: first step at or after the anchor date with shortfall
      > 1e-9 t, minus the anchor date, in days (NaN: no shortfall, or no anchor);
    - ``time_to_recover_days``: first step k at or after the trough from which Q stays
      >= ``recover_level`` for at least ``recover_hold_days`` (the run of such steps from k
      must cover that many days inside the horizon), minus the trough day; 0 when Q never
      dips below ``recover_level``; NaN when it never recovers (``recovered`` False);
    - ``days_below_threshold`` = sum of s_k over {k: Q_k < threshold}, ``s_k`` step k's days
      (``s``, or fewer for a last step that runs past the end date);
    - ``resilience_loss_pct_days`` = 100 x sum_k s_k (1 - Q_k) (Bruneau's triangle area);
    - ``stockpile_drawdown_t`` = max_k (stockpile_t at the first step - stockpile_t at k) >= 0;
    - ``unit`` and ``units_short`` = cumulative_shortfall_t x 1000 / ``units.kg_per_unit`` of
      the demand sector (``""`` and NaN without ``units``; a summed group gets them when all
      its members share one unit and intensity);
    - ``value_at_risk_usd`` = sum_k shortfall_t(k) x 1000 x price(k) (USD): the shortfall
      valued at the price of the sector's material in its country's market tier that step,
      from ``prices`` (the run's ``prices.parquet``); an unpriced material at its content of
      priced materials through its recipes (magnets: their NdPr and Dy/Tb oxide;
      :func:`~simulator.analysis.value_at_risk.priced_content`); NaN without prices or when
      neither applies (mixed oxides, concentrates).
    """
    if recover_hold_days < 0:
        raise ValueError("recover_hold_days must be >= 0")
    need = {"day", "demand_id", "demand_t", "delivered_t", "shortfall_t", "stockpile_t",
            *_LABELS}
    missing = sorted(need - set(timeseries.columns))
    if missing:
        raise ValueError(f"timeseries lacks column(s): {', '.join(missing)}")
    if timeseries.empty:
        return _empty_metrics()

    ts = timeseries
    n = len(ts)
    rep = (ts["replication"].to_numpy(dtype=np.int64) if "replication" in ts.columns
           else np.zeros(n, dtype=np.int64))
    did_codes, did_vals = _sorted_codes(ts["demand_id"])
    first_of = np.unique(did_codes, return_index=True)[1]
    firsts = {c: ts[c].take(first_of).to_numpy() for c in _LABELS}
    labels = [{c: str(firsts[c][k]) for c in _LABELS} for k in range(len(did_vals))]
    reps, tables = anchor_tables(scenario, rep, event_id, anchors, seed)
    table = [[group_anchor(scenario, t, str(did), labels[k]) for k, did in enumerate(did_vals)]
             for t in tables]  # [anchor table][demand code]
    anchor_day = np.array([[np.nan if a is None else scenario.day_of(a.date) for a in row]
                           for row in table], dtype=np.float64).reshape(len(table), -1)
    which = np.searchsorted(reps, rep) if len(tables) > 1 else np.zeros(n, dtype=np.int64)
    params = _Params(
        step=int(scenario.simulation.step_days),
        threshold=float(threshold), level=float(recover_level),
        hold=float(recover_hold_days), horizon=int(scenario.horizon_days),
    )
    cols = {
        "rep": rep, "did": did_codes, "day": ts["day"].to_numpy(dtype=np.int64),
        "anchor_day": anchor_day[which, did_codes],
        **{c: ts[c].to_numpy(dtype=np.float64)
           for c in ("demand_t", "delivered_t", "shortfall_t", "stockpile_t")},
        # tables written before the demand response have no destroyed_t: nothing destroyed
        "destroyed_t": (ts["destroyed_t"].to_numpy(dtype=np.float64)
                        if "destroyed_t" in ts.columns else np.zeros(n)),
        "thrifted_t": (ts["thrifted_t"].to_numpy(dtype=np.float64)  # likewise, before
                       if "thrifted_t" in ts.columns else np.zeros(n)),  # thrifting
    }

    # Groups never span replications: work through blocks of whole replications so the
    # temporaries stay small (a block is a slice of the rows ordered by replication).
    order = None if np.all(rep[1:] >= rep[:-1]) else np.argsort(rep, kind="stable")
    rep_sorted = rep if order is None else rep[order]
    cuts = np.flatnonzero(rep_sorted[1:] != rep_sorted[:-1]) + 1
    bounds = _blocks(np.r_[0, cuts, n], _BLOCK_ROWS)
    parts = []
    for a, b in itertools.pairwise(bounds):
        rows = np.arange(a, b) if order is None else order[a:b]
        parts.append(_metrics_block({k: v[rows] for k, v in cols.items()}, rows, params))
    res = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    if "date" in ts.columns:
        trough_date = pd.to_datetime(ts["date"].iloc[res["trough_row"]]).to_numpy(
            dtype="datetime64[ns]")
    else:
        trough_date = (np.datetime64(scenario.start_date, "D")
                       + res["trough_day"].astype("timedelta64[D]")).astype("datetime64[ns]")
    groups = len(res["rep"])
    g_table = (np.searchsorted(reps, res["rep"]) if len(tables) > 1
               else np.zeros(groups, dtype=np.int64))
    out = pd.DataFrame({
        "replication": res["rep"].astype(np.int32),
        "demand_id": did_vals[res["did"]].astype(object),
        **{c: ts[c].iloc[res["first_row"]].astype(str).to_numpy(dtype=object)
           for c in _LABELS},
        "demand_t": res["demand_t"],
        "delivered_t": res["delivered_t"],
        "demand_destroyed_t": res["demand_destroyed_t"],
        "demand_thrifted_t": res["demand_thrifted_t"],
        "fill_rate": fill_rate(res["delivered_t"], res["demand_t"]),
        "trough_fill_rate": res["trough_fill_rate"],
        "trough_day": res["trough_day"].astype(np.int32),
        "trough_date": trough_date,
        "tts_anchor_event": np.array([[a.event_id if a else "" for a in row] for row in table],
                                     dtype=object).reshape(len(table), -1)[g_table, res["did"]],
        "tts_anchor_date": pd.Series(
            np.array([[np.datetime64(a.date, "ns") if a else np.datetime64("NaT", "ns")
                       for a in row] for row in table],
                     dtype="datetime64[ns]").reshape(len(table), -1)[g_table, res["did"]],
            index=range(groups)),
        "time_to_survive_days": res["time_to_survive_days"],
        "time_to_recover_days": res["time_to_recover_days"],
        "recovered": res["recovered"],
        "days_below_threshold": res["days_below_threshold"],
        "cumulative_shortfall_t": res["cumulative_shortfall_t"],
        "resilience_loss_pct_days": res["resilience_loss_pct_days"],
        "stockpile_drawdown_t": res["stockpile_drawdown_t"],
    })
    unit, kg = demand_units(scenario, out["demand_id"])
    out["unit"] = unit
    out["units_short"] = out["cumulative_shortfall_t"].to_numpy() * 1000.0 / kg
    out["value_at_risk_usd"] = value_at_risk(ts, scenario, prices, out)
    return out[METRIC_COLUMNS]


_BLOCK_ROWS = 1 << 19


@dataclass(frozen=True)
class _Params:
    step: int
    threshold: float
    level: float
    hold: float
    horizon: int
    """Days of the scenario's horizon: a last step that runs past it stands for its days
    before it (docs/engine.md, "Timing")."""


def _blocks(cuts: np.ndarray, size: int) -> list[int]:
    """Sub-sequence of the replication boundaries ``cuts`` (from 0 to n) so that each block
    holds about ``size`` rows (at least one replication)."""
    out = [int(cuts[0])]
    for c in cuts[1:-1]:
        if c - out[-1] >= size:
            out.append(int(c))
    out.append(int(cuts[-1]))
    return out


def _metrics_block(c: dict[str, np.ndarray], rows: np.ndarray, p: _Params
                   ) -> dict[str, np.ndarray]:
    """The metrics of every (replication, demand) group in one block of rows; ``rows`` are
    the block's row positions in the caller's frame (returned for the trough and labels)."""
    n = len(rows)
    dmin = int(c["day"].min())
    span = int(c["day"].max()) - dmin + 1
    n_did = int(c["did"].max()) + 1
    rep0 = int(c["rep"].min())
    gkey = (c["rep"] - rep0) * n_did + c["did"]
    perm = np.argsort(gkey * span + (c["day"] - dmin), kind="stable")
    gkey = gkey[perm]
    day = c["day"][perm]
    demand, delivered = c["demand_t"][perm], c["delivered_t"][perm]
    shortfall, stock = c["shortfall_t"][perm], c["stockpile_t"][perm]

    starts = np.flatnonzero(np.r_[True, gkey[1:] != gkey[:-1]])
    ends = np.r_[starts[1:], n]  # exclusive
    grp = np.repeat(np.arange(len(starts)), ends - starts)
    idx = np.arange(n)
    day_ext = np.r_[day, 0]  # day_ext[n] stands for "no such row"

    def first(mask: np.ndarray) -> np.ndarray:
        """Per group: the first row index where ``mask`` holds, ``n`` if none."""
        return np.minimum.reduceat(np.where(mask, idx, n), starts)

    q = fill_rate(delivered, demand)
    days = np.minimum(p.step, p.horizon - day)  # a last step: its days before the end date
    q_min = np.minimum.reduceat(q, starts)
    trough = first(q == q_min[grp])
    trough_day = day[trough]

    dday = c["anchor_day"][perm]  # NaN (no anchor) compares False: never counted
    short = first((day >= dday) & (shortfall > SHORTFALL_EPS_T))
    tts = np.where(short < n, day_ext[short] - dday[starts], np.nan)

    # recovery: a step at or after the trough with Q >= level, starting a run of such
    # steps that lasts at least `hold` days inside the horizon
    ok = q >= p.level
    next_bad = np.minimum.accumulate(np.where(ok, n, idx)[::-1])[::-1]
    end_row = ends[grp]
    run_stop = np.minimum(next_bad, end_row)
    run_end_day = np.where(run_stop < end_row, day_ext[run_stop],
                           day[ends - 1][grp] + days[ends - 1][grp])
    rec = first(ok & (run_end_day - day >= p.hold) & (idx >= trough[grp]))
    dipped = q_min < p.level
    ttr = np.where(~dipped, 0.0, np.where(rec < n, day_ext[rec] - trough_day, np.nan))

    return {
        "rep": gkey[starts] // n_did + rep0,
        "did": gkey[starts] % n_did,
        "first_row": rows[perm[starts]],
        "trough_row": rows[perm[trough]],
        "demand_t": np.add.reduceat(demand, starts),
        "delivered_t": np.add.reduceat(delivered, starts),
        "demand_destroyed_t": np.add.reduceat(c["destroyed_t"][perm], starts),
        "demand_thrifted_t": np.add.reduceat(c["thrifted_t"][perm], starts),
        "trough_fill_rate": q_min,
        "trough_day": trough_day,
        "time_to_survive_days": tts.astype(np.float64),
        "time_to_recover_days": ttr.astype(np.float64),
        "recovered": ~dipped | (rec < n),
        "days_below_threshold": np.add.reduceat(np.where(q < p.threshold, days, 0)
                                                .astype(np.float64), starts),
        "cumulative_shortfall_t": np.add.reduceat(shortfall, starts),
        "resilience_loss_pct_days": np.add.reduceat((1.0 - q) * days, starts) * 100.0,
        "stockpile_drawdown_t": np.maximum(
            np.maximum.reduceat(stock[starts][grp] - stock, starts), 0.0),
    }


# --------------------------------------------------------------------------- summaries

def _pct_label(q: float) -> str:
    return f"p{q:g}"


def percentiles_inf(values: np.ndarray, percentiles: Sequence[float]) -> list[float]:
    """Linear-interpolation percentiles (numpy's default) where NaN counts as +inf.

    A percentile that falls on or next to an infinite value is +inf (never within the
    horizon); interpolating between two finite values is as ``np.percentile``."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return [math.nan] * len(percentiles)
    x = np.sort(np.where(np.isnan(x), np.inf, x))
    out = []
    for q in percentiles:
        pos = (x.size - 1) * q / 100.0
        lo = math.floor(pos)
        hi = min(lo + 1, x.size - 1)
        frac = pos - lo
        if frac == 0 or x[lo] == x[hi]:
            out.append(float(x[lo]))
        else:
            out.append(float(x[lo] + (x[hi] - x[lo]) * frac))
    return out


_ANCHOR_DATE = "tts_anchor_date"


def _anchor_of(g: pd.DataFrame) -> tuple[str, str]:
    """(event id, ISO date) of a demand sector's anchor in its metrics rows; when an
    uncertain event date differs between replications, ``drawn <first> to <last>`` (and
    the events joined by `` / `` if the anchor event differs too)."""
    events = (list(dict.fromkeys(str(e) for e in g["tts_anchor_event"] if e))
              if "tts_anchor_event" in g else [])
    date = pd.to_datetime(g[_ANCHOR_DATE]).dropna() if _ANCHOR_DATE in g else pd.Series([])
    days = sorted({d.date().isoformat() for d in date})
    when = "" if not days else days[0] if len(days) == 1 else f"drawn {days[0]} to {days[-1]}"
    return " / ".join(events), when


#: Columns of :func:`summarize` with the default percentiles.
SUMMARY_COLUMNS = [
    *_KEYS, "metric", "n", "n_valid", "mean", "ci95_low", "ci95_high", "p5", "p50", "p95",
    "share_recovered", "tts_anchor_event", "tts_anchor_date", "unit",
]


def summarize(
    metrics: pd.DataFrame,
    percentiles: Sequence[float] = (5, 50, 95),
    *,
    columns: Sequence[str] = SUMMARY_METRICS,
) -> pd.DataFrame:
    """Per demand sector x metric across replications (long format, one row each).

    Columns: demand_id, country, sector, material, metric, ``n`` (replications), ``n_valid``
    (finite values), ``mean`` and its 95% confidence interval ``ci95_low``/``ci95_high``
    (Student t, see :func:`t_critical_95`; over the finite values; NaN for n_valid < 2), one
    ``p<q>`` column per percentile, and ``share_recovered`` (``time_to_recover_days`` rows
    only: share of replications with ``recovered``; NaN on other rows), ``tts_anchor_event``
    and ``tts_anchor_date`` (ISO date) on ``time_to_survive_days`` rows: the event it counts
    from (``""`` on other rows and without an anchor); ``unit`` on ``units_short`` rows: what
    is counted (``""`` on other rows and without ``units``).

    Percentiles are over all ``n`` replications; for the time metrics a NaN (no shortfall /
    not recovered) counts as +inf, so e.g. ``p95 = inf`` means more than 5% of replications
    did not recover within the horizon. Where ``tts_anchor_date`` is NaT (no anchor) the
    time to survive is not applicable: its percentiles are NaN.
    """
    pcols = [_pct_label(q) for q in percentiles]
    out_cols = [*_KEYS, "metric", "n", "n_valid", "mean", "ci95_low", "ci95_high", *pcols,
                "share_recovered", "tts_anchor_event", "tts_anchor_date", "unit"]
    unknown = [c for c in columns if c not in metrics.columns]
    if unknown:
        raise ValueError(f"metrics lacks column(s): {', '.join(unknown)}")
    rows = []
    for did, g in metrics.groupby("demand_id", sort=True, observed=True):
        first = g.iloc[0]
        labels = {"demand_id": str(did), **{c: str(first[c]) for c in _LABELS if c in g}}
        for col in columns:
            x = g[col].to_numpy(dtype=np.float64)
            n_valid, mean, low, high = mean_ci95(x)
            row = {**labels, "metric": col, "n": len(x), "n_valid": n_valid, "mean": mean,
                   "ci95_low": low, "ci95_high": high}
            tts = col == "time_to_survive_days"
            no_anchor = tts and _ANCHOR_DATE in g and g[_ANCHOR_DATE].isna().all()
            if col in _CENSORED and not no_anchor:
                pvals = percentiles_inf(x, percentiles)
            else:
                pvals = percentiles_inf(x[np.isfinite(x)], percentiles)
            row.update(zip(pcols, pvals, strict=True))
            row["share_recovered"] = math.nan
            if col == "time_to_recover_days":
                rec = (g["recovered"].to_numpy(dtype=bool) if "recovered" in g
                       else np.isfinite(x))
                row["share_recovered"] = float(rec.mean())
            row["tts_anchor_event"], row["tts_anchor_date"] = (
                _anchor_of(g) if tts and not no_anchor else ("", ""))
            row["unit"] = (str(first["unit"]) if col == "units_short" and "unit" in g
                           else "")
            rows.append(row)
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in out_cols})
    return pd.DataFrame(rows, columns=out_cols)
