"""Properties that hold for any valid network: mass balance, no negative stock, determinism."""

from __future__ import annotations

import itertools

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simulator.engine import run_replication
from simulator.engine.network import build_network
from simulator.scenario.checks import check_scenario
from simulator.scenario.models import Scenario
from tests.conftest import CHAIN, make_scenario

CODES = ["AU", "CN", "JP", "US"]
CHAIN_MATERIALS = ["ore", "oxide", "magnet"]


@st.composite
def networks(draw: st.DrawFn) -> Scenario:
    """Random valid ore -> oxide -> magnet networks over up to four countries."""
    facilities: dict = {}
    producers: dict[str, list[str]] = {m: [] for m in CHAIN_MATERIALS}
    for stage_i, mat in enumerate(CHAIN_MATERIALS):
        for j in range(draw(st.integers(1, 3))):
            country = draw(st.sampled_from(CODES))
            fac = {
                "country": country,
                "recipe": f"make_{mat}",
                "capacity_tpy": draw(st.floats(0, 5000)),
                "input_cover_days": draw(st.floats(0, 60)),
                "output_cover_days": draw(st.floats(0, 60)),
            }
            if draw(st.booleans()):
                fac["start_date"] = f"2024-{draw(st.integers(1, 12)):02d}-01"
                fac["ramp_up_days"] = draw(st.integers(0, 200))
            facilities[f"f{stage_i}_{j}"] = fac
            producers[mat].append(country)
    demand = {}
    for j in range(draw(st.integers(1, 3))):
        demand[f"d{j}"] = {
            "country": draw(st.sampled_from(CODES)),
            "sector": draw(st.sampled_from(["ev", "wind", "defense"])),
            "material": draw(st.sampled_from(["oxide", "magnet"])),
            "rate_tpy": draw(st.floats(0, 3000)),
            "growth_pa": draw(st.floats(-0.2, 0.3)),
            "cv": draw(st.sampled_from([0.0, 0.3, 1.0])),
            "cover_days": draw(st.floats(0, 90)),
            "priority": draw(st.integers(0, 3)),
        }
    consumers = {(f["country"], m) for f in facilities.values()
                 for m, nxt in itertools.pairwise(CHAIN_MATERIALS)
                 if f["recipe"] == f"make_{nxt}"}
    consumers |= {(d["country"], d["material"]) for d in demand.values()}
    sourcing = {}
    for i, (country, mat) in enumerate(sorted(consumers)):
        options = sorted(set(producers[mat]))
        chosen = draw(st.lists(st.sampled_from(options), min_size=1, max_size=3, unique=True))
        weights = [draw(st.integers(1, 5)) for _ in chosen]
        shares = [w / sum(weights) for w in weights]
        shares[-1] = 1.0 - sum(shares[:-1])
        sourcing[f"s{i}"] = {"country": country, "material": mat,
                             "suppliers": dict(zip(chosen, shares, strict=True))}
    stockpiles = {}
    if draw(st.booleans()):
        d = draw(st.sampled_from(sorted(demand.values(), key=str)))
        stockpiles["sp"] = {"country": d["country"], "material": d["material"],
                            "holdings_days": draw(st.floats(0, 120)),
                            "release": {"trigger": draw(st.sampled_from(["fill_rate",
                                                                          "days_of_cover"])),
                                        "threshold": draw(st.floats(0, 1)),
                                        "max_release_tpy": draw(st.floats(0, 5000))}}
    data = {
        "name": "random", "start_date": "2024-01-01", "end_date": "2025-01-01",
        "simulation": {"step_days": draw(st.integers(1, 14)),
                       "warmup_days": draw(st.integers(0, 100))},
        "stages": ["s0", "s1", "s2"],
        "countries": {c: {"name": c} for c in CODES},
        "materials": {m: {} for m in CHAIN_MATERIALS},
        "recipes": {
            "make_ore": {"stage": "s0", "outputs": {"ore": 1.0}},
            "make_oxide": {"stage": "s1", "inputs": {"ore": 1.0}, "outputs": {"oxide": 0.7}},
            "make_magnet": {"stage": "s2", "inputs": {"oxide": 0.4}, "outputs": {"magnet": 1.0}},
        },
        "facilities": facilities, "demand": demand, "sourcing": sourcing,
        "stockpiles": stockpiles,
        "lead_times": {"domestic_days": draw(st.integers(0, 10)),
                       "default_days": draw(st.integers(0, 40)),
                       "lanes": {"CN": {"US": draw(st.integers(0, 40))}}},
        "allocation": {"rule": draw(st.sampled_from([[], ["domestic"], ["priority"],
                                                      ["domestic", "priority"]]))},
    }
    s = Scenario.model_validate(data)
    assume(not check_scenario(s))
    return s


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(networks(), st.integers(0, 2**31))
def test_random_networks_keep_mass_balance_and_no_negative_stock(s, seed):
    r = run_replication(s, seed=seed)  # raises MassBalanceError if the ledger does not close
    assert r.balance["ok"].all()
    for col in ("pools_t", "inventories_t", "in_transit_t", "stockpile_t"):
        assert (r.balance[col] >= -1e-6).all(), col
    ts = r.timeseries
    assert (ts["inventory_t"] >= -1e-9).all()
    assert (ts["shortfall_t"] >= -1e-9).all()
    assert (ts["delivered_t"] <= ts["demand_t"] + 1e-9).all()
    assert (r.flows["tonnes"] > 0).all()
    assert (r.production["tonnes"] > 0).all()


def test_same_seed_same_results_different_seed_different_draws():
    s = make_scenario(CHAIN, demand={"jp_ev": {"cv": 0.4}})
    a, b = run_replication(s, seed=3), run_replication(s, seed=3)
    for name in ("timeseries", "flows", "production", "balance"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    c = run_replication(s, seed=4)
    assert not a.timeseries["demand_t"].equals(c.timeseries["demand_t"])
    d = run_replication(s, seed=3, replication=1)
    assert not a.timeseries["demand_t"].equals(d.timeseries["demand_t"])


def test_event_budget_is_entities_times_steps_plus_lots(chain):
    """One event per entity per step plus at most one lot per lane per step: the design budget."""
    net = build_network(chain)
    steps = -(-(net.warmup_days + chain.horizon_days) // net.step_days)
    entities = (len(net.facilities) + len(net.demands) + len(net.stockpiles)
                + len(net.buyers) + len(net.pools))
    r = run_replication(chain)
    assert steps * entities < r.event_count <= steps * (entities + len(net.lanes))
