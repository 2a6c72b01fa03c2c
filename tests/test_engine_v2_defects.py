"""Regression tests for the wrong answers that looked right in engine v1 (issue 11).

Each test names the defect it pins (numbered as in the issue) and fails on engine v1
(commit 1177743). Hand-computed expectations use the tiny networks of test_events.py.
"""

from __future__ import annotations

import pytest

from simulator.engine import run_replication
from tests.conftest import deep_update, make_scenario
from tests.test_events import BASE, date, flows_by_day


# -- defect 1: lanes created mid-run escape policy ---------------------------------------------
def _agreement_lane(policy: dict | None) -> dict:
    """US buys ore from AU only; a US-JP agreement moves half of it to JP from day 10; a
    policy on JP -> US (if any) is in force from day 0."""
    events: dict = {"deal": {"type": "cooperation_agreement", "members": ["US", "JP"],
                             "signed": date(10),
                             "preferred_sourcing": {"share": 0.5, "qualification_days": 0}}}
    if policy is not None:
        events["policy"] = policy
    return deep_update(BASE, {
        "facilities": {"jp_mine": {"country": "JP", "recipe": "mining", "capacity_tpy": 36500}},
        "demand": {"us_use": {"country": "US", "sector": "ev", "material": "ore",
                              "rate_tpy": 3650, "cover_days": 10}},
        "sourcing": {"us_ore": {"country": "US", "material": "ore", "suppliers": {"AU": 1.0}}},
        "events": events,
    })


BLOCKADE = {"type": "logistics_disruption", "origin": "JP", "destination": "US",
            "start": date(0), "capacity_tpy": 0}
PROHIBITIVE_TARIFF = {"type": "tariff", "importers": ["US"], "exporters": ["JP"], "rate": 2.0,
                      "start": date(0)}
BAN = {"type": "export_control", "exporter": "JP", "materials": ["ore"],
       "destinations": ["US"], "mode": "ban", "effective": date(0)}


@pytest.mark.parametrize("policy", [BLOCKADE, PROHIBITIVE_TARIFF, BAN],
                         ids=["blockade", "prohibitive_tariff", "ban"])
def test_defect1_agreement_lanes_obey_earlier_policies(policy: dict) -> None:
    r = run_replication(make_scenario(_agreement_lane(policy)), seed=1)
    assert flows_by_day(r, "JP", "US").sum() == 0.0
    # the agreement did move orders: without the policy, JP ships half of US use
    free = run_replication(make_scenario(_agreement_lane(None)),
                           seed=1)
    assert flows_by_day(free, "JP", "US").loc[300] == pytest.approx(5.0)


def test_defect1_logistics_delay_applies_to_agreement_lanes() -> None:
    delay = {"type": "logistics_disruption", "origin": "JP", "destination": "US",
             "start": date(0), "extra_days": 30}
    r = run_replication(make_scenario(_agreement_lane(delay)), seed=1)
    free = run_replication(make_scenario(_agreement_lane(None)),
                           seed=1)

    def in_transit(result) -> float:
        return result.balance.set_index("material").loc["ore", "in_transit_t"]

    # in steady state half of US use (5 t/day) travels on the JP lane: 30 more days of it
    # are in transit with the delay
    assert in_transit(r) - in_transit(free) == pytest.approx(5 * 30)
    assert r.timeseries["shortfall_t"].sum() == pytest.approx(0.0, abs=1e-6)


# -- defect 5: a zero demand skipped its random draw and unpaired the rest of the run ----------
def test_defect5_zero_demand_keeps_its_stream_in_step() -> None:
    """A shock with multiplier 0 on a sector with random demand leaves that sector's draws
    after the shock exactly as without it (common random numbers)."""
    noisy = deep_update(BASE, {"demand": {"jp_use": {"cv": 0.5}}})
    shock = {"type": "demand_shock", "country": "JP", "multiplier": 0.0,
             "start": date(50), "end": date(100)}
    plain = run_replication(make_scenario(noisy), seed=3).timeseries.set_index("day")
    shocked = run_replication(make_scenario(deep_update(noisy, {"events": {"s": shock}})),
                              seed=3).timeseries.set_index("day")
    assert (shocked.loc[50:99, "demand_t"] == 0.0).all()
    assert plain.loc[:49, "demand_t"].equals(shocked.loc[:49, "demand_t"])
    assert plain.loc[100:, "demand_t"].equals(shocked.loc[100:, "demand_t"])


# -- defect 2: plants that do not exist yet changed the past -----------------------------------
def _before(result, day: int, step: int = 1) -> dict:
    """Every output row whose period ends on or before ``day``."""
    def cut(frame):
        return frame[frame["day"] + step <= day].reset_index(drop=True)
    return {name: cut(getattr(result, name))
            for name in ("timeseries", "flows", "production", "stockpiles")}


def _assert_same_before(a, b, day: int, step: int = 1) -> None:
    import pandas as pd

    before_a, before_b = _before(a, day, step), _before(b, day, step)
    for name in before_a:
        pd.testing.assert_frame_equal(before_a[name], before_b[name], check_categorical=False,
                                      obj=name)


NEW_MINE = {"country": "AU", "recipe": "mining", "capacity_tpy": 36500,
            "start_date": date(200), "ramp_up_days": 30}


@pytest.mark.parametrize("step", [1, 7])
def test_defect2_a_future_plant_leaves_the_past_alone(step: int) -> None:
    base = deep_update(BASE, {"simulation": {"step_days": step},
                              "facilities": {"au_mine": {"capacity_tpy": 5000}}})
    without = run_replication(make_scenario(base), seed=1)
    with_new = run_replication(make_scenario(deep_update(base, {
        "facilities": {"au_new": NEW_MINE}})), seed=1)
    _assert_same_before(without, with_new, 200, step)
    new = with_new.production[with_new.production["facility"] == "au_new"]
    assert new["day"].min() == -(-200 // step) * step  # it does produce once it exists


def test_defect2_an_agreement_plant_leaves_the_past_alone() -> None:
    deal = {"type": "cooperation_agreement", "members": ["US", "JP"], "signed": date(120),
            "facilities": {"jp_new_mine": {"country": "JP", "recipe": "mining",
                                           "capacity_tpy": 3650,
                                           "investment_decision": date(150),
                                           "construction_days": 100}},
            "preferred_sourcing": {"share": 0.4, "qualification_days": 30}}
    base = deep_update(BASE, {"facilities": {"jp_mine": {"country": "JP", "recipe": "mining",
                                                         "capacity_tpy": 1000}}})
    without = run_replication(make_scenario(base), seed=1)
    with_deal = run_replication(make_scenario(deep_update(base, {"events": {"deal": deal}})),
                                seed=1)
    _assert_same_before(without, with_deal, 120)
