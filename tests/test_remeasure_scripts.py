"""The scripts that re-measure hand-written figures of docs/ run, and what they print is
what the pages say (scripts/page_figures.py, scripts/v7_calibrate.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import load_module

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str):
    return load_module(ROOT / "scripts" / f"{name}.py")


def test_page_figures_v4_is_what_markets_md_says(capsys) -> None:
    assert _script("page_figures").main(["v4"]) == 0
    out = capsys.readouterr().out
    short, thrifted = re.search(r"shortfall ([\d,]+) t, China designs out ([\d,]+) t", out).groups()
    page = (ROOT / "docs" / "markets.md").read_text()
    assert f"{short} t)" in page and f"design out {thrifted} t" in page


def test_page_figures_rejects_an_unknown_section(capsys) -> None:
    assert _script("page_figures").main(["nope"]) == 2
    assert "unknown section" in capsys.readouterr().err


def test_v7_calibrate_runs_and_names_its_pick(capsys) -> None:
    assert _script("v7_calibrate").main(["-n", "1", "-d", "6"]) == 0
    out = capsys.readouterr().out
    assert "the rule picks adjustment_days = 6" in out
    assert re.search(r"^\s+6\s+\d+\.\d\d", out, re.MULTILINE)


@pytest.mark.slow
def test_page_figures_v2_and_v5_are_what_their_pages_say(capsys) -> None:
    """Every table row scripts/page_figures.py prints for V2 is on its page, and V5's
    figures are in its list."""
    assert _script("page_figures").main(["v2", "v5"]) == 0
    out = capsys.readouterr().out.splitlines()
    v2_page = (ROOT / "docs" / "replays" / "v2-china-controls-2025-04.md").read_text()
    rows = [line for line in out if line.startswith("| ")]
    assert len(rows) == 11 and all(row in v2_page for row in rows)
    downstream = next(line for line in out if line.startswith("downstream"))
    tonnes = re.search(r"short, ([\d,]+) t in all", downstream).group(1)
    assert f"{tonnes} t in all" in v2_page
    v5_page = (ROOT / "docs" / "replays" / "v5-china-controls-2025-10.md").read_text()
    total = re.search(r"([\d,]+) t short;", next(line for line in out
                                                 if line.startswith("v5 not"))).group(1)
    assert f"{total} t of magnet demand outside China goes unmet" in v5_page
