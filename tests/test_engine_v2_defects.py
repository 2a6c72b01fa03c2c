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


# -- defect 3: switching to suppliers that cannot supply ---------------------------------------
def _quota_with_alternative(kr_mine: dict) -> dict:
    """JP and US buy the same ore from AU alike; a quota on AU's exports to both halves what
    they may get from day 60 to 240. JP alone may switch to KR, whose mine is ``kr_mine``."""
    return deep_update(BASE, {
        "countries": {"KR": {"name": "Korea"}},
        "facilities": {"kr_mine": {"country": "KR", "recipe": "mining", **kr_mine}},
        "demand": {"us_use": {"country": "US", "sector": "ev", "material": "ore",
                              "rate_tpy": 3650, "cover_days": 10}},
        "sourcing": {"jp_ore": {"alternatives": {"KR": 0}},
                     "us_ore": {"country": "US", "material": "ore", "suppliers": {"AU": 1.0}}},
        "events": {"quota": {"type": "export_control", "exporter": "AU", "materials": ["ore"],
                             "destinations": ["JP", "US"], "mode": "quota",
                             "quota_tpy": 3650, "effective": date(60), "end": date(240)}},
    })


@pytest.mark.parametrize("kr_mine", [
    {"capacity_tpy": 36500, "start_date": date(300)},  # not built yet
    {"capacity_tpy": 36.5},  # exists, but can fill almost nothing
], ids=["not_built", "near_zero"])
def test_defect3_no_claim_lost_to_an_alternative_that_cannot_supply(kr_mine: dict) -> None:
    r = run_replication(make_scenario(_quota_with_alternative(kr_mine)), seed=1)
    ts = r.timeseries[(r.timeseries["day"] >= 60) & (r.timeseries["day"] < 240)]
    got = ts.groupby("demand_id")["delivered_t"].sum()
    from_au = r.flows[(r.flows["origin"] == "AU") & (r.flows["day"] >= 60)
                      & (r.flows["day"] < 240)].groupby("destination", observed=True)[
        "tonnes"].sum()
    # the quota is shared pro rata to orders: JP, with a useless alternative, keeps ordering
    # its need from AU and keeps its half of the quota (v1: it moved most of its orders to KR,
    # where they vanished, and got ~30% less than the US)
    assert from_au["JP"] == pytest.approx(from_au["US"], rel=0.02)
    assert got["jp_use"] >= got["us_use"] * 0.98


# -- defect 4: a denied licence cost time, not volume ------------------------------------------
def _licensed(p: float, **patch) -> dict:
    """JP (60 days of cover) buys ore from AU, which requires a licence from day 30:
    20 days of processing, approval ``p``."""
    lic = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "licence", "effective": date(30),
           "licence": {"approval_probability": p, "delay_days": 20}}
    return deep_update(BASE, {"demand": {"jp_use": {"cover_days": 60}},
                              "events": {"lic": lic}, **patch})


def _mean_licensed_flow(p: float, reps: int = 6) -> float:
    total = 0.0
    for rep in range(reps):
        r = run_replication(make_scenario(_licensed(p)), seed=1, replication=rep)
        total += flows_by_day(r).loc[30:].sum()
    return total / reps


def test_defect4_denials_cost_volume() -> None:
    """A denial cancels its lot; the buyer may order those tonnes again only after
    ``reapply_days``, as a new application: fewer approvals ship less (v1, where denied lots
    were re-queued at once: 94% of the volume at approval 0.5 and 75% at 0.25; now 83% and
    43%, the rest lost as shortfall while the buyer waits)."""
    full, half, quarter = (_mean_licensed_flow(p) for p in (1.0, 0.5, 0.25))
    assert full == pytest.approx(10 * (365 - 30), rel=0.05)
    assert half < 0.9 * full
    assert quarter < 0.5 * full
    assert quarter < half


def test_defect4_a_denied_buyer_resources_elsewhere() -> None:
    """With another supplier to turn to, denied volume is bought there."""
    alt = _licensed(0.3, countries={"KR": {"name": "Korea"}},
                    facilities={"kr_mine": {"country": "KR", "recipe": "mining",
                                            "capacity_tpy": 36500}},
                    sourcing={"jp_ore": {"alternatives": {"KR": 0}}})
    r = run_replication(make_scenario(alt), seed=1)
    assert flows_by_day(r, "KR").sum() > 0.5 * 10 * (365 - 30)
    assert r.timeseries["shortfall_t"].sum() == pytest.approx(0.0, abs=1e-6)


# -- defect 7: after an outage, domestic restocking starved foreign users for a year -----------
def test_defect7_a_short_supplier_keeps_every_buyer_running_before_anyone_restocks() -> None:
    """CN's mine (11 t/day) serves CN and JP users (5 t/day each, 30 days of cover) with
    domestic buyers first. After a 100-day stop both are empty. CN's 1 t/day of headroom
    goes to rebuilding cover only after both get their use: JP runs again at once (v1: JP
    got 14% of its use for the first 6 weeks while CN rebuilt its 30 days of cover first)."""
    data = deep_update(BASE, {
        "simulation": {"step_days": 7, "warmup_days": 28},
        "facilities": {"au_mine": None,
                       "cn_mine": {"country": "CN", "recipe": "mining", "capacity_tpy": 4015}},
        "demand": {"jp_use": {"rate_tpy": 1825, "cover_days": 30},
                   "cn_use": {"country": "CN", "sector": "ev", "material": "ore",
                              "rate_tpy": 1825, "cover_days": 30}},
        "sourcing": {"jp_ore": {"suppliers": {"AU": None, "CN": 1.0}}},
        "events": {"stop": {"type": "facility_outage", "facilities": ["cn_mine"],
                            "start": date(50), "duration_days": 100}},
    })
    ts = run_replication(make_scenario(data), seed=1).timeseries
    after = ts[(ts["day"] >= 155) & (ts["day"] < 196)].groupby("demand_id")[
        ["delivered_t", "demand_t"]].sum()
    fill = after["delivered_t"] / after["demand_t"]
    assert fill["jp_use"] > 0.95
    assert fill["cn_use"] > 0.95


# -- defect 8: a stockpile's release watched the plant, not the end users -----------------------
def _reserve_for_a_plant(watch: object | None) -> dict:
    """JP makes magnets from AU ore for its magnet users (30 days of cover); a reserve of
    500 t of ore releases into the magnet plant's input; AU bans ore to JP from day 100."""
    reserve: dict = {"country": "JP", "material": "ore", "holdings_t": 500.0,
                     "release": {"trigger": "fill_rate", "threshold": 0.95,
                                 "max_release_tpy": 36500}}
    if watch is not None:
        reserve["release"]["watch"] = watch
    return deep_update(BASE, {
        "recipes": {"sintering": {"stage": "magnet", "inputs": {"ore": 1.0},
                                  "outputs": {"magnet": 1.0}}},
        "facilities": {"jp_magnets": {"country": "JP", "recipe": "sintering",
                                      "capacity_tpy": 3650, "input_cover_days": 10,
                                      "output_cover_days": 10}},
        "demand": {"jp_use": None,
                   "jp_magnet_use": {"country": "JP", "sector": "ev", "material": "magnet",
                                     "rate_tpy": 1825, "cover_days": 30}},
        "stockpiles": {"jp_ore_reserve": reserve},
        "events": {"ban": {"type": "export_control", "exporter": "AU", "materials": ["ore"],
                           "destinations": ["JP"], "mode": "ban", "effective": date(100)}},
    })


def _first_release_day(watch: object | None) -> int:
    r = run_replication(make_scenario(_reserve_for_a_plant(watch)), seed=1)
    released = r.stockpiles[r.stockpiles["released_t"] > 0]
    return int(released["day"].min())


def test_defect8_a_stockpile_can_watch_end_users() -> None:
    """``watch: buyers`` (default) releases when the plant's input runs short; ``end_users``
    and ``{demand: [...]}`` wait until the magnet users themselves run short."""
    plant = _first_release_day(None)
    assert plant == _first_release_day("buyers")
    users = _first_release_day("end_users")
    assert users == _first_release_day({"demand": ["jp_magnet_use"]})
    # the users run short only once the plant's input (10 days), its output stock (10 days)
    # and their own cover (30 days) are used up
    assert plant < 130 and users > plant + 20
    ts = run_replication(make_scenario(_reserve_for_a_plant("end_users")), seed=1).timeseries
    first_short = int(ts.loc[ts["shortfall_t"] > 1e-9, "day"].min())
    # released in the stockpile phase of the users' first short day, after they consumed
    assert users == first_short


# -- defect 6: timing depended on the step -----------------------------------------------------
def _weekly_ban(start: int):
    data = deep_update(BASE, {"simulation": {"step_days": 7}, **{"events": {"ban": {
        "type": "export_control", "exporter": "AU", "materials": ["ore"], "mode": "ban",
        "effective": date(start), "end": date(start + 60)}}}})
    return flows_by_day(run_replication(make_scenario(data), seed=1))


def test_defect6_a_ban_acts_on_its_own_day_not_the_next_step() -> None:
    """At weekly steps the week of day 98 ships the part of its order for the days before
    the ban: 2 of 7 days before a ban on day 100, 5 of 7 before one on day 103 (v1: the
    whole week's order both times, both bans acting from day 105)."""
    ban_100, ban_103 = _weekly_ban(100), _weekly_ban(103)
    assert ban_100.loc[:97].equals(ban_103.loc[:97])  # the same order on day 98...
    assert ban_103.loc[98] / ban_100.loc[98] == pytest.approx(5 / 2)  # ...cut at its day
    assert ban_100.loc[98] > 0



def test_an_event_not_yet_in_force_changes_no_demand_arithmetic() -> None:
    """Found by the causality property (tests/test_invariants.py): a substitution from day 7
    changed the weekly demand of day 0 by one ulp, because a sector with any modifier took
    another arithmetic path. A step in which no modifier is in force is computed as without."""
    one = deep_update(BASE, {"simulation": {"step_days": 7},
                             "demand": {"jp_use": {"rate_tpy": 1.0}}})
    sub = {"type": "substitution", "sector": "ev", "start": date(7), "max_share": 0.0,
           "rate_pa": 1.0}
    plain = run_replication(make_scenario(one), seed=0).timeseries
    with_sub = run_replication(make_scenario(deep_update(one, {"events": {"s": sub}})),
                               seed=0).timeseries
    assert plain["demand_t"].iloc[0] == with_sub["demand_t"].iloc[0] == 7 / 365 * 1.0
