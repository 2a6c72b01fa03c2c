"""The benchmark suite's own correctness (no timings): its independent numpy reference must
reproduce the engine's totals, and its toy and synthetic networks must be what they claim."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import peer, scaling
from benchmarks.reference import WITHOUT_DEMAND_RESPONSE, Arrays, check, simulate
from simulator.engine import run_replication
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]



@pytest.mark.parametrize("name", ["baseline"])
def test_numpy_reference_reproduces_the_engine_on_a_shipped_scenario(name):
    """A second implementation of the same network (array time-stepping, no SimPy) gives the
    same produced and delivered tonnes per material as the engine's ledger (the shipped
    baseline without its thrifting, which the reference does not model)."""
    s = load_scenario(ROOT / "scenarios" / f"{name}.yaml", WITHOUT_DEMAND_RESPONSE)
    assert check(s, simulate(Arrays(s))) < 1e-9


@pytest.mark.parametrize("facilities, years", [(10, 1), (100, 1)])
def test_numpy_reference_reproduces_the_engine_on_synthetic_networks(facilities, years):
    s = scaling.synthetic(facilities, years)
    assert len(s.facilities) == facilities
    assert check(s, simulate(Arrays(s))) < 1e-9


def test_reference_refuses_what_it_does_not_model():
    s = load_scenario(ROOT / "scenarios" / "us_japan_framework.yaml")
    with pytest.raises(ValueError, match="without events"):
        Arrays(s)
    fixed = load_scenario(ROOT / "scenarios" / "baseline.yaml",
                          ["market.demand_response.default.thrifting.max_share=0.2"])
    with pytest.raises(ValueError, match="without a demand response"):
        Arrays(fixed)


def test_peer_toy_network_delivers_its_whole_demand():
    """The SupplyNetPy comparison's toy chain: 20 t/day for 3,652 days (2025-2035), all of it
    delivered, as in SupplyNetPy."""
    s = peer.critmin_toy()
    days = (s.end_date - s.start_date).days
    assert days == 3652
    assert peer.run_critmin(s) == pytest.approx(20.0 * days, rel=1e-12)
    assert run_replication(s).timeseries["shortfall_t"].sum() == pytest.approx(0.0, abs=1e-9)
