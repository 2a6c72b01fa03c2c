"""Replay V3 (gallium and germanium, 2023): every check passes, the checks can fail, and every
number of the scenario has a source row."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from ruamel.yaml import YAML
from test_data_sources import numeric_leaves, render_sources, stale, undocumented

from simulator.replays.v3_gallium_germanium_2023 import (
    ANNOUNCED,
    SCENARIO,
    replay_figure,
    run_replay,
)
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
YAML_FILE = ROOT / "scenarios" / SCENARIO
SOURCES = ROOT / "scenarios" / "gallium_germanium_sources.csv"


@pytest.fixture(scope="module")
def replay():
    return run_replay(ROOT)


def _table(replay) -> str:
    with pd.option_context("display.width", 250, "display.max_colwidth", 80):
        return replay.table().to_string(index=False)


# ---------------------------------------------------------------------------- scenario data


def test_scenario_loads_and_is_material_agnostic() -> None:
    s = load_scenario(YAML_FILE)
    assert set(s.countries) >= {"CN", "JP", "KR", "DE", "US", "XR"}
    elements = {e for m in s.materials.values() for e in m.elements}
    assert elements == {"Ga", "Ge"}
    controls = [ev for ev in s.events.values() if ev.type == "export_control"]
    assert {ev.mode for ev in controls} == {"licence", "ban"}
    assert all(ev.elements == ["Ga", "Ge"] for ev in controls)


@pytest.fixture(scope="module")
def leaves() -> list[str]:
    data = YAML(typ="safe", pure=True).load(YAML_FILE.read_text(encoding="utf-8"))
    return numeric_leaves(data)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    """V3's own rows (a row ``other.yaml:path`` is a file extending it: V9's prices)."""
    return [r for r in render_sources.read_rows(SOURCES) if ":" not in r["path"]]


def test_every_number_has_a_source_row(leaves, rows) -> None:
    assert len(leaves) > 100
    missing = undocumented(leaves, rows)
    assert not missing, f"numbers without a row in {SOURCES.name}:\n  " + "\n  ".join(missing)


def test_every_row_matches_a_number(leaves, rows) -> None:
    assert not stale(leaves, rows), f"rows matching no number in {SCENARIO}: {stale(leaves, rows)}"


def test_rows_name_a_source_and_explain_assumptions(rows) -> None:
    problems = []
    for i, r in enumerate(rows, start=2):
        for col in ("path", "figure", "value", "source"):
            if not r[col]:
                problems.append(f"line {i}: empty {col}")
        if r["source"] in {"assumption", "derived"} and len(r["note"]) < 15:
            problems.append(f"line {i}: {r['source']} row without an explanation")
        if r["year"] and not re.fullmatch(r"\d{4}(-\d{4})?", r["year"]):
            problems.append(f"line {i}: year {r['year']!r}")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------- replay


def test_every_check_passes(replay) -> None:
    assert len(replay.checks) >= 6
    assert replay.passed, "V3 checks failed:\n" + _table(replay)


def test_checks_name_their_sources(replay) -> None:
    assert all(c.source for c in replay.checks), _table(replay)


def test_nothing_changes_before_the_announcement(replay) -> None:
    m = replay.tables["monthly"]
    before = m[m.index < ANNOUNCED.to_period("M").to_timestamp()]
    assert len(before) == 6
    cols = ["all_rel", "ga_rel", "ge_rel", "us_rel"]
    assert (before[cols] - 1.0).abs().max().max() < 1e-9
    # the baseline is flat: 2023 months differ only by their number of days
    per_day = m["all_baseline_t"] / m.index.days_in_month
    assert per_day.std() / per_day.mean() < 1e-4


def test_licensed_exports_resume_in_september(replay) -> None:
    sep = replay.tables["monthly"].loc["2023-09-01"]
    assert sep["all_t"] > 0.0
    assert sep["us_t"] == 0.0


def test_checks_can_fail(tmp_path: Path) -> None:
    """Without pre-buying and with an immediate licence, July and August fail."""
    (tmp_path / "scenarios").mkdir()
    text = YAML_FILE.read_text(encoding="utf-8")
    text, n1 = re.subn(r"prebuy_cover_days: \d+", "prebuy_cover_days: 0", text)
    text, n2 = re.subn(r"delay_days: \d+", "delay_days: 0", text)
    text, n3 = re.subn(r"delay_jitter_days: \d+", "delay_jitter_days: 0", text)
    assert (n1, n2, n3) == (1, 1, 1)
    (tmp_path / "scenarios" / SCENARIO).write_text(text, encoding="utf-8")
    shutil.copy(SOURCES, tmp_path / "scenarios" / SOURCES.name)
    weak = run_replay(tmp_path)
    failed = {c.name for c in weak.checks if not c.passed}
    assert "China's Ga+Ge exports, Jul 2023 (x baseline)" in failed, _table(weak)
    assert "China's Ga+Ge exports, Aug 2023 (% of baseline)" in failed, _table(weak)


def test_figure(replay) -> None:
    fig = replay_figure(replay)
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert "simulated: germanium exports" in labels
    assert "history: germanium (customs)" in labels
    assert any(label.startswith("exports to the US banned") for label in labels)


def test_docs_gallery_shows_this_run(replay) -> None:
    """docs/replays: the check table and the gallery card are this run's (no second run)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gallery", ROOT / "docs" / "_ext" / "gallery.py")
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    gallery.assert_in_sync("v3_gallium_germanium_2023", replay)
