"""Engine invariants with the market's responses ON, over random networks with random events.

:mod:`tests.test_invariants` checks causality, paired randomness and policy monotonicity on
networks without a ``market:`` section, and ``tests/test_market.py`` that prices alone change
no tonnes. Here prices feed back into tonnes (docs/markets.md): short-run elasticity,
thrifting and substitution, destocking, and plants built on price, each drawn at random, so
the invariants must hold through the price loop too:

- causality: an event, or a plant, that starts on day T changes no output row (prices
  included) of a step that ends on or before T;
- paired randomness: an event that is not a demand shock or substitution leaves every
  sector's demand draw (``demand_t + destroyed_t + thrifted_t``) as it was;
- a ban in force to the end never raises its routes' flows;
- prices positive and finite, tonnes finite and non-negative, mass balance
  (``run_replication`` raises otherwise).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from hypothesis import note
from hypothesis import strategies as st

from tests.strategies import (
    EVENT_TYPES,
    date,
    dump,
    event_data,
    first_day,
    future_facility,
    horizon,
    scenario_data,
    with_events,
)
from tests.test_invariants import (
    assert_a_ban_ships_no_more,
    assert_a_larger_reserve_fills_no_less,
    assert_lower_approval_ships_no_more,
    assert_lower_approval_ships_no_more_on_average,
    assert_prices_same_before,
    assert_same_before,
    invariant,
    plain,
    replications,
    run,
    seeds,
    with_ban,
    with_two_licences,
    with_two_reserves,
)


# -- strategies ----------------------------------------------------------------------------------
@st.composite
def demand_response(draw: st.DrawFn) -> dict:
    """A sector's response: any mix of short-run elasticity and lagged thrifting."""
    out: dict = {}
    if draw(st.booleans()):
        out["elasticity"] = draw(st.floats(0.0, 2.0))
    if draw(st.booleans()):
        thrift = {"max_share": draw(st.floats(0.0, 0.6)),
                  "time_constant_days": draw(st.floats(1.0, 730.0)),
                  "full_price_multiple": draw(st.floats(1.05, 4.0)),
                  "shortage_weight": draw(st.floats(0.0, 2.0))}
        if draw(st.booleans()):
            thrift["recovery_time_constant_days"] = draw(st.floats(1.0, 730.0))
        out["thrifting"] = thrift
    return out


@st.composite
def market_data(draw: st.DrawFn, data: dict, plant: bool | None = None) -> dict:
    """A random ``market:`` for ``data``: some materials priced in one or two tiers, random
    price dynamics, demand responses per sector, destocking, and (if ``plant``, or at random
    when None) one facility built on price."""
    mats = sorted(data["materials"])
    priced = draw(st.lists(st.sampled_from(mats), min_size=1, unique=True))
    prices = {}
    for m in priced:
        domestic = draw(st.floats(1.0, 500.0))
        prices[m] = {"domestic": domestic,
                     "export": domestic * draw(st.floats(0.5, 3.0))}
    market: dict = {
        "elasticity": draw(st.floats(0.2, 3.0)),
        "surplus_elasticity": draw(st.floats(0.5, 20.0)),
        "adjustment_days": draw(st.floats(1.0, 90.0)),
        "max_multiple": draw(st.floats(1.5, 20.0)),
        "producer_stock_weight": draw(st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0)),
        "prices": prices,
        "demand_response": {"default": draw(demand_response())},
    }
    if draw(st.booleans()):
        market["home"] = draw(st.sampled_from(sorted(data["countries"])))
    sectors = sorted({d["sector"] for d in data["demand"].values()})
    for sector in draw(st.lists(st.sampled_from(sectors), unique=True, max_size=2)):
        market["demand_response"].setdefault("sectors", {})[sector] = draw(demand_response())
    if draw(st.booleans()):
        market["destocking"] = {"max_cover_cut": draw(st.floats(0.0, 0.9)),
                                "full_price_multiple": draw(st.floats(1.05, 4.0)),
                                "time_constant_days": draw(st.floats(1.0, 120.0)),
                                "buyers": draw(st.sampled_from(["all", "demand",
                                                                "facilities"]))}
    if plant is None:
        plant = draw(st.booleans())
    if plant:
        fid = draw(st.sampled_from(sorted(data["facilities"])))
        fac = data["facilities"][fid]
        fac.pop("start_date", None)
        m = draw(st.sampled_from(priced))
        fac["invest"] = {"material": m,
                         "market": draw(st.sampled_from(["export", "home"])),
                         "incentive_price": prices[m]["domestic"] * draw(st.floats(0.5, 3.0)),
                         "sustained_days": draw(st.integers(0, 90)),
                         "lead_time_days": draw(st.integers(1, 200)),
                         "completion_probability": draw(st.sampled_from([0.0, 0.5, 1.0]))}
    return market


@st.composite
def with_market(draw: st.DrawFn, max_events: int = 3) -> dict:
    data = draw(scenario_data(max_events=max_events))
    data["market"] = draw(market_data(data))
    return data


@st.composite
def with_added_event(draw: st.DrawFn) -> tuple[dict, dict, int]:
    """A random network with a random market and events, and an event of any type (an
    agreement with its plants; a price floor where a plant is built on price) that starts
    on day t."""
    data = draw(with_market())
    planned = sorted(f for f, fac in data["facilities"].items() if "invest" in fac)
    kind = draw(st.sampled_from([k for k in EVENT_TYPES
                                 if k != "stockpile_policy" or data["stockpiles"]]
                                + ["price_floor"] * 4 * bool(planned)))
    t = draw(st.integers(1, horizon(data) - 1))
    if kind == "price_floor":  # a floor under the plant built on price (DoD-MP's kind)
        reference = data["market"]["prices"][data["facilities"][planned[0]]["invest"]["material"]]
        ev = {"type": "price_floor", "facilities": planned, "start": date(t),
              "floor": reference["domestic"] * draw(st.floats(0.5, 5.0))}
        if draw(st.booleans()):
            ev["end"] = date(draw(st.integers(t + 1, horizon(data) + 30)))
    else:
        ev = draw(event_data(data, kind, at=t, eid="added"))
    assert first_day(ev) == t
    return data, ev, t


@st.composite
def with_future_plant(draw: st.DrawFn) -> tuple[dict, dict, int]:
    data = draw(with_market())
    t = draw(st.integers(1, horizon(data) - 1))
    fid, fac = draw(future_facility(data, t))
    extended = copy.deepcopy(data)
    extended["facilities"][fid] = fac
    return data, extended, t


# -- helpers -------------------------------------------------------------------------------------
def assert_sane(r) -> None:
    p = r.prices["price_usd_per_kg"].to_numpy()
    assert np.isfinite(p).all() and (p > 0).all(), "a price is not positive and finite"
    ts = r.timeseries
    for col in ("demand_t", "delivered_t", "shortfall_t", "destroyed_t", "thrifted_t",
                "inventory_t"):
        v = ts[col].to_numpy()
        assert np.isfinite(v).all() and (v >= -1e-9).all(), col


def raw_demand(r) -> pd.DataFrame:
    """Each sector's demand draw per step: what it asked for, gave up to price and thrifted."""
    ts = plain(r.timeseries)
    ts["drawn_t"] = ts["demand_t"] + ts["destroyed_t"] + ts["thrifted_t"]
    return ts[["day", "demand_id", "drawn_t"]]


# -- properties ----------------------------------------------------------------------------------
@invariant(20, with_added_event(), seeds, replications)
def test_causality_with_markets_an_event_changes_nothing_before_it_starts(case, seed, rep):
    data, ev, t = case
    note(f"base: {dump(data)}\nadded (first day {t}): {dump(ev)}")
    a, b = run(data, seed, rep), run(with_events(data, added=ev), seed, rep)
    assert_sane(b)
    step = data["simulation"]["step_days"]
    assert_same_before(a, b, t, step)
    assert_prices_same_before(a, b, t, step, data, with_events(data, added=ev))


@invariant(15, with_future_plant(), seeds, replications)
def test_causality_with_markets_a_plant_changes_nothing_before_its_start_date(case, seed,
                                                                              rep):
    data, extended, t = case
    note(f"base: {dump(data)}\nextended (plant starts day {t}): {dump(extended)}")
    a, b = run(data, seed, rep), run(extended, seed, rep)
    step = data["simulation"]["step_days"]
    assert_same_before(a, b, t, step)
    assert_prices_same_before(a, b, t, step, data, extended)


@st.composite
def non_demand_event(draw: st.DrawFn) -> tuple[dict, dict]:
    data = draw(with_market())
    kind = draw(st.sampled_from([k for k in EVENT_TYPES
                                 if k not in ("demand_shock", "substitution")
                                 and (k != "stockpile_policy" or data["stockpiles"])]))
    return data, draw(event_data(data, kind, eid="added"))


@invariant(15, non_demand_event(), seeds, replications)
def test_with_markets_an_event_never_shifts_the_demand_draws(case, seed, rep):
    """Prices, thrifting and destocking move what a sector buys, never what it draws: the
    step's demand before any response (``demand_t + destroyed_t + thrifted_t``) is the same
    with and without an event that does not act on demand."""
    data, ev = case
    note(f"base: {dump(data)}\nadded: {dump(ev)}")
    a = raw_demand(run(data, seed, rep))
    b = raw_demand(run(with_events(data, added=ev), seed, rep))
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=1e-9)


@st.composite
def ban_with_market(draw: st.DrawFn) -> tuple[dict, dict]:
    data, ban = draw(with_ban(announced=False))
    data["market"] = draw(market_data(data))
    return data, {k: v for k, v in ban.items() if k != "end"}


@invariant(15, ban_with_market(), seeds, replications)
def test_with_markets_a_ban_never_raises_the_flows_on_its_routes(case, seed, rep):
    """As ``test_a_ban_never_raises_the_flows_on_its_routes``, with prices feeding back into
    demand, cover and investment: a ban in force to the end carries no more on its routes."""
    assert_a_ban_ships_no_more(*case, seed, rep)


@st.composite
def reserves_with_market(draw: st.DrawFn) -> tuple[dict, dict]:
    small, bigger = draw(with_two_reserves())
    small["market"] = draw(market_data(small))
    bigger["market"] = copy.deepcopy(small["market"])
    for fid, fac in small["facilities"].items():  # the same plant built on price in both
        bigger["facilities"][fid] = copy.deepcopy(fac)
    return small, bigger


@invariant(15, reserves_with_market(), seeds, replications)
def test_with_markets_a_larger_reserve_never_lowers_the_fill_rate_it_serves(case, seed, rep):
    assert_a_larger_reserve_fills_no_less(*case, seed, rep)


@st.composite
def licences_with_market(draw: st.DrawFn, extremes: bool = False) -> tuple[dict, dict, dict]:
    data, high, low = draw(with_two_licences(extremes=extremes))
    data["market"] = draw(market_data(data))
    return data, high, low


@invariant(15, licences_with_market(extremes=True), seeds, replications)
def test_with_markets_a_licence_that_approves_nothing_never_ships_more(case, seed, rep):
    assert_lower_approval_ships_no_more(*case, seed, rep)


@invariant(2, licences_with_market(), seeds)
def test_with_markets_lower_licence_approval_never_raises_the_controlled_flows_on_average(
        case, seed):
    assert_lower_approval_ships_no_more_on_average(*case, seed)


@st.composite
def with_market_no_plant(draw: st.DrawFn) -> dict:
    """A random network with random events and a random market without a plant built on
    price (one is an error with the market off: nothing could call for it)."""
    data = draw(scenario_data(max_events=3))
    data["market"] = draw(market_data(data, plant=False))
    return data


@invariant(15, with_market_no_plant(), seeds, replications)
def test_a_market_switched_off_is_the_run_without_one(data, seed, rep):
    """``market.enabled: false`` is the rule-only run (issue 12): whatever the market holds
    (prices, thrifting on price or shortage, elasticity, destocking), every output is
    bit-identical to the same network with no ``market:`` at all."""
    note(dump(data))
    off = copy.deepcopy(data)
    off["market"]["enabled"] = False
    none = copy.deepcopy(data)
    del none["market"]
    a, b = run(off, seed, rep), run(none, seed, rep)
    assert a.prices.empty
    for name in ("timeseries", "flows", "production", "stockpiles"):
        assert plain(getattr(a, name)).equals(plain(getattr(b, name))), name


for _name, _test in list(globals().items()):
    if _name.startswith("test_") and hasattr(_test, "thorough"):
        globals()[f"{_name}_thorough"] = _test.thorough
