"""simulator.simulate: a pure, picklable function of scenario, parameters, replications, seed."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import simulator
from simulator import simulate
from simulator.scenario import ScenarioError, load_scenario
from tests.test_sweep import write_outage


def test_known_answer_and_outputs(tmp_path):
    path = write_outage(tmp_path)
    res = simulate(path, {"events.mine_outage.duration_days": 20,
                          "events.mine_outage.capacity_lost": 0.5}, replications=2, seed=1)
    assert res["cumulative_shortfall_t"] == pytest.approx(50 + 10 * 20 * 0.5)
    assert res["cumulative_shortfall_t__jp_ev"] == pytest.approx(150.0)
    assert res["fill_rate"] == pytest.approx(1 - 150 / 3660)
    assert res["replications"] == 2
    assert res["day"].shape == res["fill_rate_series"].shape == (366,)
    assert res["shortfall_t_series"].sum() == pytest.approx(150.0)


def test_pure_picklable_and_common_random_numbers(tmp_path):
    path = write_outage(tmp_path)
    assert pickle.loads(pickle.dumps(simulate)) is simulate
    assert simulator.__all__ == ["simulate"]
    noisy = {"demand.jp_ev.cv": 0.3}
    a = simulate(path, noisy, replications=[0, 1], seed=4)
    b = simulate(path, noisy, replications=[0, 1], seed=4)
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)  # NaN: never recovered
    # replication 1 alone gives the same draws as replication 1 of a larger call
    one = simulate(path, noisy, replications=[1], seed=4)
    two = simulate(path, noisy, replications=[0], seed=4)
    assert a["demand_t"] == pytest.approx((one["demand_t"] + two["demand_t"]) / 2)
    # a Scenario object and a dict give what the file gives
    sc = load_scenario(path)
    assert simulate(sc, noisy, 2, 4)["demand_t"] == a["demand_t"]
    assert simulate(sc.model_dump(mode="json"), noisy, 2, 4)["demand_t"] == a["demand_t"]


def test_invalid_parameters_raise_located_errors(tmp_path):
    path = write_outage(tmp_path)
    with pytest.raises(ScenarioError, match=r"<--set>:1:\d+: demand.jp_ev.rate_tpy"):
        simulate(path, {"demand.jp_ev.rate_tpy": -1})
    with pytest.raises(ValueError):
        simulate(path, replications=[])
    with pytest.raises(TypeError):
        simulate(42)


def test_the_api_does_not_depend_on_the_sweep_package(tmp_path):
    """simulate() uses the analysis layer, not the sweep machinery (issue 13: api.py imported
    simulator.sweep.run)."""
    import subprocess
    import sys

    code = ("import sys; from simulator import simulate; "
            "simulate('tests/fixtures/tiny.yaml', replications=1); "
            "print(any(m.startswith('simulator.sweep') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=str(Path(__file__).resolve().parents[1]))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
