"""V6 allied responses: the three shipped scenarios run, every check passes, and the tables
and figure the docs page shows are built from the same run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from simulator.replays import v6_allied_response as v6

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def replay():
    return v6.run_replay(ROOT)


@pytest.mark.slow
def test_every_check_passes_but_the_documented_gaps(replay) -> None:
    table = replay.table()
    failing = set(table.loc[~table["passed"], "name"])
    assert failing == set(v6.EXPECTED_FAILURES), "\n" + table[~table["passed"]].to_string()


def test_checks_cover_the_brief(replay) -> None:
    names = " | ".join(c.name for c in replay.checks)
    assert names.count("output of new facilities before 2027-01-01") == 2
    assert "cut in JP + US magnet shortfall after 2028" in names
    for group in v6.HEADLINE:
        assert f"{group}: extra shortfall" in names


def test_plausibility_bound_reads_the_new_facilities() -> None:
    new = v6.new_facilities(v6.load(ROOT))
    assert {"usjp_heavy_separation", "usjp_dytb_metal", "usjp_magnets",
            "usjp_heavy_feed_mine"} <= set(new["framework"])
    assert {"arafura_nolans_mine", "arafura_nolans_separation", "us_mp_10x_magnets",
            "us_mp_separation_10x"} <= set(new["allies"]) and set(new["framework"]) <= set(
        new["allies"])


def test_summary_has_every_scenario_and_group(replay) -> None:
    s = replay.tables["summary"]
    assert set(s["scenario"]) == set(v6.SCENARIOS)
    assert set(s["group"]) == set(v6.GROUPS)
    assert (s["replications"] == v6.REPLICATIONS).all()
    assert s["trough_p50"].between(0, 1).all()
    # each response leaves both countries' magnet users less short than the threat alone
    for group in ("JP all magnets", "US all magnets"):
        g = s[s["group"] == group].set_index("scenario")["shortfall_t_p50"]
        assert g["allies"] < g["threat"] and g["framework"] < g["threat"]


def test_recovery_metric_on_a_known_curve() -> None:
    dates = pd.date_range("2026-10-26", periods=60, freq="7D")
    fill = np.r_[np.ones(5), np.full(20, 0.5), np.ones(35)]
    curves = pd.DataFrame({
        "scenario": "threat", "group": "JP ev", "replication": 0, "day": np.arange(60) * 7,
        "date": dates, "demand_t": 10.0, "delivered_t": 10.0 * fill,
        "shortfall_t": 10.0 * (1 - fill), "fill": fill,
    })
    roll = curves[["demand_t", "delivered_t"]].rolling(v6.WINDOW_STEPS, min_periods=1).sum()
    curves["fill_13w"] = roll["delivered_t"] / roll["demand_t"]
    m = v6.replication_metrics(curves, pd.Timestamp("2026-10-30")).iloc[0]
    assert m["trough"] == pytest.approx(0.5)
    first_short = dates[5]  # 2026-11-30
    assert m["weeks_to_short"] == pytest.approx((first_short - pd.Timestamp("2026-10-30")).days / 7)
    assert m["shortfall_t"] == pytest.approx(100.0)
    # sustained recovery: the first 13-week window with at most one half-filled week
    first_ok = curves.loc[(curves["fill_13w"] >= 0.95) & (curves.index > 24), "date"].iloc[0]
    assert m["recovered"] == first_ok


def test_figure_and_markdown(replay) -> None:
    fig = v6.replay_figure(replay)
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    assert len(axes) == len(v6.FIGURE_GROUPS)
    for ax in axes:
        assert len(ax.get_lines()) >= len(v6.SCENARIOS)
    md = v6.results_markdown(replay)
    assert md.count("\n") == 1 + len(v6.GROUPS) * len(v6.SCENARIOS)
    assert "threat alone" in md and "+ all allied responses" in md


def test_docs_gallery_shows_this_run(replay) -> None:
    """docs/replays: the check table and the gallery card are this run's (no second run)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gallery", ROOT / "docs" / "_ext" / "gallery.py")
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    gallery.assert_in_sync("v6_allied_response", replay)
