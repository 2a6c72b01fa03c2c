"""Paired differences between two scenarios' per-replication metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simulator.analysis import (
    PAIRED_COLUMNS,
    paired_differences,
    replication_metrics,
    t_critical_95,
)
from tests.conftest import make_scenario


def metrics_frame(values: dict[str, np.ndarray], demand_id="jp_ev", country="JP",
                  replications=None) -> pd.DataFrame:
    n = len(next(iter(values.values())))
    reps = np.arange(n) if replications is None else np.asarray(replications)
    return pd.DataFrame({"replication": reps.astype(np.int32), "demand_id": demand_id,
                         "country": country, "sector": "ev", "material": "oxide", **values})


def test_known_true_difference_is_recovered():
    rng = np.random.default_rng(2024)
    a = rng.normal(0.8, 0.05, 400)
    b = a + 0.1 + rng.normal(0.0, 0.02, 400)
    out = paired_differences(metrics_frame({"fill_rate": a}), metrics_frame({"fill_rate": b}),
                             metrics=("fill_rate",))
    assert list(out.columns) == PAIRED_COLUMNS
    r = out.iloc[0]
    assert (r["demand_id"], r["country"], r["metric"]) == ("jp_ev", "JP", "fill_rate")
    assert r["n_pairs"] == 400 and r["n"] == 400
    assert r["ci95_low"] < 0.1 < r["ci95_high"]
    assert r["ci_excludes_zero"]
    d = b - a
    # exact formula: mean -+ t(0.975, 399) * sd / sqrt(n)
    half = t_critical_95(399) * d.std(ddof=1) / math.sqrt(400)
    assert r["mean_diff"] == pytest.approx(d.mean(), rel=1e-14)
    assert r["ci95_low"] == pytest.approx(d.mean() - half, rel=1e-14)
    assert r["ci95_high"] == pytest.approx(d.mean() + half, rel=1e-14)
    assert r["mean_a"] == pytest.approx(a.mean()) and r["mean_b"] == pytest.approx(b.mean())
    # pairing matters: the CI is far narrower than the unpaired spread would give
    assert r["ci95_high"] - r["ci95_low"] < 0.01


def test_identical_inputs_give_zero_and_a_zero_width_interval():
    rng = np.random.default_rng(5)
    m = metrics_frame({"fill_rate": rng.random(50), "time_to_recover_days": rng.random(50)})
    out = paired_differences(m, m.copy(), metrics=("fill_rate", "time_to_recover_days"))
    assert len(out) == 2
    assert (out["mean_diff"] == 0).all()
    assert (out["ci95_low"] == 0).all() and (out["ci95_high"] == 0).all()
    assert not out["ci_excludes_zero"].any()


def test_known_small_sample_and_constant_shift():
    a = metrics_frame({"x": np.array([1.0, 1.0, 1.0])})
    b = metrics_frame({"x": np.array([2.0, 3.0, 4.0])})
    r = paired_differences(a, b, metrics=("x",)).iloc[0]
    half = 4.302652729749462 * 1.0 / math.sqrt(3)  # d = 1, 2, 3: mean 2, sd 1, t(2)
    assert r["mean_diff"] == 2.0
    assert (r["ci95_low"], r["ci95_high"]) == pytest.approx((2 - half, 2 + half), rel=1e-15)
    assert r["ci95_low"] < 0 and not r["ci_excludes_zero"]  # wide with 3 pairs
    # a deterministic shift: zero-width interval that excludes 0
    c = metrics_frame({"x": np.array([1.5, 1.5, 1.5])})
    r = paired_differences(a, c, metrics=("x",)).iloc[0]
    assert (r["mean_diff"], r["ci95_low"], r["ci95_high"]) == (0.5, 0.5, 0.5)
    assert r["ci_excludes_zero"]


def test_pairs_by_replication_not_row_order_and_ignores_unmatched():
    a = metrics_frame({"x": np.array([1.0, 2.0, 3.0, 4.0])})
    b = metrics_frame({"x": np.array([30.0, 10.0, 20.0, 99.0])}, replications=[2, 0, 1, 7])
    r = paired_differences(a, b, metrics=("x",)).iloc[0]
    # pairs: rep 0 (1, 10), rep 1 (2, 20), rep 2 (3, 30); rep 3 and rep 7 are unmatched
    assert r["n_pairs"] == 3 and r["n"] == 3
    assert r["mean_diff"] == pytest.approx((9 + 18 + 27) / 3)
    assert r["mean_a"] == 2.0 and r["mean_b"] == 20.0


def test_nan_pairs_are_dropped_and_booleans_count():
    a = metrics_frame({"time_to_recover_days": np.array([14.0, np.nan, 28.0, 7.0]),
                       "recovered": np.array([True, False, True, True])})
    b = metrics_frame({"time_to_recover_days": np.array([7.0, 21.0, np.nan, 7.0]),
                       "recovered": np.array([True, True, False, True])})
    out = paired_differences(a, b, metrics=("time_to_recover_days", "recovered"))
    ttr, rec = out.iloc[0], out.iloc[1]
    assert ttr["n_pairs"] == 4 and ttr["n"] == 2  # reps 1 and 2 have a NaN
    assert ttr["mean_diff"] == -3.5 and ttr["mean_a"] == 10.5 and ttr["mean_b"] == 7.0
    assert rec["n"] == 4 and rec["mean_diff"] == 0.0
    # one pair only: no interval
    one = paired_differences(a.iloc[:1], b.iloc[:1], metrics=("time_to_recover_days",))
    assert one.iloc[0]["n"] == 1 and math.isnan(one.iloc[0]["ci95_low"])
    assert not one.iloc[0]["ci_excludes_zero"]


def test_several_sectors_and_errors():
    a = pd.concat([metrics_frame({"x": np.array([1.0, 2.0])}, demand_id="us_ev", country="US"),
                   metrics_frame({"x": np.array([1.0, 2.0])})])
    b = pd.concat([metrics_frame({"x": np.array([1.0, 2.0])}, demand_id="us_ev", country="US"),
                   metrics_frame({"x": np.array([2.0, 3.0])})])
    out = paired_differences(a, b, metrics=("x",))
    assert list(out["demand_id"]) == ["jp_ev", "us_ev"]
    assert list(out["country"]) == ["JP", "US"]
    assert list(out["mean_diff"]) == [1.0, 0.0]
    with pytest.raises(ValueError, match="missing"):
        paired_differences(a, b, metrics=("y",))
    empty = paired_differences(a.iloc[:0], b, metrics=("x",))
    assert list(empty.columns) == PAIRED_COLUMNS and empty.empty


def test_on_engine_runs_with_common_random_numbers():
    """Same seed, same replication: identical scenarios differ by exactly nothing, and an
    outage makes things measurably worse."""
    from simulator.runner.replications import run_scenario

    noisy = {"demand": {"jp_ev": {"cv": 0.3}}}
    base = make_scenario(**noisy)
    worse = make_scenario(**noisy, events={"out": {
        "type": "facility_outage", "facilities": ["my_refinery"], "start": "2024-06-03",
        "duration_days": 120}})
    ma = replication_metrics(run_scenario(base, replications=4, seed=3).timeseries, base)
    mb = replication_metrics(run_scenario(worse, replications=4, seed=3).timeseries, worse)
    same = paired_differences(ma, ma.copy())
    assert (same["mean_diff"].fillna(0) == 0).all()
    diff = paired_differences(ma, mb).set_index("metric")
    assert diff.loc["cumulative_shortfall_t", "mean_diff"] > 0
    assert diff.loc["fill_rate", "mean_diff"] < 0
