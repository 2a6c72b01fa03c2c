"""Tariffs act on the landed price (engine/events/logistics.py ``landed_factor``,
docs/markets.md "Policy instruments"), on the network of tests/test_market.py: AU sells ore
to a JP demand sector (10 t/day, 10 days of cover), ex-AU reference price 12 USD/kg; a US
mine may be JP's second supplier."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine import run_replication
from tests.conftest import deep_update, make_scenario
from tests.test_events import BASE, date
from tests.test_market import PRICED

US_MINE = {"facilities": {"us_mine": {"country": "US", "recipe": "mining",
                                      "capacity_tpy": 36500}}}


def _tariff(rate: float, start: int = 100, **extra) -> dict:
    return {"events": {"duty": {"type": "tariff", "importers": ["JP"], "exporters": ["AU"],
                                "materials": ["ore"], "rate": rate, "start": date(start),
                                **extra}}}


def _run(*patches: dict, step: int = 1):
    data = deep_update(BASE, {"simulation": {"step_days": step, "warmup_days": 364},
                              **PRICED})
    for patch in patches:
        data = deep_update(data, patch)
    return run_replication(make_scenario(data), seed=1)


def _jp(r):
    return r.timeseries[r.timeseries["demand_id"] == "jp_use"].set_index("day")


def _export_price(r):
    p = r.prices[r.prices["market"] == "ex-AU"]
    return p.set_index("day")["price_usd_per_kg"]


ELASTIC = {"market": {"demand_response": {"sectors": {"ev": {"elasticity": 1.0}}}}}


def test_demand_responds_to_the_landed_price():
    """A 25% tariff from day 100 that does not move JP's orders (share elasticity 0) raises
    the price JP pays by 25%: each day JP buys ``10 * min(1, (landed * p / 12) ** -1)`` t,
    with ``p`` the ex-AU price at the end of the previous day and ``landed`` 1 before day
    100, 1.25 from then (about 8 t a day); without the tariff it buys its 10 t."""
    r = _run(ELASTIC, _tariff(0.25, elasticity=0.0))
    jp, p = _jp(r), _export_price(r)
    landed = [1.0] * 99 + [1.25] * 266  # days 1..365, by the price of the day before
    expected = 10.0 * (landed * p.loc[0:364].to_numpy() / 12.0).clip(1.0) ** -1.0
    assert jp.loc[1:365, "demand_t"].to_numpy() == pytest.approx(expected, rel=1e-12)
    assert jp.loc[:99, "demand_t"].to_numpy() == pytest.approx(10.0, rel=1e-3)
    assert jp.loc[100:365, "demand_t"].to_numpy() == pytest.approx(8.0, rel=0.05)
    assert (jp.loc[100:, "destroyed_t"] > 1.5).all()
    untaxed = _jp(_run(ELASTIC))
    assert untaxed["demand_t"].to_numpy() == pytest.approx(10.0, rel=1e-3)


def test_the_landed_price_weights_the_lanes_by_the_buyers_shares():
    """JP buys half from AU (taxed 100%, not prohibitive, no share response) and half from
    the US: its landed price is 1.5 times the tier price, so with an elasticity of 1 it
    buys 10 / 1.5 t a day at the reference price."""
    tariff = _tariff(1.0, elasticity=0.0, prohibitive_rate=2.0)
    both = {**US_MINE, "sourcing": {"jp_ore": {"suppliers": {"AU": 0.5, "US": 0.5}}}}
    r = _run(ELASTIC, both, tariff)
    jp, p = _jp(r), _export_price(r)
    expected = 10.0 * (1.5 * p.loc[99:364].to_numpy() / 12.0).clip(1.0) ** -1.0
    assert jp.loc[100:365, "demand_t"].to_numpy() == pytest.approx(expected, rel=1e-12)


def test_thrifting_sees_the_landed_price():
    """A 100% tariff from day 100 doubles JP's landed price: its thrifted share ``s`` follows
    ``s += (1 - exp(-1 / 100)) * (0.4 * min(1, landed * p / 12 - 1) - s)`` day by day (``p``
    the previous day's ex-AU price, ``landed`` 1 then 2), so with the price held near 12 it
    closes on the whole ``max_share`` 0.4 as ``exp(-t / 100)``: about
    0.4 * (1 - exp(-50 / 100)) of demand thrifted on day 149."""
    thrift = {"market": {"adjustment_days": 3650, "demand_response": {"sectors": {"ev": {
        "thrifting": {"max_share": 0.4, "time_constant_days": 100.0,
                      "shortage_weight": 0.0}}}}}}
    r = _run(thrift, _tariff(1.0, elasticity=0.0, prohibitive_rate=2.0))
    jp, p = _jp(r), _export_price(r)
    s = (jp["thrifted_t"] / 10.0).to_numpy()  # demand without response: 10 t a day
    up = 1.0 - math.exp(-1.0 / 100.0)
    for d in range(1, 365):
        landed = 2.0 if d >= 100 else 1.0
        target = 0.4 * min(1.0, max(0.0, landed * p.loc[d - 1] / 12.0 - 1.0))
        want = s[d - 1] + up * (target - s[d - 1]) if target > s[d - 1] else s[d - 1]
        assert s[d] == pytest.approx(want, rel=1e-9, abs=1e-12), d
    assert s[99] < 0.01 and s[149] == pytest.approx(0.4 * (1 - math.exp(-0.5)), rel=0.03)


def test_destocking_sees_the_landed_price():
    """A 100% tariff from day 100 doubles JP's landed price: with ``max_cover_cut`` 0.5 and
    ``full_price_multiple`` 2, JP's stock goes from 10 days of use (100 t) to 5 (50 t);
    without the tariff it stays at 100 t."""
    destock = {"market": {"destocking": {"max_cover_cut": 0.5, "buyers": "demand"}}}
    r = _run(destock, _tariff(1.0, elasticity=0.0, prohibitive_rate=2.0))
    calm = _run(destock)
    assert _jp(calm).loc[300:, "inventory_t"].to_numpy() == pytest.approx(100.0, rel=0.01)
    assert _jp(r).loc[:99, "inventory_t"].to_numpy() == pytest.approx(100.0, rel=0.01)
    assert _jp(r).loc[300:, "inventory_t"].to_numpy() == pytest.approx(50.0, rel=0.02)
    assert _jp(r)["shortfall_t"].sum() == 0.0


def test_buyers_choice_follows_the_landed_price():
    """Order shares move away from the taxed route by ``1 - elasticity * rate`` (the
    landed price over the tier price, minus one): half AU / half US becomes
    0.375 / (0.375 + 0.5) = 3/7 of JP's orders on AU after a 25% tariff."""
    both = {**US_MINE, "sourcing": {"jp_ore": {"suppliers": {"AU": 0.5, "US": 0.5}}}}
    r = _run(both, _tariff(0.25))
    f = r.flows[r.flows["destination"] == "JP"]
    by = f[f["day"] >= 120].groupby("origin", observed=True)["tonnes"].sum()
    assert by["AU"] / by.sum() == pytest.approx(3 / 7, rel=1e-9)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.floats(0, 1.5), st.floats(0, 1.5), st.floats(0, 2), st.floats(0, 2),
       st.floats(0.1, 0.9), st.integers(0, 300), st.sampled_from([1, 7]))
def test_a_higher_tariff_never_raises_the_taxed_lanes_flow(r1, r2, share_e, demand_e,
                                                          au_share, start, step) -> None:
    """JP buys from AU (taxed) and the US, with a random share elasticity, short-run
    demand elasticity, sourcing split, start day and step: the tonnes shipped AU -> JP
    with the higher rate are never more than with the lower one."""
    low, high = sorted((r1, r2))
    both = {**US_MINE, "sourcing": {"jp_ore": {"suppliers": {"AU": au_share,
                                                             "US": 1.0 - au_share}}}}
    market = {"market": {"demand_response": {"sectors": {"ev": {"elasticity": demand_e}}}}}

    def taxed(rate: float) -> float:
        r = _run(both, market, _tariff(rate, start=start, elasticity=share_e), step=step)
        f = r.flows[(r.flows["origin"] == "AU") & (r.flows["destination"] == "JP")]
        return float(f["tonnes"].sum())

    assert taxed(high) <= taxed(low) * (1 + 1e-9) + 1e-9


class _Tariff:
    """A dated tariff as ``landed_factor`` reads it (``start_day``/``end_day``, ``model``)."""

    def __init__(self, rate: float, start_day: int):
        self.start_day, self.end_day = start_day, None
        self.model = type("Model", (), {"rate": rate})()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(1e-6, 1.0), min_size=1, max_size=5), st.integers(0, 4),
       st.sampled_from([1, 7, 14, 28]), st.floats(-0.9, 5.0))
def test_a_tariff_not_yet_in_force_leaves_the_landed_factor_exactly_one(
        shares, taxed, step, rate):
    """Whatever the buyer's shares, a tariff that starts after the step leaves its landed
    factor exactly 1, as for a buyer with no tariff at all. Found by the causality property
    (clean-clone run, 2026-12-06): a buyer with a tariff due later summed ``share * 1.0``
    day by day over ``total * step``, 1 +- 1e-16, so a tariff starting on day 168 changed
    the destocking, and so the prices and flows, of earlier steps in the last bits."""
    from simulator.engine.events.logistics import landed_factor

    lanes = [type("Lane", (), {"share": s, "tariffs": []})() for s in shares]
    lanes[taxed % len(lanes)].tariffs.append(_Tariff(rate, start_day=100 + step))
    buyer = type("Buyer", (), {"lanes": lanes})()
    assert landed_factor(buyer, 100, step) == 1.0  # type: ignore[arg-type]


def _two_suppliers(tariff: bool) -> dict:
    """JP buys ore from AU (0.4) and CN (0.6) at weekly steps; AU's mine loses 90% from day
    30, so JP's shares move and the price rises (destocking reads it); a tariff on CN's
    ore from day 140."""
    patch: dict = {
        "simulation": {"step_days": 7, "warmup_days": 28},
        "facilities": {"cn_mine": {"country": "CN", "recipe": "mining", "capacity_tpy": 36500}},
        "sourcing": {"jp_ore": {"suppliers": {"AU": 0.4, "CN": 0.6}}},
        "events": {"au_out": {"type": "facility_outage", "facilities": ["au_mine"],
                              "start": date(30), "duration_days": 170, "capacity_lost": 0.9}},
        "market": {"prices": {"ore": {"domestic": 10.0}},
                   "destocking": {"max_cover_cut": 0.5, "time_constant_days": 30}}}
    if tariff:
        patch["events"]["tariff"] = {"type": "tariff", "importers": ["JP"],
                                     "exporters": ["CN"], "rate": -0.5, "start": date(140)}
    return deep_update(BASE, patch)


def test_a_tariff_changes_nothing_before_its_start_bit_for_bit() -> None:
    """The causality property on a hand-made network: every row of a step that ends on or
    before the tariff's first day (140) is bit-identical with and without it (before: the
    timeseries differed in the last bits from the first step JP's shares moved)."""
    a = run_replication(make_scenario(_two_suppliers(False)), seed=1)
    b = run_replication(make_scenario(_two_suppliers(True)), seed=1)
    for name in ("timeseries", "flows", "production", "prices"):
        x, y = getattr(a, name), getattr(b, name)
        x, y = x[x["day"] + 7 <= 140].reset_index(drop=True), y[y["day"] + 7 <= 140]
        pd.testing.assert_frame_equal(x, y.reset_index(drop=True), check_exact=True, obj=name)
