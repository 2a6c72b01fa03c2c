"""Morris and Sobol indices on a case whose ranking of factors is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.sweep import load_sweep, plan_sweep, run_sweep, write_outputs
from tests.test_sweep import write_outage

pytest.importorskip("SALib")

# shortfall = 50 + 10 * D * c on the outage network: D (days, 1..100) matters most, c (share
# of capacity lost, 0.25..1) less, and the only buyer's priority (0..5) not at all.
SENSITIVITY = """\
sweep:
  scenario: outage.yaml
  design: {design}
  samples: {samples}
  seed: 2
  params:
    events.mine_outage.duration_days: 1:100
    events.mine_outage.capacity_lost: 0.25:1
    demand.jp_ev.priority: 0:5
"""
NAMES = ["events.mine_outage.duration_days", "events.mine_outage.capacity_lost",
         "demand.jp_ev.priority"]


def _run(tmp_path, design: str, samples: int):
    plan = plan_sweep(load_sweep(write_outage(
        tmp_path, SENSITIVITY.format(design=design, samples=samples))))
    run_sweep(plan, tmp_path / "out")
    return plan, write_outputs(plan, tmp_path / "out")


def test_morris_ranks_known_factors(tmp_path):
    plan, res = _run(tmp_path, "morris", 6)
    assert len(plan.points) == 6 * 4
    m = res.indices
    assert list(m["param"]) == NAMES
    assert m["mu_star"].iloc[2] == 0 and m["sigma"].iloc[2] == 0
    assert (m["mu_star_conf"] >= 0).all()
    # D's elementary effect over its full range is 10 * 99 * c: between 247.5 and 990 t
    assert 247.5 - 1 <= m["mu_star"].iloc[0] <= 990 + 1
    assert list(pd.read_csv(tmp_path / "out" / "morris.csv")["param"]) == NAMES
    assert (tmp_path / "out" / "morris.png").exists()


@pytest.mark.slow
def test_sobol_ranks_known_factors(tmp_path):
    plan, res = _run(tmp_path, "sobol", 16)
    assert len(plan.points) == 16 * (3 + 2)
    s = res.indices.set_index("param")
    assert list(res.indices["param"]) == NAMES
    assert s.loc[NAMES[0], "ST"] > s.loc[NAMES[1], "ST"] > 0
    assert s.loc[NAMES[2], "ST"] == 0 and s.loc[NAMES[2], "S1"] == 0
    assert np.isfinite(s[["S1_conf", "ST_conf"]].to_numpy()).all()
    assert (tmp_path / "out" / "sobol.svg").exists()


def test_sobol_needs_power_of_two(tmp_path):
    from simulator.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="power of 2"):
        plan_sweep(load_sweep(write_outage(tmp_path, SENSITIVITY.format(design="sobol",
                                                                         samples=12))))
