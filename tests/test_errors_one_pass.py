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
        "stockpile_policy, price_floor, offtake, investment_subsidy",
        f"{at(path, 'au_mines')}: events.outage.facilities.0: unknown facility 'au_mines' "
        "(did you mean 'au_mine'?)",
        f"{at(path, 'country: XX')}: facilities.xx_mine.country: unknown country 'XX'",
        f"{at(path, 'material: oxyde')}: demand.jp_wind.material: unknown material "
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


# ------------------------------------------------------------- one kind of mix per test


def messages(tmp_path: Path, body: str) -> list[str]:
    """``key.path: message`` of every problem of tiny.yaml extended by ``body``."""
    path = write(tmp_path, f"extends: {TINY}\n{body}", "case.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    for p in info.value.problems:
        assert p.file == str(path) and p.line >= 1 and p.col >= 1, p
    return [str(p).split(": ", 1)[1] for p in info.value.problems]


def test_unparsed_facility_is_no_unknown_facility_and_no_missing_producer(
        tmp_path: Path) -> None:
    # my_refinery fails, so nothing may say MY lacks an oxide producer or the outage's
    # facility is unknown; the unknown demand country elsewhere is still reported.
    assert messages(tmp_path, (
        "facilities:\n"
        "  my_refinery: {capacity_tpy: -1}\n"
        "demand:\n"
        "  jp_ev: {country: JX}\n"
        "events:\n"
        "  outage: {type: facility_outage, facilities: [my_refinery], start: 2024-06-01}\n"
    )) == [
        "facilities.my_refinery.capacity_tpy: Input should be greater than or equal to 0",
        "demand.jp_ev.country: unknown country 'JX' (did you mean 'JP'?)",
    ]


def test_facility_an_unparsed_agreement_builds_is_known(tmp_path: Path) -> None:
    # The agreement fails (one member), so its plant's id is not unknown to the outage and
    # JP is not said to lack an ore producer; the outage's unknown stage is still reported.
    assert messages(tmp_path, (
        "sourcing:\n"
        "  jp_ore: {country: JP, material: ore, suppliers: {JP: 1.0}}\n"
        "events:\n"
        "  deal:\n"
        "    type: cooperation_agreement\n"
        "    members: [JP]\n"
        "    signed: 2024-02-01\n"
        "    facilities:\n"
        "      jp_mine: {country: JP, recipe: mining, capacity_tpy: 10,\n"
        "                investment_decision: 2024-02-01, construction_days: 30}\n"
        "  outage: {type: facility_outage, facilities: [jp_mine], stage: mines,\n"
        "           start: 2024-06-01}\n"
    )) == [
        "events.deal.members: List should have at least 2 items after validation, not 1",
        "events.outage.stage: unknown stage 'mines' (did you mean 'mine'?)",
    ]


def test_unparsed_demand_stockpile_and_material_cause_no_reference_errors(
        tmp_path: Path) -> None:
    assert messages(tmp_path, (
        "materials:\n"
        "  oxide: {elements: {Nd: 2}}\n"
        "demand:\n"
        "  jp_ev: {rate_tpy: many}\n"
        "stockpiles:\n"
        "  jp_reserve: {country: JP, material: oxide, holdings_t: 10}\n"
        "events:\n"
        "  shock: {type: demand_shock, demand: [jp_ev], multiplier: 2, start: 2024-06-01}\n"
        "  policy: {type: stockpile_policy, stockpile: jp_reserve, start: 2024-06-01}\n"
        "  ban: {type: export_control, exporter: MY, elements: [Nd], mode: ban,\n"
        "        effective: 2024-06-01, destinations: [KR]}\n"
    )) == [
        "materials.oxide.elements.Nd: Input should be less than or equal to 1",
        "demand.jp_ev.rate_tpy: Input should be a valid number, unable to parse string as a "
        "number",
        "stockpiles.jp_reserve.release: missing required key 'release'",
        "events.ban.destinations.0: unknown country 'KR'",
    ]


def test_unparsed_top_level_keys_skip_what_needs_them(tmp_path: Path) -> None:
    # No valid dates: no horizon checks (the outage in 2099 is not reported); countries not a
    # mapping: no country references (XX); the unknown recipe is still reported.
    assert messages(tmp_path, (
        "start_date: soon\n"
        "end_date: null\n"
        "countries: [AU, MY, JP]\n"
        "facilities:\n"
        "  xx_mine: {country: XX, recipe: minning, capacity_tpy: 1}\n"
        "events:\n"
        "  outage: {type: facility_outage, facilities: [xx_mine], start: 2099-01-01}\n"
    )) == [
        "end_date: missing required key 'end_date'",
        "start_date: Input should be a valid date or datetime, input is too short",
        "countries: expected a mapping, not a list",
        "facilities.xx_mine.recipe: unknown recipe 'minning' (did you mean 'mining'?)",
    ]


def test_uncertainty_problems_do_not_hide_reference_errors(tmp_path: Path) -> None:
    # Before, any bad distribution skipped every reference check.
    assert messages(tmp_path, (
        "facilities:\n"
        "  au_mine: {capacity_tpy: {triangular: [5000, 4000, 6000]}}\n"
        "demand:\n"
        "  jp_ev: {rate_tpy: {normal: [100, 30]}, material: oxyde}\n"
    )) == [
        "facilities.au_mine.capacity_tpy: invalid triangular [5000, 4000, 6000]: mode 4000 is "
        "not between low 5000 and high 6000",
        "demand.jp_ev.rate_tpy: lower bound -20 (mean - 4 sd) of normal [100, 30]: Input should "
        "be greater than or equal to 0",
        "demand.jp_ev.material: unknown material 'oxyde' (did you mean 'oxide'?)",
    ]


def test_bounds_are_checked_beside_structural_errors(tmp_path: Path) -> None:
    assert messages(tmp_path, (
        "demand:\n"
        "  jp_ev: {rate_tpy: {normal: [100, 30]}}\n"
        "events:\n"
        "  ban: {type: export_ban}\n"
    )) == [
        "demand.jp_ev.rate_tpy: lower bound -20 (mean - 4 sd) of normal [100, 30]: Input should "
        "be greater than or equal to 0",
        "events.ban.type: unknown type 'export_ban' (did you mean 'export_control'?); expected "
        "one of export_control, facility_outage, demand_shock, substitution, "
        "logistics_disruption, tariff, cooperation_agreement, stockpile_policy, price_floor, "
        "offtake, investment_subsidy",
    ]
