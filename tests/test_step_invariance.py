"""What made 14-day steps differ from daily ones, each fixed on a hand-computed network
(issue 11, "Timing depends on the step"; docs/engine.md, "Timing").

Until 2026-12-07 three batching shortcuts held at coarse steps and cancelled in part:

1. a lane shorter than the step was planned as a whole step (a buyer held the difference as
   extra stock: 70 t short instead of 140 t in a complete cut at 14-day steps);
2. what a plant made mid-step, from a lot that landed after it ran out, waited in its pool
   for the next step's orders (a step late at every stage of a chain: V4 at 14-day steps
   was 9.7% more short than weekly once lanes were planned as they are);
3. a denied licence application of a 14-day step's second week weighed a whole step in the
   buyer's view of its supplier (two denials a step, 28 days of weight for 14 days of
   orders), so buyers left a licensed supplier faster than daily or weekly ones.
"""

from __future__ import annotations

import math

import pytest

from simulator.engine import run_replication
from simulator.engine.rng import RandomStreams
from simulator.engine.world import World
from tests.conftest import deep_update, make_scenario
from tests.test_events import BASE, R, date
from tests.test_step_timing import _chain, _licence_on_a_one_week_lane


@pytest.mark.parametrize("step", [1, 7, 14])
def test_a_lane_shorter_than_the_step_is_planned_as_it_is(step: int) -> None:
    """14 days of cover, a 7-day lane, a licence from day 31 decided after 28 days. By hand
    (daily): what was ordered by day 30, 14 days of stock and 7 in transit, lasts to day
    51; lots ordered from day 31 land from day 66: 14 days short, 140 t. At 14-day steps the
    buyer now plans the lane's 7 days, not a whole step: 140 t (before: 70 t, a week more
    stock than a daily run holds)."""
    r = run_replication(make_scenario(_licence_on_a_one_week_lane(step)), seed=1)
    assert float(r.timeseries["shortfall_t"].sum()) == pytest.approx(14 * R)


def test_what_a_plant_makes_mid_step_goes_to_the_orders_it_could_not_fill() -> None:
    """The chain of tests/test_step_timing.py: CN ore for a JP magnet plant (20 t/day) that
    serves a 10 t/day JP sector (5 days of cover everywhere, 7-day domestic lanes); a licence
    on CN's ore from day 103 (42-day review) stops the plant, and the first licensed lot
    lands on day 155. Daily, the plant makes 20 t a day from day 155 and ships it that day;
    the sector, short since day 140, is served from day 162. At weekly steps the plant makes
    the step's last six days on day 155; that output now goes that day to the sector's
    unfilled order and serves days 162-167, 60 t, as daily (before, it waited for day 161's
    orders and landed on day 168: the week of day 161 got nothing). The week after gets 70 t,
    as daily: the sector re-orders what the late output served on the days it uses it, as
    a daily run does (until 2026-12-07 that use waited for day 168's order, and the week was
    10 t short: docs/engine.md, "Timing")."""
    rows = {}
    for step in (1, 7):
        ts = run_replication(make_scenario(_chain(step)), seed=1).timeseries
        rows[step] = ts.set_index("day")["delivered_t"]
    assert rows[1].loc[161:167].sum() == pytest.approx(60.0)
    assert rows[7].loc[161] == pytest.approx(60.0)
    assert rows[1].loc[168:174].sum() == pytest.approx(70.0)
    assert rows[7].loc[168] == pytest.approx(70.0)  # (before 2026-12-07: 60)


def _denied_fortnight(step: int) -> tuple[World, float]:
    """AU's ore to JP needs a licence from day 28 to day 42 (one 14-day step, two 7-day
    application windows), never approved: the applications filed on days 28 and 35 are
    denied on days 38 and 45; the buyer may order the tonnes again only 100 days later."""
    lic = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "licence", "effective": date(28), "end": date(42),
           "licence": {"approval_probability": 0.0, "delay_days": 10, "reapply_days": 100}}
    data = deep_update(BASE, {"simulation": {"step_days": step}, "events": {"lic": lic}})
    scenario = make_scenario(data)
    from simulator.engine import build_network

    world = World(scenario, build_network(scenario, {"lic": True}), RandomStreams(1, 0))
    world.start()
    world.env.run(until=52)  # every denial is in (a daily run's last on day 51)
    return world, float(scenario.switching.adjustment_days)


@pytest.mark.parametrize("step", [7, 14])
def test_a_denied_application_weighs_the_days_of_orders_it_stands_for(step: int) -> None:
    """Two weeks of orders on the licensed lane are denied, one application a week. Each
    denial weighs the week of orders it stands for in the buyer's view of AU (time constant
    tau: a week's weight is 1 - e^(-7 / tau)), as the seven daily lots of a week weigh with
    daily steps; the held tonnes keep the buyer from ordering until day 138, so nothing else
    is seen. After both denials the buyer sees AU fill e^(-14 / tau) of its orders at weekly
    and at 14-day steps alike (0.607 with tau = 28). Before, at 14-day steps each of the
    step's two applications weighed the whole step, and the buyer saw 0.462."""
    world, tau = _denied_fortnight(step)
    lane = world.net.demands[0].buyer.lanes[0]
    assert lane.fill_seen == pytest.approx(math.exp(-14 / tau), rel=1e-12)


def _licensed_beside_free(step: int, switching: bool) -> dict:
    """BASE with a second mine in the US (2,000 t/yr) and AU's ore to JP licensed from day 30
    (approval 40%, 45-day review, 30 days to re-apply), for three years: JP either splits its
    orders 65/35 between AU and the US (switching off) or buys from AU and may switch to the
    US (an alternative qualified after 30 days)."""
    lic = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "licence", "effective": date(30),
           "licence": {"approval_probability": 0.4, "delay_days": 45, "reapply_days": 30}}
    sourcing = ({"suppliers": {"AU": 1.0}, "alternatives": {"US": 30}} if switching
                else {"suppliers": {"AU": 0.65, "US": 0.35}})
    return deep_update(BASE, {
        "simulation": {"step_days": step, "warmup_days": 56}, "end_date": "2027-01-01",
        "events": {"lic": lic}, "switching": {"enabled": switching},
        "facilities": {"us_mine": {"country": "US", "recipe": "mining", "capacity_tpy": 2000}},
        "sourcing": {"jp_ore": {"country": "JP", "material": "ore", **sourcing}}})


@pytest.mark.parametrize(("switching", "spread"), [(False, 0.03), (True, 0.05)])
def test_a_buyer_living_on_a_licence_queue_is_as_short_at_any_step(switching: bool,
                                                                   spread: float) -> None:
    """JP lives partly on lots that land mid-step (its stock runs out at each step's start)
    and partly on a licence queue that denies 60% of its applications. Mean shortfall over 10
    seeds: with fixed shares 4,203 t daily, 4,247 t weekly, 4,236 t at 14-day steps; with
    switching to the US 4,620 t, 4,797 t and 4,556 t. Until 2026-12-07 (the use that late
    lots served re-ordered only at the next step, denied lots re-ordered on their window's
    first day and seen once per lot, re-orders placed whatever the buyer's position) the
    fixed shares read 4,203 t, 4,412 t and 4,824 t (+15% at 14-day steps) and switching
    4,620 t, 4,419 t and 4,866 t."""
    totals = {}
    for step in (1, 7, 14):
        scenario = make_scenario(_licensed_beside_free(step, switching))
        totals[step] = sum(float(run_replication(scenario, seed=seed).timeseries[
            "shortfall_t"].sum()) for seed in range(10)) / 10
    for step in (7, 14):
        assert totals[step] == pytest.approx(totals[1], rel=spread), totals
