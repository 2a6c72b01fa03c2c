"""Replay V7 (Dy/Tb oxide prices under the April 2025 licences): the market layer's
calibration holds, and the checks can fail."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from simulator.engine import run_replication
from simulator.replays import v7_prices_2025_04 as v7
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def replay():
    return v7.run_replay(ROOT)


def test_every_check_passes(replay) -> None:
    with pd.option_context("display.width", 250, "display.max_colwidth", 80):
        table = replay.table().to_string(index=False)
    assert len(replay.checks) == 4 and all(c.source for c in replay.checks), table
    assert replay.passed, "V7 checks failed:\n" + table


def test_prices_start_at_their_references_and_split_only_after_the_control(replay) -> None:
    usd = replay.tables["usd"]
    jan = usd.loc[pd.Timestamp("2025-01-01")]
    assert jan[v7.EXPORT] == pytest.approx(417, rel=1e-6)
    assert jan[v7.HOME] == pytest.approx(334, rel=1e-6)
    med = replay.tables["median"]
    assert (med.loc[:pd.Timestamp("2025-03-01")] - 1).abs().max().max() < 1e-5  # warm-up tail


def test_a_symmetric_market_fails_the_china_check(tmp_path: Path) -> None:
    """With prices falling as fast in a surplus as they rise in a shortage, China's domestic
    price drops by more than 15% (the 2025 two-tier market needs the asymmetry)."""
    (tmp_path / "scenarios").mkdir()
    for name in ("baseline.yaml", "china_controls_2025_04.yaml", v7.SCENARIO):
        shutil.copy(ROOT / "scenarios" / name, tmp_path / "scenarios" / name)
    path = tmp_path / "scenarios" / v7.SCENARIO
    text = path.read_text(encoding="utf-8").replace("  home: CN",
                                                     "  home: CN\n  surplus_elasticity: 1")
    path.write_text(text, encoding="utf-8")
    symmetric = v7.run_replay(tmp_path, replications=2)
    failed = {c.name.split(" (")[0] for c in symmetric.checks if not c.passed}
    assert "China Dy/Tb oxide, largest move Apr-Jul 2025 vs March" in failed


def test_figure(replay) -> None:
    fig = v7.replay_figure(replay)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert "V7" in ax.get_title(loc="left")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("history" in t for t in labels) and any("China" in t for t in labels)


def test_docs_gallery_shows_this_run(replay) -> None:
    """docs/replays: the check table and the gallery card are this run's (no second run)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gallery", ROOT / "docs" / "_ext" / "gallery.py")
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    gallery.assert_in_sync("v7_prices_2025_04", replay)


def _may_over_march(step_days: int, replications: int = 4) -> float:
    """Median over ``replications`` of the export tier's May / March 2025 price ratio."""
    scenario = load_scenario(ROOT / "scenarios" / v7.SCENARIO,
                             [f"simulation.step_days={step_days}"])
    start = pd.Timestamp(scenario.start_date)
    ratios = []
    for rep in range(replications):
        monthly = v7._monthly(run_replication(scenario, 0, rep).prices, start)[v7.EXPORT]
        ratios.append(monthly.loc[pd.Timestamp("2025-05-01")] / monthly.loc[v7.MARCH])
    return float(pd.Series(ratios).median())


@pytest.mark.slow
@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "known gap (docs/engine.md, 'Prices and the step'): a multi-day step reads its buyers' "
    "stock after the whole step's use and moves the price for all its days at its start; "
    "daily 2.08x against weekly 3.22x (16 replications)"))
def test_known_gap_v7_may_price_is_the_same_daily_and_weekly() -> None:
    """V7's calibration check, May's export price over March's, within 15% at daily and
    weekly steps. Fails now (4 replications: 2.08x daily, 3.22x weekly); when prices
    converge with the step this passes, and strict xfail makes that a failure to notice."""
    daily, weekly = _may_over_march(1), _may_over_march(7)
    assert abs(daily / weekly - 1.0) <= 0.15
