"""Each event type's semantics pinned on tiny networks with hand-computed numbers.

Base network: a mine in AU sells ore straight to a demand sector in JP; daily steps, no
warm-up, 5-day lead time, r = 10 t/day, JP holds 10 days of cover. In steady state JP holds
10 r after consuming (its cover) and has 5 lots (5 r) in transit.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from simulator.engine import run_replication
from tests.conftest import deep_update, make_scenario

R = 10.0
D0 = dt.date(2024, 1, 1)


def date(day: int) -> str:
    return (D0 + dt.timedelta(days=day)).isoformat()


BASE = {
    "name": "events", "start_date": "2024-01-01", "end_date": "2025-01-01",
    "simulation": {"step_days": 1, "warmup_days": 0}, "stages": ["mine", "magnet"],
    "countries": {"AU": {"name": "Australia"}, "JP": {"name": "Japan"},
                  "US": {"name": "United States"}, "CN": {"name": "China"}},
    "materials": {"ore": {"elements": {"Dy": 0.05, "Nd": 0.3}}, "magnet": {}},
    "recipes": {"mining": {"stage": "mine", "outputs": {"ore": 1.0}}},
    "facilities": {"au_mine": {"country": "AU", "recipe": "mining", "capacity_tpy": 36500}},
    "demand": {"jp_use": {"country": "JP", "sector": "ev", "material": "ore",
                          "rate_tpy": 3650, "cover_days": 10}},
    "sourcing": {"jp_ore": {"country": "JP", "material": "ore", "suppliers": {"AU": 1.0}}},
    "lead_times": {"default_days": 5},
}


def run(patch: dict | None = None, **kw):
    s = make_scenario(deep_update(BASE, patch or {}), **kw)
    return run_replication(s, seed=1)


def flows_by_day(r, origin="AU", dest="JP"):
    f = r.flows[(r.flows["origin"] == origin) & (r.flows["destination"] == dest)]
    return f.groupby("day")["tonnes"].sum()


def short_days(r, demand_id="jp_use"):
    ts = r.timeseries[r.timeseries["demand_id"] == demand_id]
    return ts.loc[ts["shortfall_t"] > 1e-9, "day"].tolist()


def test_baseline_is_fully_served():
    assert short_days(run()) == []


# -- export controls -----------------------------------------------------------------------
def ban(start: int, end: int | None = None, **extra) -> dict:
    ev = {"type": "export_control", "exporter": "AU", "materials": ["ore"], "mode": "ban",
          "effective": date(start), **extra}
    if end is not None:
        ev["end"] = date(end)
    return {"events": {"ban": ev}}


def test_ban_stops_new_lots_from_its_day_and_in_transit_lots_still_arrive():
    r = run(ban(100, 200))
    flows = flows_by_day(r)
    assert flows.index[flows.index < 100].max() == 99
    assert not any(100 <= d < 200 for d in flows.index)
    assert flows.index[flows.index >= 200].min() == 200
    # In-transit lots (5 r) plus 10 r on hand carry JP to day 114; short from 115 to the
    # day before the first post-ban lot lands (shipped day 200, lead 5).
    days = short_days(r)
    assert days == list(range(115, 205))
    assert r.timeseries["shortfall_t"].sum() == pytest.approx(90 * R)


def test_ban_on_other_destination_does_not_touch_this_lane():
    r = run(ban(100, destinations=["US"]))
    assert short_days(r) == []


def test_quota_delivers_exactly_its_tonnage():
    r = run(ban(100, mode="quota", quota_tpy=1825.0))  # 5 t/day, half of demand
    flows = flows_by_day(r)
    assert flows[flows.index >= 100].sum() == pytest.approx(5.0 * (366 - 100))
    assert flows.loc[200] == pytest.approx(5.0)


def test_licence_delay_shifts_deliveries_by_the_delay():
    lic = {"approval_probability": 1.0, "delay_days": 20}
    r = run(ban(100, mode="licence", licence=lic))
    flows = flows_by_day(r)
    assert not any(100 <= d < 120 for d in flows.index)
    # On day 100 the buyer also orders 20 days' more cover to plan for the processing time.
    assert flows.loc[120] == pytest.approx(R + 20 * R)  # the lot allocated on day 100
    assert flows.loc[150] == pytest.approx(R)
    # Nothing lands from day 105 (last pre-control lot) to 124; 10 days on hand last to 114.
    assert short_days(r) == list(range(115, 125))


def test_denied_licences_return_stock_and_nothing_ships():
    lic = {"approval_probability": 0.0, "delay_days": 3}
    r = run(ban(100, mode="licence", licence=lic))
    assert flows_by_day(r).index.max() == 99
    assert r.balance["ok"].all()


def test_licence_terms_by_destination():
    lic = {"approval_probability": 1.0, "delay_days": 20,
           "by_destination": {"JP": {"delay_days": 40}}}
    flows = flows_by_day(run(ban(100, mode="licence", licence=lic)))
    assert not any(100 <= d < 140 for d in flows.index)
    assert 140 in flows.index


def test_announcement_triggers_prebuying_then_ban():
    r = run(ban(90, announced=date(60), prebuy_cover_days=30))
    flows = flows_by_day(r)
    window = flows[(flows.index >= 60) & (flows.index < 90)].sum()
    assert window == pytest.approx(30 * R + 30 * R)  # normal flow plus 30 days pre-bought
    assert short_days(r)[0] == 115 - 10 + 30  # ban at 90: 25 days later, plus 30 pre-bought


def test_extraterritorial_rule_controls_reexports_with_exporter_content():
    """CN ore -> JP magnet plant -> US demand: CN bans Dy to the US; JP magnets contain
    CN-origin Dy, so with the extraterritorial rule JP -> US magnet lots stop too."""
    chain = deep_update(BASE, {
        "recipes": {"magnet_making": {"stage": "magnet", "inputs": {"ore": 1.0},
                                      "outputs": {"magnet": 1.0}}},
        "materials": {"magnet": {"elements": {"Dy": 0.03}}},
        "facilities": {"au_mine": None,
                       "cn_mine": {"country": "CN", "recipe": "mining", "capacity_tpy": 36500},
                       "jp_magnets": {"country": "JP", "recipe": "magnet_making",
                                      "capacity_tpy": 36500}},
        "demand": {"jp_use": None,
                   "us_use": {"country": "US", "sector": "defense", "material": "magnet",
                              "rate_tpy": 3650, "cover_days": 10}},
        "sourcing": {"jp_ore": {"suppliers": {"AU": None, "CN": 1.0}},
                     "us_magnet": {"country": "US", "material": "magnet",
                                   "suppliers": {"JP": 1.0}}},
    })
    control = {"type": "export_control", "exporter": "CN", "elements": ["Dy"],
               "destinations": ["US"], "mode": "ban", "effective": date(100)}
    plain = run_replication(make_scenario(deep_update(chain, {"events": {"c": control}})))
    assert short_days(plain, "us_use") == []
    extra = deep_update(control, {"extraterritorial": {"min_content": 0.001}})
    ruled = run_replication(make_scenario(deep_update(chain, {"events": {"c": extra}})))
    assert flows_by_day(ruled, "JP", "US").index.max() == 99
    assert short_days(ruled, "us_use")[0] == 115


# -- outages ---------------------------------------------------------------------------------
def test_scheduled_outage_removes_capacity_for_its_duration():
    out = {"type": "facility_outage", "facilities": ["au_mine"], "start": date(100),
           "duration_days": 50, "capacity_lost": 1.0}
    r = run({"events": {"o": out}})
    prod = r.production.groupby("day")["tonnes"].sum()
    assert not any(100 <= d < 150 for d in prod.index)
    assert 150 in prod.index and 99 in prod.index


def test_partial_outage_with_ramp_caps_production():
    out = {"type": "facility_outage", "country": "AU", "stage": "mine", "start": date(100),
           "capacity_lost": 0.9, "ramp_days": 9}
    r = run({"facilities": {"au_mine": {"capacity_tpy": 3650}}, "events": {"o": out}})
    prod = r.production.groupby("day")["tonnes"].sum()
    assert prod.loc[300] == pytest.approx(1.0)  # 10 t/day capacity, 90% lost
    assert prod.loc[104] == pytest.approx(10.0 * (1 - 0.9 * 5 / 10))


def test_random_outages_give_markov_availability():
    """Always-wanted capacity: the share of days up is E[up] / (E[up] + E[down]) with
    whole-day exponential times, E[ceil(Exp(m))] = 1 / (1 - exp(-1/m))."""
    out = {"type": "facility_outage", "facilities": ["au_mine"],
           "random": {"failures_per_year": 12, "mean_repair_days": 10}}
    r = run({"end_date": "2054-01-01",
             "facilities": {"au_mine": {"capacity_tpy": 1825}},  # demand is twice this
             "events": {"o": out}})
    days = r.timeseries["day"].nunique()
    up_share = r.production["tonnes"].sum() / (5.0 * days)
    up = 1 / (1 - math.exp(-12 / 365))
    down = 1 / (1 - math.exp(-1 / 10))
    assert up_share == pytest.approx(up / (up + down), abs=0.01)


# -- demand ------------------------------------------------------------------------------------
def test_demand_shock_multiplies_demand_with_ramp():
    shock = {"type": "demand_shock", "sector": "ev", "multiplier": 2.0, "start": date(100),
             "end": date(200), "ramp_days": 9}
    ts = run({"events": {"s": shock}}).timeseries.set_index("day")["demand_t"]
    assert ts.loc[99] == pytest.approx(R)
    assert ts.loc[104] == pytest.approx(R * 1.5)
    assert ts.loc[150] == pytest.approx(2 * R)
    assert ts.loc[200] == pytest.approx(R)


def test_substitution_moves_demand_away_at_its_rate():
    sub = {"type": "substitution", "material": "ore", "start": date(0), "delay_days": 100,
           "max_share": 0.2, "rate_pa": 0.365}
    ts = run({"events": {"s": sub}}).timeseries.set_index("day")["demand_t"]
    assert ts.loc[100] == pytest.approx(R)
    assert ts.loc[150] == pytest.approx(R * (1 - 0.05))
    assert ts.loc[365] == pytest.approx(R * 0.8)


# -- logistics and tariffs ---------------------------------------------------------------------
def test_logistics_delay_lengthens_lead_time_of_lots_shipped_in_window():
    dis = {"type": "logistics_disruption", "origin": "AU", "start": date(100),
           "end": date(130), "extra_days": 10}
    r = run({"events": {"d": dis}})
    # lots shipped 100..129 take 15 days: nothing lands on days 105..114
    assert short_days(r) == []  # 10 days on hand cover the 10-day gap
    r2 = run({"demand": {"jp_use": {"cover_days": 0}}, "events": {"d": dis}})
    assert [d for d in short_days(r2) if d >= 50] == list(range(105, 115))


def test_logistics_capacity_caps_route():
    dis = {"type": "logistics_disruption", "destination": "JP", "start": date(100),
           "capacity_tpy": 1825}
    flows = flows_by_day(run({"events": {"d": dis}}))
    assert flows[flows.index >= 100].max() == pytest.approx(5.0)
    assert flows.loc[250] == pytest.approx(5.0)


def two_suppliers(extra: dict) -> dict:
    return deep_update({
        "facilities": {"us_mine": {"country": "US", "recipe": "mining", "capacity_tpy": 36500}},
        "sourcing": {"jp_ore": {"suppliers": {"AU": 0.5, "US": 0.5}}},
    }, extra)


def test_tariff_moves_share_by_elasticity_and_prohibitive_rate_stops_route():
    tariff = {"type": "tariff", "importers": ["JP"], "exporters": ["US"], "rate": 0.5,
              "start": date(100)}
    r = run(two_suppliers({"events": {"t": tariff}}))
    au, us = flows_by_day(r, "AU").loc[200], flows_by_day(r, "US").loc[200]
    assert us / (au + us) == pytest.approx(1 / 3)  # weights 0.5 * 0.5 vs 0.5
    stop = deep_update(tariff, {"rate": 1.25})
    flows = flows_by_day(run(two_suppliers({"events": {"t": stop}})), "US")
    assert flows.index.max() == 99


# -- supplier switching -------------------------------------------------------------------------
def test_switching_to_alternative_after_qualification():
    alt = two_suppliers({"sourcing": {"jp_ore": {"suppliers": {"AU": 1.0, "US": None},
                                                 "alternatives": {"US": 30}}}})
    r = run(deep_update(alt, ban(100)))
    first_us = flows_by_day(r, "US").index.min()
    assert first_us == 100 + 30  # AU first refuses an order on day 100; qualification 30 days
    days = short_days(r)
    assert days[0] == 115 and days[-1] < 200
    assert r.timeseries.set_index("day").loc[300, "shortfall_t"] == 0.0


def test_without_switching_short_buyers_still_order_more_from_every_supplier():
    """Fixed shares: half of each order goes to banned AU and is refused, so the buyer's
    orders grow until US's half covers its use: US ships R a day, AU none."""
    both = two_suppliers({"switching": {"enabled": False}})
    r = run(deep_update(both, ban(100)))
    assert flows_by_day(r, "US").loc[300] == pytest.approx(R)
    assert flows_by_day(r, "AU").index.max() == 99
    assert [d for d in short_days(r) if d > 250] == []


def test_without_alternatives_nor_other_suppliers_nothing_recovers():
    r = run(deep_update(ban(100), {"switching": {"enabled": False}}))
    assert short_days(r)[-1] == 365


# -- agreements and stockpiles -------------------------------------------------------------------
def test_agreement_tier_serves_members_first():
    short = deep_update(BASE, {
        "facilities": {"au_mine": {"capacity_tpy": 3650, "output_cover_days": 0}},
        "demand": {"us_use": {"country": "US", "sector": "defense", "material": "ore",
                              "rate_tpy": 3650, "cover_days": 0}},
        "sourcing": {"us_ore": {"country": "US", "material": "ore", "suppliers": {"AU": 1.0}}},
        "allocation": {"rule": ["agreement"]},
        "events": {"aukus": {"type": "cooperation_agreement", "members": ["AU", "US"],
                             "signed": date(100)}},
    })
    ts = run_replication(make_scenario(short)).timeseries
    late = ts[ts["day"] >= 150].groupby("demand_id")["delivered_t"].sum()
    assert late["us_use"] == pytest.approx(R * (366 - 150))
    assert late["jp_use"] == pytest.approx(0.0, abs=1e-6)


def test_agreement_builds_plant_and_shifts_preferred_share():
    deal = {"type": "cooperation_agreement", "members": ["US", "JP"], "signed": date(10),
            "facilities": {"us_new_mine": {"country": "US", "recipe": "mining",
                                           "capacity_tpy": 36500, "investment_decision":
                                           date(20), "construction_days": 60,
                                           "ramp_up_days": 0}},
            "preferred_sourcing": {"share": 0.4, "qualification_days": 150}}
    r = run({"events": {"deal": deal}})
    prod = r.production[r.production["facility"] == "us_new_mine"]
    assert prod["day"].min() >= 80
    us = flows_by_day(r, "US")
    assert us.index.min() >= 160
    au = flows_by_day(r, "AU")
    assert us.loc[300] / (us.loc[300] + au.loc[300]) == pytest.approx(0.4)
    assert short_days(r) == []


def stockpile(**release) -> dict:
    return {"stockpiles": {"jp_reserve": {
        "country": "JP", "material": "ore", "holdings_t": 200.0,
        "release": {"trigger": "fill_rate", "threshold": 0.999,
                    "max_release_tpy": 36500, **release}}}}


def test_stockpile_release_delays_first_shortfall_by_its_cover():
    r = run(deep_update(ban(100, 200), stockpile()))
    days = short_days(r)
    # 200 t = 20 days of use. Release starts after the first short day, refilling cover.
    assert days[0] == 115
    total = r.timeseries["shortfall_t"].sum()
    assert total == pytest.approx(90 * R - 200.0)


def test_stockpile_policy_buys_into_reserve():
    policy = {"type": "stockpile_policy", "stockpile": "jp_reserve", "start": date(50),
              "buy_tpy": 365, "target_t": 300}
    r = run(deep_update(stockpile(), {"events": {"p": policy}}))
    held = r.timeseries.set_index("day")["stockpile_t"]
    assert held.loc[49] == pytest.approx(200.0)
    assert held.loc[120] > 250.0
    assert held.loc[365] == pytest.approx(300.0)
    table = r.stockpiles.set_index("day")
    assert table["released_t"].sum() == 0.0
    assert table["bought_t"].sum() == pytest.approx(100.0)
    assert table["holdings_t"].loc[365] == pytest.approx(300.0)


def test_stockpile_table_records_holdings_and_releases_per_step():
    """200 t released at most 5 t/day from the first short day (115, see the ban test):
    5 t a day on days 115-154, then empty; nothing bought (no refill)."""
    r = run(deep_update(ban(100, 200), stockpile(max_release_tpy=1825)))
    table = r.stockpiles
    assert list(table.columns) == ["day", "stockpile", "country", "material", "holdings_t",
                                   "released_t", "bought_t"]
    assert table["day"].tolist() == list(range(366))
    assert set(table["stockpile"]) == {"jp_reserve"}
    assert set(table["country"]) == {"JP"} and set(table["material"]) == {"ore"}
    days = table["day"].to_numpy()
    held = [200.0 if d < 115 else max(0.0, 200.0 - 5.0 * (d - 114)) for d in days]
    released = [5.0 if 115 <= d <= 154 else 0.0 for d in days]
    assert table["holdings_t"].tolist() == held
    assert table["released_t"].tolist() == released
    assert (table["bought_t"] == 0.0).all()
    assert r.timeseries["shortfall_t"].sum() == pytest.approx(90 * R - 200.0)


def test_no_stockpiles_no_rows():
    table = run().stockpiles
    assert len(table) == 0
    assert list(table.columns) == ["day", "stockpile", "country", "material", "holdings_t",
                                   "released_t", "bought_t"]


def test_prebuying_goes_to_the_controlled_supplier_only():
    both = two_suppliers({})
    r = run(deep_update(both, ban(90, announced=date(60), prebuy_cover_days=30)))
    au, us = flows_by_day(r, "AU"), flows_by_day(r, "US")
    window = lambda f: f[(f.index >= 60) & (f.index < 90)].sum()  # noqa: E731
    assert window(au) == pytest.approx(30 * R / 2 + 30 * R / 2)  # normal half + pre-buy
    assert window(us) == pytest.approx(30 * R / 2)


def test_licences_pending_when_a_ban_starts_are_denied():
    lic = {"approval_probability": 1.0, "delay_days": 30}
    events = {"events": {
        "lic": {"type": "export_control", "exporter": "AU", "materials": ["ore"],
                "mode": "licence", "licence": lic, "effective": date(100)},
        "ban": {"type": "export_control", "exporter": "AU", "materials": ["ore"],
                "mode": "ban", "effective": date(110)},
    }}
    r = run(events)
    assert flows_by_day(r).index.max() == 99
    assert r.balance["ok"].all()


def test_a_supplier_whose_licences_are_approved_is_not_seen_as_failing():
    lic = {"approval_probability": 1.0, "delay_days": 20}
    r = run(deep_update(two_suppliers({}), ban(100, mode="licence", licence=lic)))
    au, us = flows_by_day(r, "AU"), flows_by_day(r, "US")
    assert au.loc[250] == pytest.approx(us.loc[250])
    assert [d for d in short_days(r) if d > 200] == []


def test_overlapping_licences_the_newer_regime_decides_and_is_the_one_planned_for():
    """A 5-day regime from day 150 over a 20-day one from day 100 (declared after it, so
    neither declaration order nor mode picks it): lots follow the newer terms, and buyers plan
    for 5 days of processing, not 25, so from then on the world is the one a lone 5-day
    regime gives."""
    def lic(days: int, start: int) -> dict:
        return {"type": "export_control", "exporter": "AU", "materials": ["ore"],
                "mode": "licence", "effective": date(start),
                "licence": {"approval_probability": 1.0, "delay_days": days}}

    both = run({"events": {"quick": lic(5, 150), "slow": lic(20, 100)}})
    alone = run({"events": {"quick": lic(5, 100)}})
    flows = flows_by_day(both)
    # a lot allocated on day 160 (under both regimes) ships 5 days later
    assert flows.loc[165] == pytest.approx(R)
    late = both.timeseries["day"] >= 250
    inv = both.timeseries.loc[late, "inventory_t"].to_numpy()
    ref = alone.timeseries.loc[alone.timeseries["day"] >= 250, "inventory_t"].to_numpy()
    assert inv == pytest.approx(ref)  # the buyer holds what a 5-day plan needs, not 25 days
    assert [d for d in short_days(both) if d >= 250] == []


def test_a_plant_that_starts_later_brings_no_starting_stock():
    """Pools start with the output cover of the plants running at the start of the warm-up
    only: a second mine starting mid-horizon adds nothing to the starting stock, so the
    material on hand at the start is the same with or without it."""
    from simulator.engine.builder import build_network

    later = {"facilities": {"au_mine_2": {"country": "AU", "recipe": "mining",
                                          "capacity_tpy": 36500, "start_date": date(200),
                                          "output_cover_days": 30}},
             "simulation": {"warmup_days": 14}}
    one = build_network(make_scenario(deep_update(BASE, {"simulation": {"warmup_days": 14}})))
    two = build_network(make_scenario(deep_update(BASE, later)))
    pool_one, pool_two = one.pools[("AU", "ore")], two.pools[("AU", "ore")]
    assert pool_two.stock == pool_one.stock > 0
    # nor to the pool's target or capacity until it exists (issue 11, defect 2)...
    assert pool_two.target_t == pool_one.target_t
    assert pool_two.capacity_tpd == pool_one.capacity_tpd
    # ...from its start day the pool plans for it
    from simulator.engine.builder import commission

    commission(next(f for f in two.facilities if f.fid == "au_mine_2"))
    assert pool_two.target_t == pytest.approx(pool_one.target_t + 100.0 * (30 + 1))
    assert pool_two.capacity_tpd == pytest.approx(pool_one.capacity_tpd + 100.0)


def _shared_reserve(sectors: list[str] | None, agreement_end: int | None = None) -> dict:
    reserve = {"country": "US", "material": "ore", "holdings_t": 200.0,
               "release": {"trigger": "fill_rate", "threshold": 0.999,
                           "max_release_tpy": 36500}}
    if sectors is not None:
        reserve["sectors"] = sectors
    deal = {"type": "cooperation_agreement", "members": ["US", "JP"], "signed": date(10),
            "shared_stockpiles": True}
    if agreement_end is not None:
        deal["end"] = date(agreement_end)
    return deep_update(ban(100, 200, destinations=["JP"]), {
        "demand": {"us_def": {"country": "US", "sector": "defense", "material": "ore",
                              "rate_tpy": 365, "cover_days": 10}},
        "sourcing": {"us_ore": {"country": "US", "material": "ore", "suppliers": {"AU": 1.0}}},
        "stockpiles": {"us_reserve": reserve},
        "events": {"deal": deal}})


@pytest.mark.parametrize(("sectors", "end", "drawn_t"), [
    (None, None, 200.0),        # shared with every JP buyer of ore: 20 days of JP's use
    (["defense"], None, 0.0),   # a defense reserve stays with defense users, even shared
    (["ev"], None, 200.0),      # ... and an EV reserve serves the partner's EV makers
    (None, 50, 0.0),            # sharing ends with the agreement
])
def test_shared_stockpile_respects_its_sectors_and_the_agreement_end(sectors, end, drawn_t):
    r = run(_shared_reserve(sectors, end))
    jp = r.timeseries[r.timeseries["demand_id"] == "jp_use"]
    assert jp["shortfall_t"].sum() == pytest.approx(90 * R - drawn_t)


@pytest.mark.parametrize("probability", [1.0, 0.0])
def test_sourcing_may_name_a_country_whose_only_producer_an_agreement_builds(probability):
    """JP sources half its ore from a US mine the agreement builds (from day 80): until it
    runs, and if the agreement never happens, AU serves it all and nobody runs short."""
    deal = {"type": "cooperation_agreement", "members": ["US", "JP"], "signed": date(10),
            "probability": probability,
            "facilities": {"us_new_mine": {"country": "US", "recipe": "mining",
                                           "capacity_tpy": 36500, "investment_decision":
                                           date(20), "construction_days": 60}}}
    r = run({"events": {"deal": deal},
             "sourcing": {"jp_ore": {"suppliers": {"AU": 0.5, "US": 0.5}}}})
    us = flows_by_day(r, "US")
    assert short_days(r) == [] and r.balance["ok"].all()
    if probability:
        assert us.index.min() >= 80 and us.loc[300] == pytest.approx(R / 2, rel=0.05)
    else:
        assert us.empty


def test_licence_draws_of_a_lane_do_not_depend_on_other_lanes():
    """Common random numbers per lane: a coin-flip licence on AU's ore gives Japan the same
    approvals, delays and flows whether or not a US buyer also applies for licences."""
    lic = {"approval_probability": 0.5, "delay_days": 5, "delay_jitter_days": 10}
    alone = run(ban(100, mode="licence", licence=lic))
    us = {"demand": {"us_use": {"country": "US", "sector": "ev", "material": "ore",
                                "rate_tpy": 3650, "cover_days": 10}},
          "sourcing": {"us_ore": {"country": "US", "material": "ore", "suppliers": {"AU": 1.0}}}}
    shared = run(deep_update(us, ban(100, mode="licence", licence=lic)))
    assert not flows_by_day(shared, "AU", "US").empty
    a, b = flows_by_day(alone), flows_by_day(shared)
    assert a.index.tolist() == b.index.tolist()
    assert a.to_numpy() == pytest.approx(b.to_numpy())


def test_reserve_purchases_come_after_every_commercial_buyer_even_a_partners():
    """Under rule [agreement], Australia's US partner is served first, but not the US
    reserve's refill purchases: a Japanese firm (no agreement) is served before them."""
    short = deep_update(BASE, {
        "facilities": {"au_mine": {"capacity_tpy": 3650, "output_cover_days": 0}},
        "sourcing": {"us_ore": {"country": "US", "material": "ore", "suppliers": {"AU": 1.0}}},
        "stockpiles": {"us_reserve": {"country": "US", "material": "ore", "holdings_t": 0.0,
                                      "target_t": 5000.0, "refill_tpy": 36500,
                                      "release": {"trigger": "fill_rate", "threshold": 0.5,
                                                  "max_release_tpy": 0}}},
        "allocation": {"rule": ["agreement"]},
        "events": {"aukus": {"type": "cooperation_agreement", "members": ["AU", "US"],
                             "signed": date(100)}},
    })
    r = run_replication(make_scenario(short))
    late = r.timeseries[r.timeseries["day"] >= 150]
    assert late.loc[late["demand_id"] == "jp_use", "shortfall_t"].sum() == pytest.approx(0.0)
    to_us = flows_by_day(r, "AU", "US")
    assert to_us[to_us.index >= 150].sum() == pytest.approx(0.0, abs=1e-6)  # nothing left
