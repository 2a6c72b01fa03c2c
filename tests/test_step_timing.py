"""Step-size artefacts found while checking convergence (issue 11, "Timing depends on the step").

Tiny network of tests/test_events.py: AU sells ore to a JP demand sector (10 t/day, 10 days of
cover, 5-day lead). From day 31 (mid-week at weekly steps) AU's exports need a licence, decided
after 28 or 30 days and always approved. Daily steps, by hand: JP's stock and the five lots in
transit last to day 45; lots ordered from day 31 land from day 64 (or 66): 18 (20) days short,
180 t (200 t), and the same at weekly steps: a buyer plans the 5-day lead as it is at every
step. (Until 2026-12-07 it planned a lane shorter than the step as a whole step and held 2
more days of stock at weekly steps: 20 t less shortfall than daily;
tests/test_step_invariance.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.engine import build_network, run_replication
from tests.conftest import deep_update, make_scenario
from tests.test_events import BASE, R, date, flows_by_day


def _licence_from_day_31(step: int, delay: int) -> dict:
    lic = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "licence", "effective": date(31),
           "licence": {"approval_probability": 1.0, "delay_days": delay}}
    return deep_update(BASE, {"simulation": {"step_days": step}, "events": {"lic": lic}})


def _shortfall(data: dict) -> float:
    return float(run_replication(make_scenario(data), seed=1).timeseries["shortfall_t"].sum())


@pytest.mark.parametrize(("delay", "daily_t"), [(28, 18 * R), (30, 20 * R)])
def test_a_licence_starting_mid_step_is_planned_for_on_its_day(delay: int,
                                                               daily_t: float) -> None:
    """Buyers order for the licence's wait on the day it takes effect, not at the next step
    (before: the extra order waited for day 35 and was decided 4 days later, 220 t short at
    both delays). With a 30-day review the lots land mid-week (day 66) and serve the rest of
    that week (before: from day 70)."""
    assert _shortfall(_licence_from_day_31(1, delay)) == pytest.approx(daily_t)
    assert _shortfall(_licence_from_day_31(7, delay)) == pytest.approx(daily_t)


def test_a_lot_landing_mid_step_serves_the_rest_of_the_step() -> None:
    """JP runs short in the week of day 63 (days 63-69); the first licensed lot lands on day
    66 (30-day review, 5-day lead) and serves days 66-69 at once."""
    r = run_replication(make_scenario(_licence_from_day_31(7, 30)), seed=1)
    week = r.timeseries.set_index("day").loc[63]
    assert week["demand_t"] == pytest.approx(7 * R)
    assert week["shortfall_t"] == pytest.approx(3 * R)  # days 63, 64 and 65


@pytest.mark.parametrize("step", [1, 7, 14])
def test_producers_start_with_their_output_cover_whatever_the_step(step: int) -> None:
    """A pool starts with its producers' output cover. Before, it started with a step's
    make-ahead on top, which a co-product nobody draws down keeps for ever: China's Dy/Tb
    oxide pool held 676 t at weekly steps against 484 t daily, which delayed the 2026
    shortfall of the Myanmar replay (V4) by weeks at larger steps."""
    data = deep_update(BASE, {"simulation": {"step_days": step},
                              "facilities": {"au_mine": {"output_cover_days": 20}}})
    net = build_network(make_scenario(data), {})
    assert net.pools[("AU", "ore")].stock == pytest.approx(20 * 100.0)  # 36,500 t/y


@pytest.mark.parametrize(("extra", "daily_t"), [(14, 4 * R), (28, 18 * R)])
def test_a_logistics_delay_starting_mid_step_is_planned_for_on_its_day(extra: int,
                                                                       daily_t: float) -> None:
    """The same for a logistics delay on AU -> JP from day 31: lots sent from then land
    ``extra`` days later (before, at weekly steps: 80 t and 220 t short)."""
    def delayed(step: int) -> dict:
        ev = {"type": "logistics_disruption", "origin": "AU", "destination": "JP",
              "start": date(31), "extra_days": extra}
        return deep_update(BASE, {"simulation": {"step_days": step}, "events": {"d": ev}})

    assert _shortfall(delayed(1)) == pytest.approx(daily_t)
    assert _shortfall(delayed(7)) == pytest.approx(daily_t)


def _ban_on_a_three_week_lane(step: int, cover_days: int, ban: bool = True) -> dict:
    patch: dict = {"simulation": {"step_days": step, "warmup_days": 56},
                   "lead_times": {"default_days": 21},
                   "demand": {"jp_use": {"cover_days": cover_days}}}
    if ban:
        patch["events"] = {"ban": {
            "type": "export_control", "exporter": "AU", "materials": ["ore"],
            "destinations": ["JP"], "mode": "ban", "effective": date(56), "end": date(116)}}
    return deep_update(BASE, patch)


@pytest.mark.parametrize("step", [1, 7, 14])
def test_a_lane_longer_than_a_step_is_planned_as_it_is(step: int) -> None:
    """A 21-day lane, 30 days of cover, a 60-day ban from day 56. By hand (daily): the stock
    and the 21 days in transit last to day 106; orders resume on day 116 and land from day
    137: 30 days short, 300 t. At 14-day steps a buyer used to plan the 21-day lane as 28
    days (a lot landing mid-step waits for the next step), held a week more stock and was
    70 t less short (230 t); it now plans the lane's 21 days."""
    assert _shortfall(_ban_on_a_three_week_lane(step, 30)) == pytest.approx(30 * R)


@pytest.mark.parametrize("step", [1, 7, 14])
def test_a_short_cover_never_runs_short_in_steady_state(step: int) -> None:
    """Planning the exact lead leaves a buyer's stock after a step's use below its cover by
    the wait of a lot that lands mid-step; with 5 days of cover and a 21-day lane at 14-day
    steps that would be a week short every step. The buyer plans enough more to stay at or
    above zero: no shortfall without events. (At 28-day steps the buyer's stock after its
    use is then exactly zero and a lot landing mid-step serves the start of the next step;
    the horizon's last step, whose rows count 2 of its 28 days at the step's rates, then
    reads 5 t short: docs/engine.md, "Convergence".)"""
    assert _shortfall(_ban_on_a_three_week_lane(step, 5, ban=False)) == 0.0


def _licence_on_a_one_week_lane(step: int) -> dict:
    """V2's lanes from China to Korea and Viet Nam: 14 days of cover, a 7-day lane; from day
    31 AU's exports need a licence decided after 28 days. A year of warm-up, so the start-up
    transient (nothing in transit) is over at every step."""
    lic = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "licence", "effective": date(31),
           "licence": {"approval_probability": 1.0, "delay_days": 28}}
    return deep_update(BASE, {"simulation": {"step_days": step, "warmup_days": 364},
                              "lead_times": {"default_days": 7},
                              "demand": {"jp_use": {"cover_days": 14}},
                              "events": {"lic": lic}})


def _denied_from_day_31(step: int) -> dict:
    """AU's ore exports to JP need a licence from day 31 to day 40, never approved: each
    application is denied 10 days after filing and JP may order the tonnes again 3 days later
    (when the licence is no longer required)."""
    lic = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "licence", "effective": date(31), "end": date(40),
           "licence": {"approval_probability": 0.0, "delay_days": 10, "reapply_days": 3}}
    return deep_update(BASE, {"simulation": {"step_days": step}, "events": {"lic": lic}})


def test_denied_tonnes_are_ordered_again_on_the_days_they_may_be() -> None:
    """Applications filed on days 31-34 and 35-39 are denied 10 days later; daily, JP orders
    each day's lot again 3 days after its denial, on days 44-47 and 48-52. At weekly steps
    each application is one lot standing for its days, re-ordered on the middle day of the
    daily run's re-orders, 46 and 50, and shipped that day; nothing ships on days 41-43.
    By day 48 a weekly run has shipped 100 t, a daily one 110 t (until 2026-12-07 both lots
    were re-ordered on their first day, 44 and 48, and the weekly run had shipped 190 t by
    day 48; before that, at the next step, day 49, and JP was 40 t short instead of 30)."""
    daily, weekly = (flows_by_day(run_replication(make_scenario(_denied_from_day_31(step)),
                                                  seed=1)) for step in (1, 7))
    assert set(range(44, 53)) <= set(daily.index)
    assert {46, 50} <= set(weekly.index)
    assert not any(41 <= d < 44 for d in weekly.index)
    assert weekly.loc[:48].sum() - weekly.loc[:40].sum() == pytest.approx(100.0)
    assert daily.loc[:48].sum() - daily.loc[:40].sum() == pytest.approx(110.0)


def test_a_lot_ordered_between_steps_with_no_lead_time_is_used_from_the_next_day() -> None:
    """The network above with no lead times and 3 days of cover: daily, the lot JP orders on
    day 44 lands that day after the day's use, so days 42-44 are short (30 t). At weekly
    steps the lot JP orders between steps on day 44 lands on day 45 too, and the week of
    day 42 is 30 t short, as daily (landing on day 44 it served day 44: 20 t)."""
    rows = {}
    for step in (1, 7):
        data = deep_update(_denied_from_day_31(step), {
            "lead_times": {"default_days": 0}, "demand": {"jp_use": {"cover_days": 3}}})
        ts = run_replication(make_scenario(data), seed=1).timeseries.set_index("day")
        rows[step] = ts["shortfall_t"]
    assert rows[1].loc[42:48].sum() == pytest.approx(30.0)
    assert rows[7].loc[42] == pytest.approx(30.0)


def _chain(step: int) -> dict:
    """CN mines ore for a JP magnet plant (both 20 t/day) serving a 10 t/day JP sector; 5
    days of cover everywhere, a 10-day lane. From day 103 to 160 CN's ore needs a licence,
    always approved after 42 days: the plant's ore runs out on day 118 and the first licensed
    lot (filed on day 103, shipped on day 145) lands on day 155."""
    lic = {"type": "export_control", "exporter": "CN", "materials": ["ore"],
           "destinations": ["JP"], "mode": "licence", "effective": date(103),
           "end": date(160), "licence": {"approval_probability": 1.0, "delay_days": 42}}
    return {
        "name": "chain", "start_date": "2024-01-01", "end_date": "2025-01-01",
        "simulation": {"step_days": step, "warmup_days": 70}, "stages": ["mine", "magnet"],
        "countries": {"CN": {"name": "China"}, "JP": {"name": "Japan"}},
        "materials": {"ore": {}, "magnet": {}},
        "recipes": {"mining": {"stage": "mine", "outputs": {"ore": 1.0}},
                    "making": {"stage": "magnet", "inputs": {"ore": 1.0},
                               "outputs": {"magnet": 1.0}}},
        "facilities": {
            "cn_mine": {"country": "CN", "recipe": "mining", "capacity_tpy": 7300,
                        "output_cover_days": 5},
            "jp_plant": {"country": "JP", "recipe": "making", "capacity_tpy": 7300,
                         "input_cover_days": 5, "output_cover_days": 5}},
        "demand": {"jp_use": {"country": "JP", "sector": "ev", "material": "magnet",
                              "rate_tpy": 3650, "cover_days": 5}},
        "sourcing": {"jp_ore": {"country": "JP", "material": "ore", "suppliers": {"CN": 1.0}}},
        "lead_times": {"default_days": 10},
        "events": {"lic": lic}}


def test_a_plant_short_of_input_runs_again_the_day_a_lot_lands() -> None:
    """Daily, the plant makes nothing from day 119 and runs at its full 20 t/day from day 155,
    when the first licensed lot lands. At weekly steps that lot lands mid-step (the step of
    days 154-160): the plant makes the step's last six days, 120 t, as daily (before: nothing
    until day 161). What it makes goes that day to the orders its pool could not fill
    (tests/test_step_invariance.py)."""
    made = {}
    for step in (1, 7):
        r = run_replication(make_scenario(_chain(step)), seed=1)
        pr = r.production[r.production["facility"] == "jp_plant"].set_index("day")["tonnes"]
        made[step] = pr
    daily = made[1]
    assert daily.loc[119:154].sum() == 0.0
    assert daily.loc[155:160].sum() == pytest.approx(120.0)
    assert made[7].loc[154] == pytest.approx(120.0)
    assert made[7].loc[119:153].sum() == 0.0


def test_the_short_cover_guard_follows_a_cover_that_changes() -> None:
    """Destocking changes a buyer's cover during the run; the lead it plans follows. A 24-day
    lane at weekly steps: with 10 days of cover the buyer plans 24 days; cut to 3 days, a lot
    landing mid-step would leave it short, so it plans 28 - 3 = 25 (before: still 24, from
    the cover it started with)."""
    from simulator.engine.rng import RandomStreams
    from simulator.engine.world import World

    data = deep_update(BASE, {"simulation": {"step_days": 7},
                              "lead_times": {"default_days": 24}})
    world = World(make_scenario(data), build_network(make_scenario(data), {}),
                  RandomStreams(1, 0))
    world.start()
    b = world.net.demands[0].buyer
    pool = b.lanes[0].pool
    b.on_hand = 0.0
    b.lanes[0].on_order = 0.0
    b.cover_days = 3.0
    pool.orders.clear()
    world._top_ups[id(b)](0)
    ((_, q),) = pool.orders
    assert q == pytest.approx(R * (3 + 25))


def _second_supplier_and_a_licence(step: int, start: int) -> dict:
    """JP (10 t/day, 14 days of cover) buys 80% from AU and 20% from US on 7-day lanes,
    switching off; from day ``start`` AU's exports need a licence decided after 28 days."""
    lic = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "licence", "effective": date(start),
           "licence": {"approval_probability": 1.0, "delay_days": 28}}
    return deep_update(BASE, {
        "simulation": {"step_days": step, "warmup_days": 364},
        "facilities": {"us_mine": {"country": "US", "recipe": "mining", "capacity_tpy": 36500}},
        "sourcing": {"jp_ore": {"suppliers": {"AU": 0.8, "US": 0.2}}},
        "switching": {"enabled": False}, "lead_times": {"default_days": 7},
        "demand": {"jp_use": {"cover_days": 14}}, "events": {"lic": lic}})


@pytest.mark.parametrize("start", [29, 30, 31, 32, 33, 34])
def test_a_late_lot_does_not_let_the_steps_other_supply_serve_the_days_before_it(
        start: int) -> None:
    """By hand (daily, licence from day 31): the top-up for AU's longer wait (224 t, 44.8 t of
    it from US, landing on day 38) and US's 2 t a day keep JP going to day 60; days 61-65
    are short by 7.2 t and 4 x 8 t (US's 2 t a day arrive), 39.2 t, until AU's first licensed
    lots land on day ``start + 35``. At weekly steps US's week of supply lands on the step's
    first day and stands for 2 t a day: it must not serve the days before AU's lot lands
    mid-step. Before, it did: weekly 33.4-37.2 t against 39.2 t. Now the weekly run is 39.2 t
    when the licence starts late in the week and within 1.4 t (a weekly order is cut by the
    step's whole shortfall at its start, a daily one day by day) when it starts early."""
    assert _shortfall(_second_supplier_and_a_licence(1, start)) == pytest.approx(39.2)
    weekly = _shortfall(_second_supplier_and_a_licence(7, start))
    if start >= 33:
        assert weekly == pytest.approx(39.2)
    else:
        assert abs(weekly - 39.2) <= 1.4


def _licence_ending_mid_step(step: int, end: int) -> dict:
    """AU's exports to JP (14 days of cover, a 7-day lane) need a licence decided after 28
    days from before the warm-up until day ``end``."""
    lic = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "licence", "effective": "2023-06-01",
           "end": date(end), "licence": {"approval_probability": 1.0, "delay_days": 28}}
    return deep_update(BASE, {"simulation": {"step_days": step, "warmup_days": 364},
                              "lead_times": {"default_days": 7},
                              "demand": {"jp_use": {"cover_days": 14}},
                              "events": {"lic": lic}})


@pytest.mark.parametrize("end", [31, 33])
def test_a_policy_that_eases_mid_step_cuts_the_rest_of_the_steps_order(end: int) -> None:
    """When the licence ends on day ``end`` the buyer's wait falls from 35 to 7 days: a daily
    run orders nothing for 28 days and JP keeps its 14 days of cover (140 t after each day's
    use). A weekly order placed on day 28 for days 28-34 was sized for the long wait; its
    part for the days from ``end`` shipped at once, unlicensed, and JP held 40 t (20 t) more
    for three weeks. That part is now cut by what a daily run would not have ordered."""
    daily = run_replication(make_scenario(_licence_ending_mid_step(1, end)), seed=1)
    weekly = run_replication(make_scenario(_licence_ending_mid_step(7, end)), seed=1)
    d = daily.timeseries.set_index("day")["inventory_t"]
    w = weekly.timeseries.set_index("day")["inventory_t"]
    for day in (42, 49, 56):  # a weekly row is the stock after the step's use: day + 6
        assert w.loc[day] == pytest.approx(d.loc[day + 6]) == pytest.approx(14 * R)


@pytest.mark.parametrize(("arrivals", "expected"), [
    ([(0.0, 30.0, 0)], 30.0),                      # stock for 3 of 7 days
    ([(0.0, 0.0, 0), (0.0, 14.0, 7), (3.0, 200.0, 1)], 46.0),  # 2 t/day, then a lot on day 3
    ([(0.0, 5.0, 0), (5.0, 100.0, 7)], 25.0),      # a week's lot from day 5: days 5 and 6
    ([(0.0, 100.0, 0)], 70.0),                     # enough stock
])
def test_a_step_serves_what_a_daily_run_would(arrivals: list, expected: float) -> None:
    """``served``: 10 t/day over a 7-day step, unmet demand lost; each case by hand, day by
    day (a lot of span n brings q/n on each of its n days)."""
    from simulator.engine.late import served
    assert served(arrivals, 10.0, 7) == pytest.approx(expected)


@pytest.mark.parametrize("step", [1, 7, 14, 28])
def test_the_last_step_counts_only_its_days_before_the_end_date(step: int) -> None:
    """2024 has 366 days: the last step of a weekly run has 2 of them (days 364-365), of a
    28-day run 2 too (days 364-365 of 364-391). Its rows count those days at the step's
    rates (the step is simulated whole, then its demand and production rows are scaled),
    so the year's totals do not depend on the step. Before 2026-12-07 the last step counted
    whole: JP's demand was 3,710 t weekly, 3,780 t at 14 days and 3,920 t at 28 days
    against 3,660 t daily, and the extra days' shortfall with it. Here the mine makes 5
    t/day, half JP's use, so JP is short every day: 5 t a day after its opening stock,
    whatever the step."""
    data = deep_update(BASE, {"simulation": {"step_days": step},
                              "facilities": {"au_mine": {"capacity_tpy": 1825}}})
    r = run_replication(make_scenario(data), seed=1)
    ts = r.timeseries
    assert ts["demand_t"].sum() == pytest.approx(366 * R, rel=1e-12)
    assert r.production["tonnes"].sum() == pytest.approx(366 * R / 2, rel=1e-9)
    last = ts[ts["day"] == ts["day"].max()].iloc[0]
    assert last["demand_t"] == pytest.approx(R * (366 - last["day"]), rel=1e-12)
    assert last["shortfall_t"] >= 0.0
    daily = run_replication(make_scenario(deep_update(data, {"simulation": {"step_days": 1}})),
                            seed=1).timeseries
    assert ts["shortfall_t"].sum() == pytest.approx(daily["shortfall_t"].sum(), rel=0.05)


@pytest.mark.parametrize("step", [1, 7, 14, 28])
def test_days_below_threshold_count_the_last_steps_days_before_the_end_date(step: int) -> None:
    """JP short every day from the first step on (the mine makes half its use): at any step
    its days below a 90% fill are the year's days, 366, less those its opening stock
    covers. Before 2026-12-07 each row counted a whole step: 392 days in a 366-day year at
    28-day steps, 378 at 14."""
    from simulator.analysis import replication_metrics
    data = deep_update(BASE, {"simulation": {"step_days": step},
                              "facilities": {"au_mine": {"capacity_tpy": 1825}}})
    scenario = make_scenario(data)
    ts = run_replication(scenario, seed=1).timeseries
    m = replication_metrics(ts, scenario).iloc[0]
    below = ts.loc[ts["delivered_t"] < 0.9 * ts["demand_t"], "day"]
    first = int(below.min())
    assert m["days_below_threshold"] == pytest.approx(366 - first)
    assert m["days_below_threshold"] <= 366
    q = ts["delivered_t"] / ts["demand_t"]
    days = np.minimum(step, 366 - ts["day"].to_numpy())
    assert m["resilience_loss_pct_days"] == pytest.approx(100 * float(((1 - q) * days).sum()))
