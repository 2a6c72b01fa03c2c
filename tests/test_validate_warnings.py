"""Warnings: valid events that contradict each other or do nothing are reported, located.

``critmin validate`` prints them and exits 0 (``--strict``: 65); ``critmin run`` prints them and
runs; the Python API issues them as ScenarioWarning.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
SHADOWED = ("one control decides a lane, a ban over a quota over a licence")


def scenario(tmp_path: Path, events: str) -> Path:
    path = tmp_path / "warn.yaml"
    path.write_text(f"extends: {TINY}\nname: warn\nevents:\n{events}")
    return path


def validate(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, ["validate", *args])
    return res.exit_code, res.stdout, res.stderr


BAN_QUOTA_LICENCE = """\
  ban: {type: export_control, exporter: MY, materials: [oxide], mode: ban,
        effective: 2025-01-01}
  quota: {type: export_control, exporter: MY, materials: [oxide], destinations: [JP],
          mode: quota, quota_tpy: 100, effective: 2025-03-01, end: 2025-09-01}
  lic: {type: export_control, exporter: MY, materials: [oxide], destinations: [JP],
        mode: licence, licence: {delay_days: 30}, effective: 2025-02-01}
"""


def test_ban_quota_and_licence_on_one_lane_warn(tmp_path: Path) -> None:
    f = scenario(tmp_path, BAN_QUOTA_LICENCE)
    code, out, err = validate(str(f))
    assert code == 0
    assert out == f"OK {f}\n"
    assert err.splitlines() == [
        f"{f}:7:11: events.quota.mode: warning: this quota does nothing: the ban of events.ban "
        f"decides every lane and day it covers (MY -> JP, oxide, 2025-03-01 to 2025-09-01); "
        f"{SHADOWED}",
        f"{f}:9:9: events.lic.mode: warning: this licence does nothing: the ban of events.ban "
        f"decides every lane and day it covers (MY -> JP, oxide, 2025-02-01 to 2026-01-01); "
        f"{SHADOWED}"]


def test_strict_makes_warnings_errors(tmp_path: Path) -> None:
    f = scenario(tmp_path, BAN_QUOTA_LICENCE)
    code, out, err = validate("--strict", str(f), str(TINY))
    assert code == 65
    assert out == f"OK {TINY}\n"
    assert len(err.splitlines()) == 2 and "warning: this quota does nothing" in err


def test_layered_controls_that_each_act_do_not_warn(tmp_path: Path) -> None:
    """A licence regime for everyone, then a ban on one destination: both act somewhere."""
    f = scenario(tmp_path, """\
  lic: {type: export_control, exporter: MY, materials: [oxide], mode: licence,
        licence: {delay_days: 30}, effective: 2025-01-01}
  ban: {type: export_control, exporter: MY, materials: [oxide], destinations: [JP],
        mode: ban, effective: 2025-06-01}
""")
    assert validate("--strict", str(f)) == (0, f"OK {f}\n", "")


def test_no_op_events_warn(tmp_path: Path) -> None:
    f = scenario(tmp_path, """\
  us_us: {type: tariff, importers: [JP], exporters: [AU, JP], rate: 0.25, start: 2025-01-01}
  jam: {type: logistics_disruption, origin: MY, destination: MY, extra_days: 9,
        start: 2025-01-01}
  nothing: {type: facility_outage, country: JP, start: 2025-01-01}
  no_plant: {type: facility_outage, country: AU, stage: separation, start: 2025-01-01}
  self: {type: export_control, exporter: MY, materials: [oxide], destinations: [MY],
         mode: ban, effective: 2025-01-01}
  flat: {type: demand_shock, demand: [jp_ev], multiplier: 1, start: 2025-01-01}
  real: {type: facility_outage, country: AU, stage: mine, start: 2025-01-01, end: 2025-02-01}
""")
    code, _, err = validate(str(f))
    assert code == 0
    assert err.splitlines() == [
        f"{f}:4:58: events.us_us.exporters.1: warning: JP is an importer too, and a tariff on "
        "JP's imports from JP does nothing (domestic supply is not taxed)",
        f"{f}:5:49: events.jam.destination: warning: origin and destination are both MY: "
        "domestic shipments are not trade routes, so this does nothing",
        f"{f}:7:3: events.nothing: warning: selects no facility (country JP): the outage "
        "does nothing",
        f"{f}:8:3: events.no_plant: warning: selects no facility (country AU and stage "
        "separation): the outage does nothing",
        f"{f}:9:66: events.self.destinations: warning: controls no destination (the "
        "exporter's own sales are never controlled): the export control does nothing",
        f"{f}:11:47: events.flat.multiplier: warning: multiplier 1 leaves demand unchanged"]


def test_run_prints_warnings_and_runs(tmp_path: Path) -> None:
    f = scenario(tmp_path, "  nothing: {type: facility_outage, country: JP, "
                           "start: 2025-01-01}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "simulator", "run", str(f), "-j", "1", "--out",
                          str(tmp_path / "results")], env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stderr.splitlines()[0] == (
        f"{f}:4:3: events.nothing: warning: selects no facility (country JP): the outage "
        "does nothing")
    assert "Run folder:" in res.stdout


def test_the_api_issues_scenario_warnings(tmp_path: Path) -> None:
    from simulator.scenario import ScenarioWarning

    f = scenario(tmp_path, "  nothing: {type: facility_outage, country: JP, "
                           "start: 2025-01-01}\n")
    with pytest.warns(ScenarioWarning, match="events.nothing: warning: selects no facility"):
        assert load_scenario(f).name == "warn"


def test_shipped_scenarios_have_no_warnings() -> None:
    files = sorted(str(p) for p in (ROOT / "scenarios").glob("*.yaml"))
    code, _, err = validate("--strict", *files)
    assert (code, err) == (0, "")


def test_a_reference_price_below_its_inputs_cost_warns() -> None:
    """A priced product's reference below what its priced inputs cost at theirs (per its
    recipe) means its makers lose money at the references, and its cost floor
    (markets.md, "Cost pass-through") can pass its ceiling: warned at the price, per tier.
    The shipped baseline (NdPr metal 65 against 1.2 x 52 = 62.4) does not warn."""
    from simulator.scenario import load_scenario_with_warnings

    base = ROOT / "scenarios" / "baseline.yaml"
    _, found = load_scenario_with_warnings(base, ["market.prices.ndpr_metal.export=60"])
    [problem] = [p for p in found if p.path[:2] == ("market", "prices")]
    assert problem.path == ("market", "prices", "ndpr_metal", "export")
    assert "below what its inputs cost at their references" in problem.message
    assert "1.2 x ndpr_oxide 52 = 62.4" in problem.message
    _, found = load_scenario_with_warnings(base)
    assert not [p for p in found if p.path[:2] == ("market", "prices")]
