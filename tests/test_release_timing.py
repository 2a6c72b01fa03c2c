"""Strategic stockpiles and the step (docs/engine.md, step 4 and "Warm-up and start state").

Network of ``tests/test_step_timing.py::_chain``: CN ore for a JP magnet plant (10 t/day
pulled by a 10 t/day JP sector), 5 days of cover, a 10-day lane; CN's ore needs a licence
from day 103 to 160, always approved after 42 days, so the plant's ore runs out on day 118
and the first licensed lot lands on day 155. Here JP also holds an ore reserve of 200 t that
releases up to 10 t/day to the plant whenever the plant's fill falls below 1.
"""

from __future__ import annotations

import pytest

from simulator.engine import run_replication
from tests.conftest import deep_update, make_scenario
from tests.test_events import BASE
from tests.test_step_timing import _chain, date

RESERVE_T = 200.0


def _with_reserve(step: int) -> dict:
    reserve = {"country": "JP", "material": "ore", "holdings_t": RESERVE_T, "target_t": 0.0,
               "release": {"trigger": "fill_rate", "threshold": 1.0,
                           "max_release_tpy": 3650}}
    return deep_update(_chain(step), {"stockpiles": {"jp_ore": reserve}})


@pytest.mark.parametrize("step", [1, 7])
def test_the_warm_up_does_not_draw_on_a_reserve(step: int) -> None:
    """The warm-up fills empty pipelines: the plant's first lot lands after 10 days and its
    5 days of cover run out before. A reserve that watched it then released 10 t (daily) and
    140 t (weekly) before the start date; its holdings on the start date must be those
    declared, and nothing is released before the licence cuts the plant's ore (day 118)."""
    r = run_replication(make_scenario(_with_reserve(step)), seed=1)
    sp = r.stockpiles.set_index("day")
    assert sp["holdings_t"].iloc[0] == pytest.approx(RESERVE_T)
    assert sp.loc[:111, "released_t"].sum() == 0.0
    assert sp["released_t"].sum() == pytest.approx(RESERVE_T)


def test_a_release_runs_a_plant_that_ran_out_in_the_step() -> None:
    """Released tonnes arrive on the stockpile's turn, the step's first day; a plant that ran
    out of input in the step runs on them from the day it ran out, as on a lot landing
    mid-step. With the licence from day 98 the ore runs out on day 113, early in the week of
    days 112-118. Daily, the reserve releases 10 t a day from day 113 and the plant makes
    10 t/day from day 114 until the 200 t are spent (cumulative 70, 130.6, 200.6, 270.6 t by
    the weeks' ends). Weekly it makes 10 t/day from day 113: within a day's output of daily
    at every week's end. Before, a release to a plant waited for the next step's production:
    the plant stood idle days 113-118, 50 t behind daily from that week to the reserve's
    end."""
    made = {}
    for step in (1, 7):
        data = deep_update(_with_reserve(step), {"events": {"lic": {"effective": date(98)}}})
        r = run_replication(make_scenario(data), seed=1)
        pr = r.production[r.production["facility"] == "jp_plant"].set_index("day")["tonnes"]
        made[step] = [pr.loc[105:end].sum() for end in range(111, 140, 7)]
    assert made[1] == pytest.approx([70.0, 130.6, 200.6, 270.6, 280.6], abs=0.1)
    for weekly, daily in zip(made[7], made[1], strict=True):
        assert abs(weekly - daily) <= 10.0  # a day's output


def test_a_plant_that_runs_on_a_release_counts_it_in_its_fill() -> None:
    """With ore priced, a reserve that releases the plant's whole use (10 t/day) keeps the
    plant running through the licence's wait, so the price of ore stays where it was before
    the licence (within 1%); without the reserve it climbs to 9x. A plant that ran on
    released (or late) input must count those runs in its input buyers' fill, which the
    price's scarcity reads: when releases began to run plants at once (2026-12-06) but the
    fill still said what the plant had at the step's start, the released ore was used and
    counted nowhere, and the price climbed to 3.7x with the plant fully supplied. (Without
    the reserve the weekly price peaks at the week of day 140 and falls in the week of day
    147, whose approved lots land in it: since 2026-12-07 a short buyer's fill counts the
    lots landing in its step. A daily run peaks on day 147 and falls a week later.)"""
    def priced(reserve: bool) -> dict:
        data = deep_update(_chain(7), {"events": {"lic": {"effective": date(98)}},
                                       "market": {"prices": {"ore": {"domestic": 10.0}}}})
        if reserve:
            data = deep_update(data, {"stockpiles": {"jp_ore": {
                "country": "JP", "material": "ore", "holdings_t": 2000.0, "target_t": 0.0,
                "release": {"trigger": "fill_rate", "threshold": 1.0,
                            "max_release_tpy": 3650}}}})
        return data

    prices = {}
    for reserve in (False, True):
        r = run_replication(make_scenario(priced(reserve)), seed=1)
        prices[reserve] = r.prices.set_index("day")["price_usd_per_kg"]
    before = prices[True].loc[105]
    assert prices[False].loc[112:147].max() > 5 * before
    assert prices[True].loc[112:147].max() == pytest.approx(before, rel=0.01)


@pytest.mark.parametrize("step", [1, 7])
def test_a_cover_reserve_does_not_release_in_a_quiet_world(step: int) -> None:
    """Network of tests/test_events.py (JP buys 10 t/day of ore with 10 days of cover) on a
    10-day lane, no event, and a reserve that releases when JP's stock falls below 9 days.
    Daily, JP holds 10 days after each day's use and nothing is released. At weekly steps it
    plans the 10-day lane as it is and so holds 4 days less after a week's use (the lot due
    mid-week makes up for them); the trigger must count those days as a daily run would.
    Before, it read 6 days and the reserve released all its 500 t with nobody short."""
    data = deep_update(BASE, {
        "simulation": {"step_days": step, "warmup_days": 364},
        "lead_times": {"default_days": 10},
        "stockpiles": {"jp_res": {"country": "JP", "material": "ore", "holdings_t": 500.0,
                                  "release": {"trigger": "days_of_cover", "threshold": 9.0,
                                              "max_release_tpy": 3650}}}})
    r = run_replication(make_scenario(data), seed=1)
    assert r.timeseries["shortfall_t"].sum() == 0.0
    assert r.stockpiles["released_t"].sum() == 0.0
