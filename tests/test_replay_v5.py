"""V5 China October 2025 expansion: both variants run, every check passes, and the variants
differ only as documented (suspension switched off, extraterritorial rule from 1 Dec)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from simulator.replays import Replay
from simulator.replays import v5_china_controls_2025_10 as v5
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def replay() -> Replay:
    return v5.run_replay(ROOT)


@pytest.mark.slow
def test_every_check_passes(replay: Replay) -> None:
    table = replay.table()
    assert replay.passed, "\n" + table.to_string()


def test_checks_cover_both_variants(replay: Replay) -> None:
    names = [c.name for c in replay.checks]
    assert sum(n.startswith("suspended:") for n in names) == 4
    assert sum(n.startswith("not suspended:") for n in names) == 2


def test_variants_differ_only_by_the_suspension() -> None:
    sus = load_scenario(ROOT / "scenarios" / v5.SUSPENDED)
    nots = load_scenario(ROOT / "scenarios" / v5.NOT_SUSPENDED)
    assert set(nots.events) - set(sus.events) == {v5.EXTRATERRITORIAL_EVENT}
    assert nots.events["cn_licences_2025_10_busan"].probability == 0
    assert sus.events["cn_licences_2025_10_expansion"].end.isoformat() == "2025-10-30"
    ev = nots.events[v5.EXTRATERRITORIAL_EVENT]
    assert ev.extraterritorial is not None and ev.extraterritorial.min_content == 0.001
    assert ev.effective.isoformat() == "2025-12-01"
    # the April 2025 regime underneath is V2's
    v2 = load_scenario(ROOT / "scenarios" / "china_controls_2025_04.yaml")
    assert set(v2.events) < set(sus.events)
    # no two licence regimes overlap on the same dates (they would not combine in the engine)
    for s in (sus, nots):
        live = [e for e in s.events.values() if e.probability > 0]
        spans = sorted((e.effective, e.end or s.end_date) for e in live)
        assert all(a[1] <= b[0] for a, b in pairwise(spans))


def test_every_magnet_made_outside_china_is_caught_by_the_rule() -> None:
    nots = load_scenario(ROOT / "scenarios" / v5.NOT_SUSPENDED)
    assert {"DE", "JP", "VN", "KR", "US"} <= set(v5.reexporters(nots))


def test_not_suspended_hits_magnet_users_outside_china(replay: Replay) -> None:
    by_sector = replay.tables["shortfall_by_sector"]
    assert by_sector["suspended"].sum() == 0
    assert by_sector["not_suspended"].sum() > 100  # tonnes, not rounding noise


def test_figure(replay: Replay) -> None:
    fig = v5.replay_figure(replay)
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert sum("not suspended" in t for t in labels) >= 2


def test_docs_gallery_shows_this_run(replay) -> None:
    """docs/replays: the check table and the gallery card are this run's (no second run)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gallery", ROOT / "docs" / "_ext" / "gallery.py")
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    gallery.assert_in_sync("v5_china_controls_2025_10", replay)
