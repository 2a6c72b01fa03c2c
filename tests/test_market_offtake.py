"""Offtake contracts (engine/events/offtake.py, docs/events.md ``offtake``), on a tiny
network: an XX mine of 100 t/day (36,500 t/yr) sells ore to US and JP demand sectors that
each use 200 t/day, so it rations every day (daily steps, 5-day lead time)."""

from __future__ import annotations

import copy
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simulator.engine import ordering, run_replication
from simulator.engine.events.offtake import ration_offtakes
from simulator.scenario.checks import check_scenario
from simulator.scenario.event_warnings import event_warnings
from simulator.scenario.models import Scenario
from tests.conftest import deep_update, make_scenario
from tests.strategies import offtake_terms, scenario_data, scenario_of
from tests.test_events import date

NET = {
    "name": "offtake", "start_date": "2024-01-01", "end_date": "2024-07-01",
    "simulation": {"step_days": 1, "warmup_days": 28}, "stages": ["mine"],
    "countries": {"XX": {"name": "Seller"}, "US": {"name": "United States"},
                  "JP": {"name": "Japan"}, "DE": {"name": "Germany"}},
    "materials": {"ore": {}, "slag": {}},
    "recipes": {"mining": {"stage": "mine", "outputs": {"ore": 1.0}},
                "twin": {"stage": "mine", "outputs": {"ore": 1.0, "slag": 0.1}}},
    "facilities": {"xx_mine": {"country": "XX", "recipe": "mining", "capacity_tpy": 36500}},
    "demand": {"us_use": {"country": "US", "sector": "ev", "material": "ore",
                          "rate_tpy": 73000, "cover_days": 10},
               "jp_use": {"country": "JP", "sector": "ev", "material": "ore",
                          "rate_tpy": 73000, "cover_days": 10}},
    "sourcing": {"us_ore": {"country": "US", "material": "ore", "suppliers": {"XX": 1.0}},
                 "jp_ore": {"country": "JP", "material": "ore", "suppliers": {"XX": 1.0}}},
    "lead_times": {"default_days": 5},
}


def _offtake(**terms) -> dict:
    return {"events": {"deal": {"type": "offtake", "facility": "xx_mine", **terms}}}


def _run(patch: dict | None = None, step: int = 1):
    data = deep_update(copy.deepcopy(NET), {"simulation": {"step_days": step}})
    return run_replication(make_scenario(deep_update(data, patch or {})), seed=1)


def _daily(r, dest: str):
    """Tonnes shipped to ``dest`` per day (days 0..)."""
    f = r.flows[r.flows["destination"] == dest]
    return f.groupby("day")["tonnes"].sum().reindex(range(182), fill_value=0.0)


def test_without_a_contract_the_buyers_split_the_plant_evenly():
    r = _run()
    assert _daily(r, "US").loc[10:].to_numpy() == pytest.approx(50.0, rel=1e-9)
    assert _daily(r, "JP").loc[10:].to_numpy() == pytest.approx(50.0, rel=1e-9)


@pytest.mark.parametrize("terms", [{"shares": {"US": 0.6, "JP": 0.4}},
                                   {"volumes_tpy": {"US": 32850, "JP": 21900}}])
def test_a_60_40_contract_gives_the_us_60_t_and_japan_40_t_a_day(terms):
    """Both order more than the plant makes: US 60 t, JP 40 t of its 100 t each day. By
    volume, 90 + 60 t/day contracted from a plant making 100 scale down to the same split."""
    r = _run(_offtake(**terms))
    assert _daily(r, "US").loc[1:].to_numpy() == pytest.approx(60.0, rel=1e-9)
    assert _daily(r, "JP").loc[1:].to_numpy() == pytest.approx(40.0, rel=1e-9)


def test_unused_contracted_output_is_released_to_the_other_buyer():
    """The US uses only 20 t/day: it gets its 20 t, JP its 40 t and the 40 t the US left."""
    r = _run(deep_update(_offtake(shares={"US": 0.6, "JP": 0.4}),
                         {"demand": {"us_use": {"rate_tpy": 7300}}}))
    assert _daily(r, "US").loc[30:].to_numpy() == pytest.approx(20.0, rel=1e-9)
    assert _daily(r, "JP").loc[30:].to_numpy() == pytest.approx(80.0, rel=1e-9)


def test_a_partial_contract_leaves_the_rest_to_the_allocation_rule():
    """A contract for 30% to the US: the US gets at least its 30 t a day, the other 70 t
    are rationed by the rule among what both still want (so the US gets more than the 50 t
    it gets without a contract), and the whole 100 t are shipped."""
    r = _run(_offtake(shares={"US": 0.3}))
    us, jp = _daily(r, "US").loc[1:], _daily(r, "JP").loc[1:]
    assert (us >= 30.0 - 1e-9).all() and (us + jp).to_numpy() == pytest.approx(100.0)
    assert us.mean() > 50.0  # more than without a contract


def test_a_contract_acts_from_its_start_day():
    r = _run(_offtake(shares={"US": 0.6, "JP": 0.4}, start=date(100)))
    us = _daily(r, "US")
    assert us.loc[10:99].to_numpy() == pytest.approx(50.0, rel=1e-9)
    assert us.loc[100:].to_numpy() == pytest.approx(60.0, rel=1e-9)


def test_a_contract_starting_mid_step_covers_the_days_after_its_start():
    """Weekly steps, contract from day 101 (the step of days 98-104): that step's output is
    contracted for 4 of its 7 days, so the US gets 50 + 10 * 4/7 t a day of it."""
    r = _run(_offtake(shares={"US": 0.6, "JP": 0.4}, start=date(101)), step=7)
    us = r.flows[r.flows["destination"] == "US"].set_index("day")["tonnes"]
    assert us.loc[91] == pytest.approx(350.0, rel=1e-9)
    assert us.loc[98] == pytest.approx(7 * (50.0 + 10.0 * 4 / 7), rel=1e-9)
    assert us.loc[105] == pytest.approx(420.0, rel=1e-9)


def test_a_contract_on_one_plant_leaves_other_plants_output_to_the_rule():
    """A second XX mine of 100 t/day: the contract takes 60/40 of the first plant's output
    only; the second's 100 t go 50/50, so US 110 t and JP 90 t a day."""
    r = _run(deep_update(_offtake(shares={"US": 0.6, "JP": 0.4}), {"facilities": {
        "xx_mine2": {"country": "XX", "recipe": "mining", "capacity_tpy": 36500}}}))
    assert _daily(r, "US").loc[1:].to_numpy() == pytest.approx(110.0, rel=1e-9)
    assert _daily(r, "JP").loc[1:].to_numpy() == pytest.approx(90.0, rel=1e-9)


def test_a_contract_comes_before_the_allocation_rules_tiers():
    """The mine in the US, rule ``[domestic]``: without a contract US buyers take the whole
    100 t a day and Japan none; a 60/40 contract gives Japan its 40 t first."""
    data = deep_update(copy.deepcopy(NET), {"allocation": {"rule": ["domestic"]},
                                            "facilities": {"xx_mine": {"country": "US"}}})
    for src in ("us_ore", "jp_ore"):
        data["sourcing"][src]["suppliers"] = {"US": 1.0}
    plain = run_replication(make_scenario(data), seed=1)
    assert _daily(plain, "JP").sum() == 0.0
    r = run_replication(make_scenario(deep_update(data, _offtake(shares={"US": 0.6,
                                                                         "JP": 0.4}))), seed=1)
    assert _daily(r, "JP").loc[1:].to_numpy() == pytest.approx(40.0, rel=1e-9)
    us = r.timeseries[r.timeseries["demand_id"] == "us_use"].set_index("day")["delivered_t"]
    assert us.loc[20:].to_numpy() == pytest.approx(60.0, rel=1e-9)


@pytest.mark.parametrize(("terms", "where", "text"), [
    ({"shares": {"US": 0.7, "JP": 0.4}}, "events.deal.shares", "sum to 1.1"),
    ({}, "events.deal", "give the buyers' shares or their volumes_tpy"),
    ({"shares": {"US": 1}, "volumes_tpy": {"JP": 1}}, "events.deal", "(one of them)"),
    ({"shares": {"ZZ": 1}}, "events.deal.shares.ZZ", "unknown country 'ZZ'"),
    ({"shares": {"US": 1}, "facility": "xx_mien"}, "events.deal.facility",
     "unknown facility 'xx_mien'"),
    ({"shares": {"US": 1}, "material": "slag"}, "events.deal.material",
     "does not make 'slag'"),
    ({"shares": {"US": 1}, "facility": "xx_twin"}, "events.deal.material",
     "makes 2 outputs"),
])
def test_invalid_contracts_are_located(terms, where, text):
    data = deep_update(copy.deepcopy(NET), {"facilities": {
        "xx_twin": {"country": "XX", "recipe": "twin", "capacity_tpy": 10}}})
    data = deep_update(data, _offtake(**terms))
    problems = check_scenario(Scenario.model_validate(data))
    assert any(".".join(map(str, p.path)) == where and text in p.message for p in problems), \
        problems


def test_a_country_that_cannot_order_from_the_plant_is_warned_about():
    """Germany has no buyer that orders from XX: its entitlement would always be released."""
    data = deep_update(copy.deepcopy(NET), _offtake(shares={"US": 0.5, "DE": 0.3}))
    warnings = event_warnings(Scenario.model_validate(data))
    assert [(p.path, "orders from XX" in p.message) for p in warnings] == [
        (("events", "deal", "shares", "DE"), True)]


# -- properties over random networks -------------------------------------------------------
@st.composite
def with_offtake(draw: st.DrawFn) -> dict:
    """A random network with random events and an offtake on one of its plants; demand is
    often scaled up, so that pools ration (where contracts act)."""
    data = draw(scenario_data())
    scale = draw(st.sampled_from([1.0, 4.0, 10.0]))
    for d in data["demand"].values():
        d["rate_tpy"] *= scale
    fid = draw(st.sampled_from(sorted(data["facilities"])))
    buyers = draw(st.lists(st.sampled_from(sorted(data["countries"])), min_size=1,
                           max_size=3, unique=True))
    ev: dict = {"type": "offtake", "facility": fid, **offtake_terms(draw, buyers)}
    if draw(st.booleans()):
        ev["start"] = date(draw(st.integers(-30, 300)))
    data["events"]["deal"] = ev
    scenario_of(data)
    return data


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(with_offtake(), st.integers(0, 2**32 - 1))
def test_an_offtake_never_breaks_mass_balance(data, seed) -> None:
    """Whatever the network, events and contract: every rationing under contracts fills
    each order between 0 and what it asks and ships no more than the pool holds, mass
    balance holds (run_replication checks it and raises :exc:`MassBalanceError`
    otherwise), and no lot is negative."""
    rationed = []

    def checked(rule, pool, orders, available):
        fills = ration_offtakes(rule, pool, orders, available)
        for (_, want), (_, got) in zip(orders, fills, strict=True):
            assert -1e-12 <= got <= want * (1 + 1e-12) + 1e-12
        assert sum(q for _, q in fills) <= available * (1 + 1e-12) + 1e-9
        rationed.append(len(orders))
        return fills

    with mock.patch.object(ordering, "ration_offtakes", checked):
        r = run_replication(scenario_of(data), seed=seed)
    event("rationed under a contract" if rationed else "never rationed under a contract")
    assert (r.flows["tonnes"] >= 0).all()


def test_drawn_shares_that_sum_above_one_are_scaled_to_the_whole_output():
    """Shares drawn from distributions are checked at their central values only; a draw of
    0.9 + 0.3 is scaled to 0.75 / 0.25 of the output (75 t and 25 t a day)."""
    data = deep_update(copy.deepcopy(NET), _offtake(shares={"US": 0.6, "JP": 0.3}))
    s = make_scenario(data)
    s.events["deal"].shares["US"] = 0.9  # as a draw would give
    r = run_replication(s, seed=1)
    assert _daily(r, "US").loc[1:].to_numpy() == pytest.approx(75.0, rel=1e-9)
    assert _daily(r, "JP").loc[1:].to_numpy() == pytest.approx(25.0, rel=1e-9)


def test_two_contracts_on_one_plant_never_take_more_than_it_makes():
    """US 80% and, declared later, JP 80% of a 100 t/day plant, with a second plant of
    100 t/day in the pool: the US gets its 80 t first, JP only the 20 t left of the plant's
    output under contract; the other 100 t are split by the rule, evenly (both still want
    more than a day's use, the rule's first tier): US 130 t, JP 70 t a day."""
    data = deep_update(copy.deepcopy(NET), {"facilities": {
        "xx_mine2": {"country": "XX", "recipe": "mining", "capacity_tpy": 36500}}})
    data["events"] = {"us": {"type": "offtake", "facility": "xx_mine", "shares": {"US": 0.8}},
                      "jp": {"type": "offtake", "facility": "xx_mine", "shares": {"JP": 0.8}}}
    r = run_replication(make_scenario(data), seed=1)
    us, jp = _daily(r, "US").loc[1:], _daily(r, "JP").loc[1:]
    assert (us + jp).to_numpy() == pytest.approx(200.0, rel=1e-9)
    assert us.to_numpy() == pytest.approx(130.0, rel=1e-9)  # not 80 + 80 from the pool
    assert jp.to_numpy() == pytest.approx(70.0, rel=1e-9)
