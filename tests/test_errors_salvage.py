"""Structural and reference errors are reported in one pass (issue 11, defect 9).

Engine v1's loader stopped at pydantic's structural errors: a misspelled event ``type`` hid an
unknown country, facility or material elsewhere until it was fixed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator.scenario import ScenarioError, load_scenario

TINY = (Path(__file__).parent / "fixtures" / "tiny.yaml").read_text()

FIVE_PROBLEMS = TINY.replace(
    "  my_refinery: {country: MY, recipe: refining, capacity_tpy: 2000}\n",
    "  my_refinery: {country: MY, recipe: refining, capacity_tpy: 2000}\n"
    "  xx_mine: {country: XX, recipe: mining, capacity_tpy: 500}\n",
).replace(
    "  jp_ev: {country: JP, sector: ev, material: oxide, rate_tpy: 1000, cover_days: 30}\n",
    "  jp_ev: {country: JP, sector: ev, material: oxide, rate_tpy: 1000, cover_days: 30}\n"
    "  jp_wind: {country: JP, sector: wind, material: oxyde, rate_tpy: 100}\n",
).replace(
    "  jp_oxide: {country: JP, material: oxide, suppliers: {MY: 1.0}}\n",
    "  jp_oxide: {country: JP, material: oxide, suppliers: {MY: 0.5, QQ: 0.5}}\n",
) + """events:
  typo:
    type: export_contrl
    exporter: AU
    mode: ban
    effective: 2024-06-01
  outage:
    type: facility_outage
    facilities: [au_mines]
    start: 2024-06-01
"""


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_every_problem_at_once(tmp_path: Path) -> None:
    path = tmp_path / "five.yaml"
    path.write_text(FIVE_PROBLEMS)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    out = [str(p) for p in info.value.problems]
    expected = {
        "export_contrl": "events.typo.type: unknown type 'export_contrl'",
        "xx_mine": "facilities.xx_mine.country: unknown country 'XX'",
        "oxyde": "demand.jp_wind.material: unknown material 'oxyde'",
        "QQ: 0.5": "sourcing.jp_oxide.suppliers.QQ: unknown country 'QQ'",
        "au_mines": "events.outage.facilities.0: unknown facility 'au_mines'",
    }
    for anchor, message in expected.items():
        line = line_of(path, anchor)
        assert any(p.startswith(f"{path}:{line}:") and message in p for p in out), (
            message, out)


def test_no_cascade_from_the_item_that_failed(tmp_path: Path) -> None:
    """An event that fails to parse is not cross-checked, and nothing is reported only
    because it is missing (a facility with a broken field is not "unknown" to an outage)."""
    text = TINY.replace("  au_mine: {country: AU, recipe: mining, capacity_tpy: 2000}\n",
                        "  au_mine: {country: AU, recipe: mining, capacity_tpy: lots}\n")
    text += ("events:\n  outage:\n    type: facility_outage\n    facilities: [au_mine]\n"
             "    start: 2024-06-01\n")
    path = tmp_path / "cascade.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    out = [str(p) for p in info.value.problems]
    assert len(out) == 1 and "facilities.au_mine.capacity_tpy" in out[0], out


def test_cli_reports_all_five_with_exit_65(tmp_path: Path) -> None:
    path = tmp_path / "five.yaml"
    path.write_text(FIVE_PROBLEMS)
    done = subprocess.run([sys.executable, "-m", "simulator", "validate", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 65
    for text in ("export_contrl", "'XX'", "'oxyde'", "'QQ'", "'au_mines'"):
        assert text in done.stderr, (text, done.stderr)
    assert "Traceback" not in done.stderr
