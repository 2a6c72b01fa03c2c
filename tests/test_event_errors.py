"""Bad input in events gets located errors and exit code 65, like the rest of the language."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator.scenario import ScenarioError, load_scenario

TINY = (Path(__file__).parent / "fixtures" / "tiny.yaml").read_text()


def with_events(tmp_path: Path, events: str) -> Path:
    path = tmp_path / "events.yaml"
    path.write_text(TINY + "events:\n" + events)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_unknown_facility_and_country_are_located(tmp_path):
    path = with_events(tmp_path, (
        "  outage:\n"
        "    type: facility_outage\n"
        "    facilities: [au_mines]\n"
        "    start: 2024-06-01\n"
        "  control:\n"
        "    type: export_control\n"
        "    exporter: MX\n"
        "    materials: [oxide]\n"
        "    mode: ban\n"
        "    effective: 2024-06-01\n"
    ))
    out = problems(path)
    assert f"{path}:{line_of(path, 'au_mines')}:18: events.outage.facilities.0: unknown " \
           "facility 'au_mines' (did you mean 'au_mine'?)" in out
    assert any(p.startswith(f"{path}:{line_of(path, 'exporter: MX')}:") and
               "events.control.exporter: unknown country 'MX'" in p for p in out)


def test_end_before_start_and_probability_above_one(tmp_path):
    path = with_events(tmp_path, (
        "  shock:\n"
        "    type: demand_shock\n"
        "    sector: ev\n"
        "    multiplier: 2\n"
        "    start: 2024-06-01\n"
        "    end: 2024-05-01\n"
        "    probability: 1.5\n"
    ))
    out = problems(path)
    assert any(f":{line_of(path, 'probability: 1.5')}:" in p
               and "events.shock.probability" in p and "less than or equal to 1" in p
               for p in out), out
    # The shock does not parse, so its dates are checked (and reported) once it does.
    fixed = path.read_text().replace("probability: 1.5", "probability: 0.5")
    path.write_text(fixed)
    out = problems(path)
    assert any(f":{line_of(path, 'end: 2024-05-01')}:" in p and "events.shock.end: end "
               "2024-05-01 must be after start 2024-06-01" in p for p in out), out


def test_element_no_material_contains(tmp_path):
    path = with_events(tmp_path, (
        "  control:\n"
        "    type: export_control\n"
        "    exporter: MY\n"
        "    elements: [Dy]\n"
        "    mode: ban\n"
        "    effective: 2024-06-01\n"
    ))
    out = problems(path)
    assert any("events.control.elements.0: no material contains element 'Dy'" in p
               and f":{line_of(path, 'elements: [Dy]')}:" in p for p in out), out


def test_unknown_event_type_and_date_outside_horizon_via_cli(tmp_path):
    path = with_events(tmp_path, (
        "  a:\n"
        "    type: export_controls\n"
        "    exporter: MY\n"
        "  b:\n"
        "    type: demand_shock\n"
        "    sector: ev\n"
        "    multiplier: 2\n"
        "    start: 2030-01-01\n"
    ))
    proc = subprocess.run([sys.executable, "-m", "simulator", "validate", str(path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 65, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{path}:{line_of(path, 'type: export_controls')}:" in proc.stderr
    assert "events.a" in proc.stderr
