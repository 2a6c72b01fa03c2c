"""Bad sweeps fail before anything runs, located like every other scenario problem."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.scenario import ScenarioError
from simulator.sweep import load_sweep, parse_param_option, plan_sweep
from simulator.sweep import run as sweep_run
from tests.test_sweep import write_outage


def _problems(tmp_path, text: str) -> list[str]:
    sweep_file = write_outage(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        plan_sweep(load_sweep(sweep_file))
    return [str(p).replace(str(tmp_path) + "/", "") for p in info.value.problems]


def test_unknown_path_with_location_and_suggestion(tmp_path):
    problems = _problems(tmp_path, """\
sweep:
  scenario: outage.yaml
  params:
    events.mine_outage.duraton_days: 1:30:10
    facilities.au_mine.capacity_tpy.x: [1, 2]
    facilities: [1]
""")
    assert problems == [
        "sweep.yaml:4:5: sweep.params.events.mine_outage.duraton_days: unknown parameter "
        "'events.mine_outage.duraton_days': no 'duraton_days' in events.mine_outage "
        "(did you mean 'duration_days'?)",
        "sweep.yaml:5:5: sweep.params.facilities.au_mine.capacity_tpy.x: unknown parameter "
        "'facilities.au_mine.capacity_tpy.x': facilities.au_mine.capacity_tpy is a number, "
        "not a mapping",
        "sweep.yaml:6:5: sweep.params.facilities: facilities is a mapping, not a single "
        "value; sweep one of its fields",
    ]


def test_empty_range_and_unknown_design(tmp_path):
    problems = _problems(tmp_path, """\
sweep:
  scenario: outage.yaml
  design: gird
  params:
    events.mine_outage.capacity_lost: 5:0:1
""")
    assert problems == [
        "sweep.yaml:3:3: sweep.design: unknown design 'gird' (did you mean 'grid'?); "
        "expected one of grid, lhs, oat, morris, sobol",
        "sweep.yaml:5:5: sweep.params.events.mine_outage.capacity_lost: range 5:0:1 has no "
        "values (stop < start)",
    ]


def test_values_failing_validation_name_the_point(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep_run, "run_unit", lambda *a: pytest.fail("ran something"))
    problems = _problems(tmp_path, """\
sweep:
  scenario: outage.yaml
  set: {lead_times.default_days: 5}
  params:
    events.mine_outage.capacity_lost: [0.5, 1.5]
    demand.jp_ev.rate_tpy: "-10,100"
""")
    assert problems == [
        "sweep.yaml:5:5: sweep.params.events.mine_outage.capacity_lost: value 1.5 (point 2): "
        "Input should be less than or equal to 1",
        "sweep.yaml:6:5: sweep.params.demand.jp_ev.rate_tpy: value -10 (point 0): "
        "Input should be greater than or equal to 0",
    ]


def test_cross_check_problem_keeps_scenario_location(tmp_path):
    problems = _problems(tmp_path, """\
sweep:
  scenario: outage.yaml
  params:
    sourcing.jp_ore.suppliers.AU: [1.0, 0.5]
""")
    assert problems == ["outage.yaml:14:40: sourcing.jp_ore.suppliers: at sweep point 1 "
                        "(sourcing.jp_ore.suppliers.AU=0.5): shares sum to 0.5, not 1"]


def test_sweep_file_shape_errors(tmp_path):
    problems = _problems(tmp_path, """\
sweep:
  scenario: outage.yaml
  replications: 0
  samplez: 3
  params:
    events.mine_outage.duration_days: {low: 1, hihg: 5}
""")
    assert problems == [
        "sweep.yaml:3:3: sweep.replications: expected an integer >= 1, not 0",
        "sweep.yaml:4:3: sweep.samplez: unknown key 'samplez' (did you mean 'samples'?)",
        "sweep.yaml:6:5: sweep.params.events.mine_outage.duration_days: unknown key 'hihg' "
        "(did you mean 'high'?)",
    ]


def test_grid_needs_values_and_missing_base_scenario(tmp_path):
    problems = _problems(tmp_path, """\
sweep:
  scenario: outage.yaml
  params:
    events.mine_outage.duration_days: 1:30
""")
    assert problems == ["sweep.yaml:4:5: sweep.params.events.mine_outage.duration_days: design "
                        "grid needs values: give 1:30:STEP or a list"]
    (tmp_path / "s2.yaml").write_text("sweep:\n  scenario: nope.yaml\n  params: {a: 1}\n")
    res = CliRunner().invoke(app, ["sweep", str(tmp_path / "s2.yaml")])
    assert res.exit_code == 66


def test_param_option_errors():
    with pytest.raises(ScenarioError) as info:
        parse_param_option("demand.jp_ev.rate_tpy=5:0:1", 2)
    assert str(info.value.problems[0]) == ("<--param>:2:23: demand.jp_ev.rate_tpy: range "
                                           "5:0:1 has no values (stop < start)")
    with pytest.raises(ScenarioError) as info:
        parse_param_option("demand.jp_ev.rate_tpy", 1)
    assert "expected key.path=VALUES" in str(info.value)
    with pytest.raises(ScenarioError) as info:
        parse_param_option("a=1:x:2", 1)
    assert "malformed range" in str(info.value)
    assert parse_param_option("a=0:1:0.25", 1).values == (0, 0.25, 0.5, 0.75, 1.0)
    assert parse_param_option("a=2026-01-01,2027-01-01", 1).values == ("2026-01-01",
                                                                       "2027-01-01")


def test_cli_bad_sweeps_exit_65_before_running(tmp_path, monkeypatch):
    scenario = write_outage(tmp_path)
    monkeypatch.setattr(sweep_run, "run_unit", lambda *a: pytest.fail("ran something"))
    runner = CliRunner()
    res = runner.invoke(app, ["sweep", str(scenario), "--param",
                              "events.mine_outage.duration_days=1:30:10", "--param",
                              "facilities.au_mine.capacity=1,2", "--out", str(tmp_path / "o")])
    assert res.exit_code == 65
    assert ("<--param>:2:20: facilities.au_mine.capacity: unknown parameter "
            "'facilities.au_mine.capacity': no 'capacity' in facilities.au_mine (did you mean "
            "'capacity_tpy'?)") in res.output
    assert not (tmp_path / "o").exists()
    res = runner.invoke(app, ["sweep", str(scenario), "--param",
                              "events.mine_outage.duration_days=1:30:10", "--design", "morris"])
    assert res.exit_code == 65 and "needs at least two parameters" in res.output
    res = runner.invoke(app, ["sweep", str(scenario), "--param",
                              "events.mine_outage.duration_days=1:30:10", "--design", "tornado"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["sweep", str(scenario), "--param",
                              "events.mine_outage.duration_days=0:30:10"])
    assert res.exit_code == 65
    assert ("<--param>:1:34: events.mine_outage.duration_days: value 0 (point 0): Input "
            "should be greater than or equal to 1") in res.output
    res = runner.invoke(app, ["sweep", str(scenario), "--param",
                              "events.mine_outage.duration_days=1:30:10", "--kpi", "fillrate"])
    assert res.exit_code == 65
    assert "<--kpi>:1:1: kpi: unknown KPI 'fillrate' (did you mean 'fill_rate'?)" in res.output
    res = runner.invoke(app, ["sweep", str(scenario)])
    assert res.exit_code == 2
