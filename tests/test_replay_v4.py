"""Replay V4 (Myanmar outage, Oct 2024): every check passes, and the checks can fail."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from simulator.replays.v4_myanmar_kachin_2024 import SCENARIO, replay_figure, run_replay

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def replay():
    return run_replay(ROOT)


def _table(replay) -> str:
    with pd.option_context("display.width", 250, "display.max_colwidth", 80):
        return replay.table().to_string(index=False)


def test_every_check_passes(replay) -> None:
    assert len(replay.checks) >= 5
    assert replay.passed, "V4 checks failed:\n" + _table(replay)


def test_checks_name_their_sources(replay) -> None:
    assert all(c.source for c in replay.checks), _table(replay)


def test_reported_figures_cover_dytb_outside_china(replay) -> None:
    reported = replay.tables["reported"]
    text = " ".join(reported["figure"])
    for needle in ("Dy/Tb oxide output", "Dy/Tb oxide + metal exports", "outside China"):
        assert needle in text
    assert reported["value"].notna().all()
    assert {"JP", "US", "DE"} <= set(replay.tables["fill_by_country"].index)


def test_nothing_changes_before_the_capture(replay) -> None:
    m = replay.tables["monthly"]
    before = m[m.index < pd.Timestamp("2024-10-01")]
    cols = ["mm_cn_rel", "cn_dytb_oxide_rel", "cn_magnet_exports_rel", "fill_outside_cn"]
    assert (before[cols] - 1.0).abs().max().max() < 1e-9


def test_a_milder_outage_fails_the_history_checks(tmp_path: Path) -> None:
    """With half of Myanmar's capacity lost, flows never reach <= 20% of baseline."""
    (tmp_path / "scenarios").mkdir()
    shutil.copy(ROOT / "scenarios" / "baseline.yaml", tmp_path / "scenarios" / "baseline.yaml")
    text = (ROOT / "scenarios" / SCENARIO).read_text(encoding="utf-8")
    text, n = re.subn(r"capacity_lost: [0-9.]+", "capacity_lost: 0.5", text)
    assert n == 1
    (tmp_path / "scenarios" / SCENARIO).write_text(text, encoding="utf-8")
    mild = run_replay(tmp_path)
    failed = {c.name.split(":")[0].split(",")[0] for c in mild.checks if not c.passed}
    assert "Myanmar -> China concentrate" in failed, _table(mild)
    assert not mild.passed


def test_figure_has_two_panels(replay) -> None:
    fig = replay_figure(replay)
    assert len(fig.axes) == 2
    assert all(ax.get_legend() is not None for ax in fig.axes)


def test_docs_gallery_shows_this_run(replay) -> None:
    """docs/replays: the check table and the gallery card are this run's (no second run)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gallery", ROOT / "docs" / "_ext" / "gallery.py")
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    gallery.assert_in_sync("v4_myanmar_kachin_2024", replay)
