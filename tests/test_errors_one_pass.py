"""Structural and reference errors are reported in one pass (issue 11, defect 9).

A part of the document that does not parse (an event with a misspelt type, a facility with a
negative capacity...) is reported and left out of the reference checks; every other part is
still checked, and nothing is reported only because something it depends on failed to parse.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"

MIXED = f"""\
extends: {TINY}
events:
  control:
    type: export_contrl
    exporter: MY
    materials: [oxide]
    mode: ban
    effective: 2024-06-01
  outage:
    type: facility_outage
    facilities: [au_mines]
    start: 2024-06-01
facilities:
  xx_mine: {{country: XX, recipe: mining, capacity_tpy: 100}}
demand:
  jp_wind: {{country: JP, sector: wind, material: oxyde, rate_tpy: 10}}
sourcing:
  au_oxide: {{country: AU, material: oxide, suppliers: {{KR: 1.0}}}}
"""


def write(tmp_path: Path, text: str, name: str = "mixed.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


def at(path: Path, text: str, col_of: str | None = None) -> str:
    """``file:line:col`` of the first line containing ``text`` (col of ``col_of`` in it)."""
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if text in line:
            return f"{path}:{i}:{line.index(col_of or text.strip()) + 1}"
    raise AssertionError(text)


def expected_mixed(path: Path) -> list[str]:
    return [
        f"{at(path, 'type: export_contrl')}: events.control.type: unknown type 'export_contrl' "
        "(did you mean 'export_control'?); expected one of export_control, facility_outage, "
        "demand_shock, substitution, logistics_disruption, tariff, cooperation_agreement, "
        "stockpile_policy",
        f"{at(path, 'au_mines')}: events.outage.facilities.0: unknown facility 'au_mines' "
        "(did you mean 'au_mine'?)",
        f"{at(path, 'country: XX', 'XX')}: facilities.xx_mine.country: unknown country 'XX'",
        f"{at(path, 'material: oxyde', 'oxyde')}: demand.jp_wind.material: unknown material "
        "'oxyde' (did you mean 'oxide'?)",
        f"{at(path, 'KR: 1.0', 'KR')}: sourcing.au_oxide.suppliers.KR: unknown country 'KR'",
    ]


def test_structural_and_reference_errors_in_one_pass(tmp_path: Path) -> None:
    path = write(tmp_path, MIXED)
    assert problems(path) == expected_mixed(path)


def test_one_pass_via_cli(tmp_path: Path) -> None:
    path = write(tmp_path, MIXED)
    proc = subprocess.run([sys.executable, "-m", "simulator", "validate", str(path)],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 65, proc.stderr
    assert "Traceback" not in proc.stderr
    for line in expected_mixed(path):
        assert line in proc.stderr, (line, proc.stderr)
