"""Resilience metrics, summaries and concentration on hand-made data with known answers."""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd
import pytest

from simulator.analysis import (
    METRIC_COLUMNS,
    SUMMARY_COLUMNS,
    EventWindow,
    disruption_start,
    event_windows,
    origin_mix,
    replication_metrics,
    sector_kpis,
    stage_concentration,
    summarize,
    t_critical_95,
)
from simulator.analysis import metrics as metrics_module
from simulator.analysis.metrics import SUMMARY_METRICS, mean_ci95, percentiles_inf
from tests.conftest import make_scenario

START = pd.Timestamp("2024-01-01")  # the chain scenario's start date; steps are 7 days
STEP = 7

EVENTS = {
    "deal": {"type": "cooperation_agreement", "members": ["JP", "AU"], "signed": "2024-01-08"},
    "ec": {"type": "export_control", "exporter": "MY", "materials": ["oxide"], "mode": "ban",
           "effective": "2024-01-15", "end": "2024-06-01"},
    "boom": {"type": "demand_shock", "demand": ["jp_ev"], "multiplier": 1.3,
             "start": "2024-03-01"},
    "breakdowns": {"type": "facility_outage", "facilities": ["au_mine"],
                   "random": {"failures_per_year": 2, "mean_repair_days": 10}},
    "strike": {"type": "facility_outage", "country": "AU", "stage": "mine",
               "start": "2024-02-01", "duration_days": 30, "capacity_lost": 0.5},
}


@pytest.fixture(scope="module")
def scenario():
    """Disruption starts on 2024-01-15 = day 14 (the export control)."""
    return make_scenario(events=EVENTS)


@pytest.fixture(scope="module")
def quiet():
    """No events at all."""
    return make_scenario()


def frame(series, *, shuffle=True, dates=True) -> pd.DataFrame:
    """Tidy timeseries from (replication, demand_id, demand per step, delivered per step,
    stockpile per step or None); steps every 7 days from day 0."""
    rows = []
    for rep, did, demand, delivered, stock in series:
        stock = stock or [0.0] * len(demand)
        for k, (dem, dlv, stk) in enumerate(zip(demand, delivered, stock, strict=True)):
            day = STEP * k
            rows.append({"replication": rep, "day": day, "date": START + pd.Timedelta(days=day),
                         "country": "JP", "sector": did.split("_")[1], "demand_id": did,
                         "material": "oxide", "demand_t": float(dem), "delivered_t": float(dlv),
                         "shortfall_t": float(dem - dlv), "inventory_t": 0.0,
                         "stockpile_t": float(stk)})
    df = pd.DataFrame(rows)
    for col in ("country", "sector", "demand_id", "material"):
        df[col] = pd.Categorical(df[col])
    df["replication"] = df["replication"].astype(np.int32)
    df["day"] = df["day"].astype(np.int32)
    if not dates:
        df = df.drop(columns=["date"])
    return df.sample(frac=1.0, random_state=7) if shuffle else df


def row(m: pd.DataFrame, rep: int, did: str) -> pd.Series:
    sel = m[(m["replication"] == rep) & (m["demand_id"] == did)]
    assert len(sel) == 1
    return sel.iloc[0]


D10 = [10] * 12
# V-shaped dip: Q = 1 1 1 .8 .4 .6 .95 1 1 1 1 1 (days 0..77)
V = (0, "jp_v", D10, [10, 10, 10, 8, 4, 6, 9.5, 10, 10, 10, 10, 10],
     [100, 100, 100, 100, 80, 50, 50, 60, 70, 80, 90, 100])
# never recovers: Q = 1 1 1 then .5 to the end (a flat trough: the first step is the trough)
NEVER = (0, "jp_never", D10, [10, 10, 10] + [5] * 9, None)
# recovers at day 28 but relapses at day 49 (inside the 30-day hold), holds from day 56
RELAPSE = (0, "jp_relapse", [10] * 14, [10, 10, 10, 5, 10, 10, 10, 6, 10, 10, 10, 10, 10, 10],
           None)
# back to 1 only for the last two steps: the hold window runs past the horizon
LATE = (0, "jp_late", [10] * 5, [10, 10, 5, 10, 10], None)
# never below 95%; its only shortfall (day 7) is before the disruption (day 14)
SHALLOW = (0, "jp_shallow", [10] * 4, [10, 9.5, 10, 10], None)
# no demand at all
IDLE = (0, "jp_idle", [0] * 4, [0] * 4, None)
ALL = [V, NEVER, RELAPSE, LATE, SHALLOW, IDLE]


# --------------------------------------------------------------------------- events

def test_event_windows_and_disruption_start(scenario, quiet):
    wins = event_windows(scenario)
    assert [w.id for w in wins] == ["breakdowns", "deal", "ec", "strike", "boom"]
    by_id = {w.id: w for w in wins}
    assert by_id["ec"] == EventWindow("ec", "export_control", "MY export ban",
                                      dt.date(2024, 1, 15), dt.date(2024, 6, 1), True)
    assert by_id["strike"].end == dt.date(2024, 3, 2)  # start + duration_days
    assert by_id["strike"].label == "outage AU mine" and by_id["strike"].disruption
    # a demand shock moves demand: it reduces no one's supply
    assert by_id["boom"].end is None and not by_id["boom"].disruption
    assert by_id["deal"].start == dt.date(2024, 1, 8) and not by_id["deal"].disruption
    # a random outage without a start: from the start date, and a hazard, not a disruption
    assert by_id["breakdowns"].start == dt.date(2024, 1, 1)
    assert not by_id["breakdowns"].disruption

    # the agreement (Jan 8) and the random outage (Jan 1) are earlier but reduce no supply
    assert disruption_start(scenario) == dt.date(2024, 1, 15)
    assert disruption_start(scenario, "deal") == dt.date(2024, 1, 8)
    assert disruption_start(scenario, "boom") == dt.date(2024, 3, 1)
    assert disruption_start(quiet) is None
    assert event_windows(quiet) == []
    with pytest.raises(KeyError, match="no event 'nope'"):
        disruption_start(scenario, "nope")


# --------------------------------------------------------------------------- per replication

def test_columns_and_types(scenario):
    m = replication_metrics(frame(ALL), scenario)
    assert list(m.columns) == METRIC_COLUMNS
    assert len(m) == len(ALL)
    assert m["replication"].dtype == np.int32
    assert m["trough_day"].dtype == np.int32
    assert m["recovered"].dtype == bool
    assert m["trough_date"].dtype == "datetime64[ns]"
    # hand-made ids match no demand sector of the scenario: the scenario's earliest anchor
    assert m["tts_anchor_date"].eq(pd.Timestamp("2024-01-15")).all()
    assert m["tts_anchor_event"].eq("ec").all()
    # sorted by replication, then demand_id
    assert list(m["demand_id"]) == sorted(d for _, d, *_ in ALL)


def test_v_shaped_dip(scenario):
    r = row(replication_metrics(frame(ALL), scenario), 0, "jp_v")
    assert (r["country"], r["sector"], r["material"]) == ("JP", "v", "oxide")
    assert r["demand_t"] == 120 and r["delivered_t"] == 107.5
    assert r["fill_rate"] == 107.5 / 120
    assert r["trough_fill_rate"] == 0.4
    assert r["trough_day"] == 28 and r["trough_date"] == pd.Timestamp("2024-01-29")
    assert r["time_to_survive_days"] == 7  # disruption day 14, first shortfall day 21
    # Q >= .95 from day 42 to the end (day 77 + 7 = 84): 42 days >= 30; trough at 28
    assert r["recovered"] and r["time_to_recover_days"] == 14
    assert r["days_below_threshold"] == 21  # .8, .4, .6
    assert r["cumulative_shortfall_t"] == 12.5
    assert r["resilience_loss_pct_days"] == pytest.approx((0.2 + 0.6 + 0.4 + 0.05) * 7 * 100)
    assert r["stockpile_drawdown_t"] == 50


def test_never_recovers(scenario):
    r = row(replication_metrics(frame(ALL), scenario), 0, "jp_never")
    assert r["trough_fill_rate"] == 0.5
    assert r["trough_day"] == 21  # the first of nine equal troughs
    assert not r["recovered"] and math.isnan(r["time_to_recover_days"])
    assert r["time_to_survive_days"] == 7
    assert r["days_below_threshold"] == 9 * 7
    assert r["cumulative_shortfall_t"] == 45
    assert r["resilience_loss_pct_days"] == 9 * 0.5 * 7 * 100
    assert r["stockpile_drawdown_t"] == 0


def test_relapse_inside_the_hold_window(scenario):
    ts = frame(ALL)
    r = row(replication_metrics(ts, scenario), 0, "jp_relapse")
    assert r["trough_fill_rate"] == 0.5 and r["trough_day"] == 21
    # days 28-42 are back at 1 (21 days < 30), day 49 relapses; from day 56 it holds
    assert r["recovered"] and r["time_to_recover_days"] == 56 - 21
    assert r["days_below_threshold"] == 14
    # a 21-day hold accepts the first recovery
    r21 = row(replication_metrics(ts, scenario, recover_hold_days=21), 0, "jp_relapse")
    assert r21["time_to_recover_days"] == 7
    # a 22-day hold does not: the run from day 28 covers exactly 21 days
    r22 = row(replication_metrics(ts, scenario, recover_hold_days=22), 0, "jp_relapse")
    assert r22["time_to_recover_days"] == 35
    # hold 0: the first good step after the trough
    r0 = row(replication_metrics(ts, scenario, recover_hold_days=0), 0, "jp_relapse")
    assert r0["time_to_recover_days"] == 7
    # a stricter level also counts the .6 step as a dip, but the trough stays the .5
    r_lvl = row(replication_metrics(ts, scenario, recover_level=1.0), 0, "jp_relapse")
    assert r_lvl["time_to_recover_days"] == 35


def test_recovery_must_hold_inside_the_horizon(scenario):
    m = replication_metrics(frame(ALL), scenario)
    late = row(m, 0, "jp_late")
    assert late["trough_day"] == 14
    assert not late["recovered"] and math.isnan(late["time_to_recover_days"])
    # days 21 and 28 are good, and the horizon ends at 28 + 7 = 35: 14 days held
    assert row(replication_metrics(frame(ALL), scenario, recover_hold_days=14), 0,
               "jp_late")["time_to_recover_days"] == 7


def test_no_dip_and_no_demand(scenario):
    m = replication_metrics(frame(ALL), scenario)
    shallow = row(m, 0, "jp_shallow")
    assert shallow["trough_fill_rate"] == 0.95 and shallow["trough_day"] == 7
    assert shallow["recovered"] and shallow["time_to_recover_days"] == 0
    # its only shortfall (day 7) comes before the disruption (day 14)
    assert math.isnan(shallow["time_to_survive_days"])
    assert shallow["days_below_threshold"] == 0
    assert shallow["resilience_loss_pct_days"] == pytest.approx(0.05 * 7 * 100)

    idle = row(m, 0, "jp_idle")
    assert idle["fill_rate"] == 1 and idle["trough_fill_rate"] == 1
    assert idle["trough_day"] == 0 and idle["time_to_recover_days"] == 0
    assert math.isnan(idle["time_to_survive_days"])
    assert idle["resilience_loss_pct_days"] == 0 and idle["days_below_threshold"] == 0


def test_threshold_parameter(scenario):
    r = row(replication_metrics(frame(ALL), scenario, threshold=0.5), 0, "jp_v")
    assert r["days_below_threshold"] == 7  # only the .4 step; .5 is not below .5
    r = row(replication_metrics(frame(ALL), scenario, threshold=1.0), 0, "jp_v")
    assert r["days_below_threshold"] == 28


def test_no_disruption(quiet):
    m = replication_metrics(frame(ALL), quiet)
    assert m["time_to_survive_days"].isna().all()
    assert m["tts_anchor_date"].isna().all() and m["tts_anchor_event"].eq("").all()
    v = row(m, 0, "jp_v")
    assert v["time_to_recover_days"] == 14 and v["trough_fill_rate"] == 0.4


def test_event_id_sets_the_reference(scenario):
    # from the agreement (day 7): first shortfall at or after it is day 21 -> 14 days
    assert row(replication_metrics(frame(ALL), scenario, event_id="deal"), 0,
               "jp_v")["time_to_survive_days"] == 14
    # from the demand shock (2024-03-01 = day 60): the never-recovering curve is short at 63
    assert row(replication_metrics(frame(ALL), scenario, event_id="boom"), 0,
               "jp_never")["time_to_survive_days"] == 3
    # an event before the horizon would give day < 0: still measured from its date
    early = make_scenario(events={"ec": {**EVENTS["ec"], "effective": "2023-12-25"}})
    assert row(replication_metrics(frame(ALL), early), 0,
               "jp_v")["time_to_survive_days"] == 21 + 7


def test_multiple_replications_are_independent(scenario):
    series = [V, NEVER, (1, "jp_v", D10, [10] * 12, None),
              (1, "jp_never", D10, [10, 4, 4, 10, 10, 10, 10, 10, 10, 10, 10, 10], None),
              (3, "jp_v", D10, [0] * 12, [5] * 12)]
    m = replication_metrics(frame(series), scenario)
    assert list(zip(m["replication"], m["demand_id"], strict=True)) == [
        (0, "jp_never"), (0, "jp_v"), (1, "jp_never"), (1, "jp_v"), (3, "jp_v")]
    assert row(m, 0, "jp_v")["time_to_recover_days"] == 14
    perfect = row(m, 1, "jp_v")
    assert perfect["fill_rate"] == 1 and perfect["time_to_recover_days"] == 0
    assert math.isnan(perfect["time_to_survive_days"])
    r = row(m, 1, "jp_never")
    assert r["trough_day"] == 7 and r["time_to_recover_days"] == 14
    assert r["time_to_survive_days"] == 0  # short on day 14, the disruption day
    zero = row(m, 3, "jp_v")
    assert zero["fill_rate"] == 0 and zero["trough_day"] == 0
    assert not zero["recovered"] and zero["days_below_threshold"] == 84
    assert zero["resilience_loss_pct_days"] == 12 * 7 * 100
    assert zero["stockpile_drawdown_t"] == 0


def test_without_replication_or_date_columns(scenario):
    ts = frame([V], dates=False).drop(columns=["replication"])
    r = replication_metrics(ts, scenario).iloc[0]
    assert r["replication"] == 0
    assert r["trough_date"] == pd.Timestamp("2024-01-29")
    assert r["time_to_recover_days"] == 14


def test_empty_and_bad_input(scenario):
    m = replication_metrics(frame(ALL).iloc[:0], scenario)
    assert list(m.columns) == METRIC_COLUMNS and m.empty
    with pytest.raises(ValueError, match="stockpile_t"):
        replication_metrics(frame(ALL).drop(columns=["stockpile_t"]), scenario)
    with pytest.raises(ValueError, match="recover_hold_days"):
        replication_metrics(frame(ALL), scenario, recover_hold_days=-1)


# a slow, obviously-correct reference for the vectorised code
def reference(ts: pd.DataFrame, dday, level=0.95, hold=30, threshold=0.9) -> pd.DataFrame:
    rows = []
    for (rep, did), g in ts.groupby(["replication", "demand_id"], observed=True):
        g = g.sort_values("day")
        days = g["day"].tolist()
        q = [d / m if m > 0 else 1.0 for d, m in zip(g["delivered_t"], g["demand_t"],
                                                      strict=True)]
        k_min = min(range(len(q)), key=lambda k: (q[k], k))
        tts = next((days[k] - dday for k in range(len(q)) if dday is not None
                    and days[k] >= dday and g["shortfall_t"].iloc[k] > 1e-9), math.nan)
        horizon_end = days[-1] + STEP
        ttr = 0.0 if min(q) >= level else math.nan
        if min(q) < level:
            for k in range(k_min, len(q)):
                j = k
                while j < len(q) and q[j] >= level:
                    j += 1
                end = days[j] if j < len(q) else horizon_end
                if q[k] >= level and end - days[k] >= hold:
                    ttr = float(days[k] - days[k_min])
                    break
        s = g["stockpile_t"].to_numpy()
        rows.append({"replication": rep, "demand_id": did, "trough_fill_rate": q[k_min],
                     "trough_day": days[k_min], "time_to_survive_days": tts,
                     "time_to_recover_days": ttr,
                     "days_below_threshold": STEP * sum(x < threshold for x in q),
                     "resilience_loss_pct_days": 100 * STEP * sum(1 - x for x in q),
                     "stockpile_drawdown_t": max(0.0, float(np.max(s[0] - s)))})
    return pd.DataFrame(rows)


def test_matches_reference_on_random_curves(scenario, monkeypatch):
    rng = np.random.default_rng(11)
    series = []
    for rep in range(6):
        for did in ("jp_a", "jp_b", "jp_c"):
            steps = int(rng.integers(3, 30))
            demand = rng.choice([0.0, 5.0, 10.0], size=steps, p=[0.1, 0.3, 0.6])
            q = np.clip(rng.choice([1.0, 0.97, 0.9, 0.5, 0.0], size=steps), 0, 1)
            series.append((rep, did, list(demand), list(demand * q),
                           list(rng.integers(0, 100, size=steps).astype(float))))
    ts = frame(series)
    want = reference(ts, dday=14).sort_values(["replication", "demand_id"])
    monkeypatch.setattr(metrics_module, "_BLOCK_ROWS", 50)  # many blocks
    got = replication_metrics(ts, scenario)
    for col in want.columns[2:]:
        np.testing.assert_allclose(got[col].to_numpy(dtype=float),
                                   want[col].to_numpy(dtype=float), rtol=1e-12, err_msg=col)


def test_agrees_with_sector_kpis_on_an_engine_run():
    from simulator.runner.replications import run_one

    sc = make_scenario(events={"out": {"type": "facility_outage", "facilities": ["my_refinery"],
                                       "start": "2024-06-03", "duration_days": 120}})
    ts = run_one(sc, seed=1, replication=0).timeseries
    m = replication_metrics(ts, sc)
    k = sector_kpis(ts)
    for col in ("fill_rate", "trough_fill_rate", "cumulative_shortfall_t", "trough_day"):
        assert m[col].tolist() == k[col].tolist()
    r = m.iloc[0]
    assert r["trough_fill_rate"] < 0.5 and r["recovered"]
    assert r["time_to_survive_days"] >= 0 and r["time_to_recover_days"] > 0


# --------------------------------------------------------------------------- summaries

def test_t_critical_values():
    assert t_critical_95(1) == pytest.approx(12.706204736174694, rel=1e-15)
    assert t_critical_95(4) == pytest.approx(2.7764451051977934, rel=1e-15)
    assert t_critical_95(30) == pytest.approx(2.0422724563012378, rel=1e-15)
    assert t_critical_95(10**9) == pytest.approx(1.959963984540054, abs=3e-9)  # + g1/df
    assert math.isnan(t_critical_95(0))
    # the expansion continues the table smoothly
    assert 1.96 < t_critical_95(1000) < t_critical_95(31) < t_critical_95(30)


def test_t_critical_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    for df in [*range(1, 61), 75, 100, 250, 999, 5000, 10**6]:
        assert t_critical_95(df) == pytest.approx(float(stats.t.ppf(0.975, df)), rel=2e-8)


def test_mean_ci_and_percentiles_on_known_data():
    n, mean, low, high = mean_ci95(np.array([1.0, 2, 3, 4, 5, np.nan]))
    half = 2.7764451051977934 * math.sqrt(2.5) / math.sqrt(5)
    assert (n, mean) == (5, 3.0)
    assert (low, high) == pytest.approx((3 - half, 3 + half), rel=1e-15)
    assert mean_ci95(np.array([4.0, 4.0, 4.0]))[1:] == (4.0, 4.0, 4.0)
    n1 = mean_ci95(np.array([2.0]))
    assert n1[:2] == (1, 2.0) and math.isnan(n1[2]) and math.isnan(n1[3])
    assert percentiles_inf(np.array([1.0, 2, 3, 4, 5]), (5, 50, 95)) == pytest.approx(
        [1.2, 3.0, 4.8])
    assert percentiles_inf(np.array([21.0, np.nan, 7, 14]), (0, 5, 50, 95, 100)) == \
        pytest.approx([7.0, 8.05, 17.5, math.inf, math.inf])
    np.testing.assert_allclose(percentiles_inf(np.array([3.0, 1, 2, 9]), (5, 25, 50, 90)),
                               np.percentile([3.0, 1, 2, 9], (5, 25, 50, 90)))


def summary_input(disruption=True) -> pd.DataFrame:
    rows = []
    for rep, (fill, ttr, tts) in enumerate([(0.5, 7, 3), (0.6, 14, np.nan), (0.7, np.nan, 10),
                                            (0.8, 21, 4), (0.9, 0, 5)]):
        rows.append({"replication": rep, "demand_id": "jp_ev", "country": "JP",
                     "sector": "ev", "material": "oxide", "fill_rate": fill,
                     "time_to_recover_days": ttr, "recovered": not np.isnan(ttr),
                     "time_to_survive_days": tts,
                     "tts_anchor_event": "ec" if disruption else "",
                     "tts_anchor_date": pd.Timestamp("2024-01-15") if disruption else pd.NaT})
        rows.append({**rows[-1], "demand_id": "us_ev", "country": "US", "fill_rate": 1.0})
    return pd.DataFrame(rows)


def test_summarize_known_values():
    s = summarize(summary_input(), columns=("fill_rate", "time_to_recover_days",
                                            "time_to_survive_days"))
    assert list(s.columns) == SUMMARY_COLUMNS
    assert list(zip(s["demand_id"], s["metric"], strict=True)) == [
        ("jp_ev", "fill_rate"), ("jp_ev", "time_to_recover_days"),
        ("jp_ev", "time_to_survive_days"), ("us_ev", "fill_rate"),
        ("us_ev", "time_to_recover_days"), ("us_ev", "time_to_survive_days")]
    fill = s.iloc[0]
    assert (fill["country"], fill["sector"], fill["material"]) == ("JP", "ev", "oxide")
    assert fill["n"] == 5 and fill["n_valid"] == 5
    assert fill["mean"] == pytest.approx(0.7)
    half = 2.7764451051977934 * math.sqrt(0.025) / math.sqrt(5)
    assert fill["ci95_low"] == pytest.approx(0.7 - half, rel=1e-12)
    assert fill["ci95_high"] == pytest.approx(0.7 + half, rel=1e-12)
    assert [fill["p5"], fill["p50"], fill["p95"]] == pytest.approx([0.52, 0.7, 0.88])
    assert math.isnan(fill["share_recovered"])

    ttr = s.iloc[1]  # [7, 14, nan, 21, 0]: one replication never recovers
    assert ttr["n"] == 5 and ttr["n_valid"] == 4 and ttr["mean"] == 10.5
    assert ttr["share_recovered"] == 0.8
    # sorted 0, 7, 14, 21, inf: p50 = 14, p95 between 21 and inf
    assert ttr["p5"] == pytest.approx(1.4) and ttr["p50"] == 14 and ttr["p95"] == math.inf

    tts = s.iloc[2]  # [3, nan, 10, 4, 5]
    assert tts["n_valid"] == 4 and tts["mean"] == 5.5 and tts["p50"] == 5
    assert tts["p95"] == math.inf and math.isnan(tts["share_recovered"])
    assert (tts["tts_anchor_event"], tts["tts_anchor_date"]) == ("ec", "2024-01-15")
    assert (ttr["tts_anchor_event"], ttr["tts_anchor_date"]) == ("", "")

    us = s.iloc[3]  # identical values: a zero-width interval
    assert us["mean"] == 1.0 and us["ci95_low"] == 1.0 and us["ci95_high"] == 1.0


def test_summarize_without_disruption_and_defaults(scenario):
    s = summarize(summary_input(disruption=False), columns=("time_to_survive_days",))
    # not applicable: no inf percentiles, stats over the finite values
    assert s.iloc[0]["p95"] == pytest.approx(9.25) and s.iloc[0]["n_valid"] == 4
    full = summarize(replication_metrics(frame(ALL), scenario), percentiles=(10, 90))
    assert {"p10", "p90"} <= set(full.columns) and "p50" not in full.columns
    assert len(full) == len(ALL) * len(SUMMARY_METRICS)
    assert full.groupby("demand_id").size().eq(len(SUMMARY_METRICS)).all()
    with pytest.raises(ValueError, match="nope"):
        summarize(summary_input(), columns=("nope",))


# --------------------------------------------------------------------------- concentration

def production(rows) -> pd.DataFrame:
    """rows: (replication, day, facility, country, stage, material, tonnes)."""
    df = pd.DataFrame(rows, columns=["replication", "day", "facility", "country", "stage",
                                     "material", "tonnes"])
    df["date"] = START + pd.to_timedelta(df["day"], unit="D")
    for col in ("facility", "country", "stage", "material"):
        df[col] = pd.Categorical(df[col])
    return df


PROD = production([
    # January (days 0 and 7): mine CN 30+20 vs AU 25+25 -> 50/50
    (0, 0, "cn_mine", "CN", "mine", "ore", 30.0),
    (0, 7, "cn_mine", "CN", "mine", "ore", 20.0),
    (0, 0, "au_mine", "AU", "mine", "ore", 25.0),
    (0, 7, "au_mine", "AU", "mine", "ore", 25.0),
    # separation in January: two CN plants 45 + 45, MY 10 -> 90/10
    (0, 0, "cn_sep_a", "CN", "separation", "oxide", 45.0),
    (0, 0, "cn_sep_b", "CN", "separation", "oxide", 45.0),
    (0, 7, "my_sep", "MY", "separation", "oxide", 10.0),
    (0, 7, "my_sep", "MY", "separation", "cerium", 99.0),
    # February (day 35): only AU mines; separation idle
    (0, 35, "au_mine", "AU", "mine", "ore", 40.0),
    (0, 35, "cn_sep_a", "CN", "separation", "oxide", 0.0),
    # replication 1, January: CN alone
    (1, 0, "cn_mine", "CN", "mine", "ore", 10.0),
])


def test_stage_concentration_by_month():
    c = stage_concentration(PROD, material=["ore", "oxide"])
    got = {(r.replication, str(r.date.date()), r.stage): r for r in c.itertuples()}
    assert list(c.columns) == ["replication", "date", "stage", "total_t", "hhi", "china_share",
                               "n_sources"]
    assert len(c) == 5
    mine = got[(0, "2024-01-01", "mine")]
    assert (mine.total_t, mine.hhi, mine.china_share, mine.n_sources) == (100, 5000, 0.5, 2)
    sep = got[(0, "2024-01-01", "separation")]
    assert sep.hhi == pytest.approx(8200) and sep.china_share == 0.9 and sep.n_sources == 2
    feb = got[(0, "2024-02-01", "mine")]
    assert (feb.hhi, feb.china_share) == (10000, 0)
    idle = got[(0, "2024-02-01", "separation")]
    assert idle.total_t == 0 and math.isnan(idle.hhi) and math.isnan(idle.china_share)
    assert idle.n_sources == 0
    assert got[(1, "2024-01-01", "mine")].china_share == 1


def test_stage_concentration_by_facility_step_and_all_materials():
    c = stage_concentration(PROD, by="facility", period="step", material="oxide")
    jan1 = c[(c["replication"] == 0) & (c["date"] == START)].iloc[0]
    assert jan1["stage"] == "separation" and jan1["hhi"] == 5000  # 45/45
    assert jan1["china_share"] == 1
    jan8 = c[(c["replication"] == 0) & (c["date"] == START + pd.Timedelta(days=7))].iloc[0]
    assert jan8["hhi"] == 10000 and jan8["china_share"] == 0
    # all outputs of the stage together: cerium counts (in its own tonnes)
    allm = stage_concentration(PROD)
    sep = allm[(allm["stage"] == "separation") & (allm["date"] == START)].iloc[0]
    assert sep["total_t"] == 199 and sep["china_share"] == pytest.approx(90 / 199)
    assert sep["hhi"] == pytest.approx((100 * 90 / 199) ** 2 + (100 * 109 / 199) ** 2)


def flows(rows) -> pd.DataFrame:
    """rows: (replication, day, origin, destination, material, tonnes)."""
    df = pd.DataFrame(rows, columns=["replication", "day", "origin", "destination", "material",
                                     "tonnes"])
    df["date"] = START + pd.to_timedelta(df["day"], unit="D")
    return df


FLOWS = flows([
    (0, 0, "CN", "MY", "oxide", 30.0),
    (0, 7, "MY", "JP", "oxide", 6.0),
    (0, 7, "CN", "JP", "oxide", 20.0),
    (0, 35, "AU", "JP", "oxide", 5.0),
    (0, 35, "CN", "JP", "ore", 1000.0),  # another material: ignored
])


def test_origin_mix_world_and_destination():
    world = origin_mix(FLOWS, PROD, "oxide")
    assert list(world.columns) == ["replication", "date", "origin", "tonnes", "share"]
    jan = world[world["date"] == START].set_index("origin")
    assert jan.loc["CN", "tonnes"] == 90 and jan.loc["CN", "share"] == 0.9
    assert jan.loc["MY", "share"] == pytest.approx(0.1)
    feb = world[world["date"] == pd.Timestamp("2024-02-01")].set_index("origin")
    assert feb["tonnes"].tolist() == [0.0, 0.0]  # the grid is full; shares undefined
    assert feb["share"].isna().all()
    # by stage: same as every output of the stage (oxide + cerium)
    sep = origin_mix(FLOWS, PROD, stage="separation")
    assert sep[sep["date"] == START].set_index("origin")["tonnes"].to_dict() == \
        {"CN": 90.0, "MY": 109.0}

    # Malaysia's oxide: its own 10 t less 6 t exported, plus 30 t from CN
    my = origin_mix(FLOWS, PROD, "oxide", destination="MY")
    assert my[my["date"] == START].set_index("origin")["tonnes"].to_dict() == \
        {"CN": 30.0, "MY": 4.0}
    jp = origin_mix(FLOWS, PROD, "oxide", destination="JP")
    jan_jp = jp[jp["date"] == START].set_index("origin")
    assert jan_jp["tonnes"].to_dict() == {"AU": 0.0, "CN": 20.0, "MY": 6.0}
    assert jan_jp["share"].to_dict() == pytest.approx({"AU": 0.0, "CN": 20 / 26, "MY": 6 / 26})
    feb_jp = jp[jp["date"] == pd.Timestamp("2024-02-01")].set_index("origin")
    assert feb_jp["share"].to_dict() == {"AU": 1.0, "CN": 0.0, "MY": 0.0}
    with pytest.raises(ValueError, match="material or a stage"):
        origin_mix(FLOWS, PROD)


def test_every_output_column_is_documented():
    from pathlib import Path

    from simulator.analysis import CONCENTRATION_COLUMNS, ORIGIN_MIX_COLUMNS, PAIRED_COLUMNS

    text = (Path(__file__).resolve().parents[1] / "docs" / "metrics.md").read_text()
    cols = {*METRIC_COLUMNS, *SUMMARY_COLUMNS, *CONCENTRATION_COLUMNS, *ORIGIN_MIX_COLUMNS,
            *PAIRED_COLUMNS}
    missing = sorted(c for c in cols if not re.search(rf"\b{c}\b", text))
    assert not missing, f"columns missing from docs/metrics.md: {missing}"
