"""Engine invariants as properties over random networks WITH random events.

Scenarios come from :mod:`tests.strategies` (random ore -> oxide -> magnet networks and random
events of every type). Each property compares runs of the same seed and replication:

- causality: adding something that starts on day T changes no output row of a step that
  ends on or before T (a row on ``day`` covers ``[day, day + step_days)``);
- paired randomness: adding an event never shifts the draws of a stream it does not own;
- policy monotonicity and the exact route effects of bans, quotas, zero-capacity logistics
  disruptions and prohibitive tariffs;
- mass balance and determinism.

Failures print the scenario (JSON, via ``note``) and the day or route that broke; the
hand-written regression tests at the end are minimal reproductions of what they found.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, currently_in_test_context, given, note, settings
from hypothesis import strategies as st

from simulator.analysis.tiers import country_prices
from simulator.engine import run_replication
from tests.conftest import deep_update, make_scenario
from tests.strategies import (
    CHAIN,
    CODES,
    EVENT_TYPES,
    date,
    day_of,
    dump,
    event_data,
    export_control,
    first_day,
    future_facility,
    horizon,
    logistics_disruption,
    producers,
    scenario_data,
    scenario_of,
    with_events,
    with_lane_days_events,
)

FRAMES = ("timeseries", "flows", "production", "stockpiles")
HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]


def props(n: int) -> settings:
    return settings(max_examples=n, deadline=None, derandomize=False,
                    suppress_health_check=HEALTH)


THOROUGH = 8
"""The ``_thorough`` variant of each property (marked ``thorough``, outside ``make test``)
runs this many times its examples."""


def invariant(n: int, *strategies):
    """A property with ``n`` examples (in ``make test``), and a ``thorough`` variant with
    more, outside the default run (``pytest -m thorough``: a few minutes on 2 cores)."""
    def deco(fn):
        fast = props(n)(given(*strategies)(fn))
        fast.thorough = pytest.mark.thorough(props(n * THOROUGH)(given(*strategies)(fn)))
        return fast
    return deco


seeds = st.integers(0, 2**32 - 1)
replications = st.integers(0, 3)


# -- helpers -------------------------------------------------------------------------------------
def run(data: dict, seed: int = 0, replication: int = 0):
    return run_replication(scenario_of(data), seed=seed, replication=replication)


def run_valid(data: dict, seed: int = 0, replication: int = 0):
    """Run a hand-written scenario (the test fails if it is not valid)."""
    return run_replication(make_scenario(data), seed=seed, replication=replication)


def plain(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with categorical columns as plain strings and a fresh index (categories differ
    between runs whose networks differ)."""
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(str)
    return out.reset_index(drop=True)


def values(col: pd.Series) -> np.ndarray:
    return col.to_numpy(dtype=object) if isinstance(col.dtype, pd.CategoricalDtype) \
        else col.to_numpy()


def same_rows(x: pd.DataFrame, y: pd.DataFrame) -> bool:
    """Whether two frames hold the same values (labels as strings, floats bit for bit)."""
    return len(x) == len(y) and all(np.array_equal(values(x[c]), values(y[c]))
                                    for c in x.columns)


def assert_prices_same_before(a, b, t: int, step: int, data_a: dict, data_b: dict) -> None:
    """Every price any country's buyers see before ``t`` is bit-identical (per country, not
    per tier: a control of some destinations that starts later gives their countries a tier
    of their own from the start, at the same price until it is in force)."""
    keys = ["day", "material", "market", "price_usd_per_kg"]
    pa, pb = (country_prices(r.prices[r.prices["day"] + step <= t][keys], scenario_of(d))
              for r, d in ((a, data_a), (b, data_b)))
    pd.testing.assert_frame_equal(pa, pb, check_exact=True, obj=f"prices before day {t}")


def assert_same_before(a, b, t: int, step: int) -> None:
    for name in FRAMES:
        fa, fb = getattr(a, name), getattr(b, name)
        xa, xb = fa[fa["day"] + step <= t], fb[fb["day"] + step <= t]
        if same_rows(xa, xb):
            continue
        x, y = plain(xa), plain(xb)
        msg = f"{name} differs before day {t}:\n{first_difference(x, y)}"
        if currently_in_test_context():
            note(msg)
        pd.testing.assert_frame_equal(x, y, check_exact=True, obj=msg)


def first_difference(x: pd.DataFrame, y: pd.DataFrame) -> str:
    n = min(len(x), len(y))
    for i in range(n):
        if not x.iloc[i].equals(y.iloc[i]):
            return f"row {i}:\n{x.iloc[i].to_dict()}\n{y.iloc[i].to_dict()}"
    return f"lengths {len(x)} vs {len(y)}"


def flows(r) -> pd.DataFrame:
    return plain(r.flows)


def route_tonnes(r, routes: set[tuple[str, str, str]], lo: int | None = None,
                 hi: int | None = None) -> float:
    """Tonnes shipped on ``routes`` (origin, destination, material), days in [lo, hi)."""
    f = flows(r)
    if f.empty:
        return 0.0
    keys = list(zip(f["origin"], f["destination"], f["material"], strict=True))
    mask = np.array([k in routes for k in keys], dtype=bool)
    if lo is not None:
        mask &= (f["day"] >= lo).to_numpy()
    if hi is not None:
        mask &= (f["day"] < hi).to_numpy()
    return float(f.loc[mask, "tonnes"].sum())


def ec_destinations(ev: dict) -> set[str]:
    d = ev.get("destinations", "all")
    if d == "all":
        out = set(CODES)
    elif isinstance(d, dict):
        out = set(CODES) - set(d["all_except"])
    else:
        out = set(d)
    return out - {ev["exporter"]}


def ec_materials(ev: dict, data: dict) -> set[str]:
    out = set(ev.get("materials", []))
    for mid, mat in data["materials"].items():
        if any(mat.get("elements", {}).get(e, 0) > 0 for e in ev.get("elements", [])):
            out.add(mid)
    return out


def ec_routes(ev: dict, data: dict) -> set[tuple[str, str, str]]:
    """The direct routes an export control covers."""
    return {(ev["exporter"], d, m) for d in ec_destinations(ev) for m in ec_materials(ev, data)}


def end_day(ev: dict, default: int) -> int:
    return day_of(ev["end"]) if ev.get("end") else default


def certain(ev: dict) -> bool:
    return ev.get("probability", 1.0) >= 1.0


def without(data: dict, pred) -> dict:
    """A copy of ``data`` without the events for which ``pred(event)`` is true."""
    out = copy.deepcopy(data)
    out["events"] = {k: v for k, v in out["events"].items() if not pred(v)}
    return out


def is_licence(ev: dict) -> bool:
    return ev["type"] == "export_control" and ev["mode"] == "licence"


# -- mass balance and determinism -------------------------------------------------------------
@invariant(60, scenario_data(max_events=5), seeds, replications)
def test_mass_balance_and_sane_stocks_with_events(data, seed, rep):
    note(dump(data))
    r = run(data, seed, rep)  # raises MassBalanceError if the ledger does not close
    assert r.balance["ok"].all()
    for col in ("pools_t", "inventories_t", "in_transit_t", "stockpile_t", "licence_queue_t"):
        assert (r.balance[col] >= -1e-6).all(), col
    ts = r.timeseries
    assert (ts["inventory_t"] >= 0.0).all()  # exactly: a stock never goes below zero
    assert (ts["delivered_t"] >= 0.0).all()  # (rounding once gave -1e-17 t and fill rates)
    assert (ts["shortfall_t"] >= -1e-9).all()
    assert (ts["delivered_t"] <= ts["demand_t"] + 1e-9).all()
    assert (r.flows["tonnes"] > 0).all()
    assert (r.production["tonnes"] > 0).all()
    sp = r.stockpiles
    assert (sp["holdings_t"] >= -1e-9).all()


@invariant(25, scenario_data(max_events=5), seeds, replications)
def test_same_inputs_same_outputs_with_events(data, seed, rep):
    note(dump(data))
    s = scenario_of(data)
    a, b = run_replication(s, seed, rep), run_replication(s, seed, rep)
    for name in (*FRAMES, "balance"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.event_count == b.event_count


def _memo_changes_nothing(data: dict, seed: int, rep: int) -> None:
    from simulator.engine.network import Buyer

    note(dump(data))
    s = scenario_of(data)
    memo = run_replication(s, seed, rep)
    with pytest.MonkeyPatch.context() as m:  # the class property hides the instance field
        m.setattr(Buyer, "lead", property(lambda self: None, lambda self, value: None),
                  raising=False)
        fresh = run_replication(s, seed, rep)
    for name in (*FRAMES, "balance"):
        pd.testing.assert_frame_equal(getattr(memo, name), getattr(fresh, name),
                                      check_exact=True)


@invariant(20, scenario_data(max_events=5), seeds, replications)
def test_the_buyers_lead_time_memo_changes_nothing(data, seed, rep):
    """Buyers keep their planned lead time between steps (``Buyer.lead``) until their shares
    or a lane's days change (``stale_lead``). With the memo off (recomputed at every order),
    every output is the same: code that changes a lane's days without ``stale_lead`` fails
    here, with the events that change them drawn at random."""
    _memo_changes_nothing(data, seed, rep)


@invariant(30, with_lane_days_events(), seeds, replications)
def test_the_buyers_lead_time_memo_follows_lanes_whose_days_change(data, seed, rep):
    """As above, each example with a shipping delay or an announced licence with pre-buying
    on an import route that carries material, mostly without switching (a re-share
    recomputes the lead and hides a stale one). Random events alone rarely reach this:
    with the ``stale_lead`` calls of logistics.py removed, 160 examples of the property
    above passed; of these examples 3 in 40 differ, but three runs of this test's 30 passed
    too; the next test reaches the case every time."""
    _memo_changes_nothing(data, seed, rep)


@st.composite
def delays_on_a_buyers_lane(draw: st.DrawFn) -> dict:
    """The two-country network of test_events (JP buys ore from AU, 5-day lanes), at a
    random step, cover and horizon, with one to three events that change the days of the
    buyer's lane while it orders: shipping delays that start and end inside the run, or an
    announced licence regime with pre-buying that may end."""
    from tests.test_events import BASE
    from tests.test_events import date as day_date

    step = draw(st.sampled_from([1, 1, 7, 14]))
    data = deep_update(BASE, {
        "simulation": {"step_days": step},
        "demand": {"jp_use": {"cover_days": draw(st.integers(3, 40))}},
        "lead_times": {"default_days": draw(st.integers(1, 20))}})
    events = {}
    for i in range(draw(st.integers(1, 3))):
        start = draw(st.integers(1, 250))
        if draw(st.booleans()):
            events[f"delay{i}"] = {
                "type": "logistics_disruption", "origin": "AU", "destination": "JP",
                "materials": ["ore"], "start": day_date(start),
                "end": day_date(start + draw(st.integers(step + 1, 100))),
                "extra_days": draw(st.integers(2, 40))}
        else:
            effective = start + draw(st.integers(1, 40))
            ev = {"type": "export_control", "exporter": "AU", "mode": "licence",
                  "materials": ["ore"], "destinations": ["JP"], "announced": day_date(start),
                  "effective": day_date(effective),
                  "prebuy_cover_days": draw(st.integers(1, 60)),
                  "licence": {"approval_probability": 1.0,
                              "delay_days": draw(st.integers(1, 45))}}
            if draw(st.booleans()):
                ev["end"] = day_date(effective + draw(st.integers(step + 1, 90)))
            events[f"licence{i}"] = ev
    data["events"] = events
    return data


@invariant(25, delays_on_a_buyers_lane(), seeds)
def test_the_lead_time_memo_follows_delays_on_a_buyers_only_lane(data, seed):
    """The case the random networks rarely reach, every time: the buyer's only lane gets
    longer and shorter while it orders (with the ``stale_lead`` calls of logistics.py and
    export_control.py replaced by no-ops, 24 of 25 examples differ; with only
    logistics.py's, 14 of 25 (random draws: 11); only export_control.py's, 12 (random: 9))."""
    _memo_changes_nothing(data, seed, 0)


@pytest.mark.parametrize("name", ["china_controls_2025_04", "us_japan_framework"])
def test_the_buyers_lead_time_memo_changes_nothing_on_shipped_scenarios(name):
    """As above on shipped scenarios whose licences and pre-buying change lanes' days (the
    random networks have not found a missing ``stale_lead`` there: removing the calls in
    export_control.py and logistics.py passed 160 random examples but changes these)."""
    from simulator.engine.network import Buyer
    from simulator.scenario import load_scenario

    s = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / f"{name}.yaml")
    memo = run_replication(s, 3, 0)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(Buyer, "lead", property(lambda self: None, lambda self, value: None),
                  raising=False)
        fresh = run_replication(s, 3, 0)
    for frame in (*FRAMES, "balance"):
        pd.testing.assert_frame_equal(getattr(memo, frame), getattr(fresh, frame),
                                      check_exact=True)


# -- causality -----------------------------------------------------------------------------------
@st.composite
def with_added_event(draw: st.DrawFn, kinds: list[str] = EVENT_TYPES, plants: bool = False):
    """A random scenario and an event of one of ``kinds`` that starts on day t; agreements
    build plants only if ``plants`` (a plant is tested on its own below)."""
    data = draw(scenario_data(max_events=3))
    kind = draw(st.sampled_from([k for k in kinds
                                 if k != "stockpile_policy" or data["stockpiles"]]))
    t = draw(st.integers(1, horizon(data) - 1))
    kw = {"facilities": plants} if kind == "cooperation_agreement" else {}
    ev = draw(event_data(data, kind, at=t, eid="added", **kw))
    assert first_day(ev) == t
    return data, ev, t


@invariant(60, with_added_event(), seeds, replications)
def test_causality_adding_an_event_changes_nothing_before_it_starts(case, seed, rep):
    data, ev, t = case
    note(f"base: {dump(data)}\nadded (first day {t}): {dump(ev)}")
    extended = with_events(data, added=ev)
    assert_same_before(run(data, seed, rep), run(extended, seed, rep), t,
                       data["simulation"]["step_days"])


@invariant(25, with_added_event(["cooperation_agreement"], plants=True), seeds, replications)
def test_causality_an_agreement_and_its_plants_change_nothing_before_signing(case, seed, rep):
    data, ev, t = case
    note(f"base: {dump(data)}\nadded (signed day {t}): {dump(ev)}")
    assert_same_before(run(data, seed, rep), run(with_events(data, added=ev), seed, rep), t,
                       data["simulation"]["step_days"])


def test_regression_an_offtake_not_yet_in_force_changes_nothing_before_it():
    """Found by the thorough causality property (weekly steps, domestic lanes with no lead
    time). US oxide sold out each week to the last bit, leaving its pool at -8.9e-16 t by
    rounding; the plain rule then rationed that negative stock as negative fills (shipped as
    nothing, but an order's unfilled rest came out 8.9e-16 t larger), while a pool with an
    offtake contract, not yet in force, rationed none. A zero-volume contract starting on
    day 142 changed a US->JP oxide lot on day 122 in its last bit, and one lot more after."""
    data = json.loads((Path(__file__).parent / "fixtures" / "offtake_causality.json")
                      .read_text())
    offtake = {"type": "offtake", "facility": "f1_1", "start": "2024-05-22",
               "volumes_tpy": {"AU": 0.0}}
    assert_same_before(run_valid(data), run_valid(with_events(data, zz=offtake)), 142, 7)


def test_rationing_a_rounding_residue_below_zero_fills_nothing():
    """The rule reads a pool's stock of -1e-15 t (rounding) as none: no negative fills."""
    from types import SimpleNamespace

    from simulator.engine.allocation import TieredProRata

    buyer = SimpleNamespace(usage_per_day=1.0, priority=0)
    lanes = [SimpleNamespace(buyer=buyer, share=0.5), SimpleNamespace(buyer=buyer, share=0.5)]
    fills = TieredProRata([], set(), 7).ration(None, [(lanes[0], 2.0), (lanes[1], 5.0)],
                                               -8.881784197001252e-16)
    assert [q for _, q in fills] == [0.0, 0.0]


@st.composite
def with_future_plant(draw: st.DrawFn, new_pool: bool = False, switching: bool | None = None):
    data = draw(scenario_data(max_events=3, switching=switching))
    t = draw(st.integers(1, horizon(data) - 1))
    fid, fac = draw(future_facility(data, t, new_pool=new_pool))
    extended = copy.deepcopy(data)
    extended["facilities"][fid] = fac
    return data, extended, t


@invariant(30, with_future_plant(), seeds, replications)
def test_causality_a_plant_changes_nothing_before_its_start_date(case, seed, rep):
    data, extended, t = case
    note(f"base: {dump(data)}\nextended (plant starts day {t}): {dump(extended)}")
    assert_same_before(run(data, seed, rep), run(extended, seed, rep), t,
                       data["simulation"]["step_days"])


@st.composite
def with_future_supplier(draw: st.DrawFn):
    """A plant starting on day t in a country that makes none of its output yet, and that
    buyers of its output name as an alternative supplier (switching on): before t that
    country has nothing to sell, so nothing may change."""
    data, extended, t = draw(with_future_plant(new_pool=True, switching=True))
    (fid,) = set(extended["facilities"]) - set(data["facilities"])
    fac = extended["facilities"][fid]
    mat = fac["recipe"].removeprefix("make_")
    named = False
    for src in extended["sourcing"].values():
        if src["material"] == mat and fac["country"] not in src["suppliers"] \
                and fac["country"] not in src.get("alternatives", {}):
            src.setdefault("alternatives", {})[fac["country"]] = draw(st.integers(0, 60))
            named = True
    assume(named)
    return data, extended, t


@invariant(30, with_future_supplier(), seeds, replications)
def test_causality_an_alternative_supplier_changes_nothing_before_it_can_supply(case, seed,
                                                                                 rep):
    data, extended, t = case
    note(f"base: {dump(data)}\nextended (plant starts day {t}): {dump(extended)}")
    assert_same_before(run(data, seed, rep), run(extended, seed, rep), t,
                       data["simulation"]["step_days"])


# -- paired randomness -------------------------------------------------------------------------
def selected_demands(ev: dict, data: dict) -> set[str]:
    out = set()
    for did, d in data["demand"].items():
        if ev.get("demand") and did not in ev["demand"]:
            continue
        if ev.get("country") not in (None, d["country"]):
            continue
        if ev.get("sector") not in (None, d["sector"]):
            continue
        if ev.get("material") not in (None, d["material"]):
            continue
        out.add(did)
    return out


def demand_factor(ev: dict, day: int) -> float:
    """The demand multiplier of a shock or substitution on ``day`` (docs/events.md)."""
    if ev["type"] == "demand_shock":
        start = day_of(ev["start"])
        end = day_of(ev["end"]) if ev.get("end") else None
        if day < start or (end is not None and day >= end):
            return 1.0
        ramp = ev.get("ramp_days", 0)
        return 1.0 + (ev["multiplier"] - 1.0) * min(1.0, (day - start + 1) / (ramp + 1))
    begin = day_of(ev["start"]) + ev.get("delay_days", 0)
    if day < begin:
        return 1.0
    return 1.0 - min(ev["max_share"], ev["rate_pa"] * (day - begin) / 365.0)


def step_factor(ev: dict, day: int, step: int, growth_pa: float,
                others: list[dict] = ()) -> float:  # type: ignore[assignment]
    """The factor on a step's demand: a step counts each of its days as it is, so it is the
    mean of the daily factors over ``[day, day + step)`` weighted by the day's demand without
    ``ev`` (growth and the ``others`` shocks and substitutions on the sector;
    docs/engine.md)."""
    days = range(day, day + step)
    factors = [demand_factor(ev, d) for d in days]
    if all(f == 1.0 for f in factors):
        return 1.0
    weights = [(1.0 + growth_pa) ** (d / 365.0) * math.prod(demand_factor(o, d) for o in others)
               for d in days]
    total = sum(weights)
    if total == 0.0:
        return 1.0  # no demand that step either way
    return sum(w * f for w, f in zip(weights, factors, strict=True)) / total


@st.composite
def demand_case(draw: st.DrawFn):
    data = draw(scenario_data(max_events=3))
    # a demand shock (often to zero) or any other event, at any time
    kind = draw(st.sampled_from(["demand_shock", "demand_shock", "substitution",
                                 *[k for k in EVENT_TYPES if k != "stockpile_policy"
                                   or data["stockpiles"]]]))
    kw = {}
    if kind == "demand_shock" and draw(st.booleans()):
        kw["multiplier"] = 0.0
    ev = draw(event_data(data, kind, eid="added", **kw))
    ev.pop("probability", None)
    return data, ev


@invariant(50, demand_case(), seeds, replications)
def test_an_event_never_shifts_the_demand_draws(case, seed, rep):
    """Each demand sector's draws come from its own stream ``demand:<id>``: adding an event
    leaves every sector's ``demand_t`` as it was, except that a shock or substitution
    multiplies the demand of the sectors it selects by its factor on that day."""
    data, ev = case
    note(f"base: {dump(data)}\nadded: {dump(ev)}")
    a = plain(run(data, seed, rep).timeseries)
    b = plain(run(with_events(data, added=ev), seed, rep).timeseries)
    assert a[["day", "demand_id"]].equals(b[["day", "demand_id"]])
    hit = selected_demands(ev, data) if ev["type"] in ("demand_shock", "substitution") else set()
    step = data["simulation"]["step_days"]
    for i in range(len(a)):
        did, day = a.at[i, "demand_id"], int(a.at[i, "day"])
        others = [o for o in data["events"].values()
                  if o["type"] in ("demand_shock", "substitution")
                  and did in selected_demands(o, data)]
        if did in hit and any(o.get("probability", 1.0) < 1.0 for o in others):
            continue  # whether those happen is drawn per replication: weights unknown here
        f = step_factor(ev, day, step, data["demand"][did].get("growth_pa", 0.0), others) \
            if did in hit else 1.0
        x, y = a.at[i, "demand_t"], b.at[i, "demand_t"]
        ok = x == y if f == 1.0 else math.isclose(y, f * x, rel_tol=1e-09, abs_tol=1e-12)
        assert ok, (f"demand {did} on day {day}: {y!r} with the event, {x!r} without "
                    f"(factor {f})")


DRAIN = {
    "countries": {"XM": {"name": "mine land"}, "XN": {"name": "sink land"}},
    "materials": {"rare": {"stage": "sx"}},
    "recipes": {"make_rare": {"stage": "sx", "outputs": {"rare": 1.0}}},
    "facilities": {"mx": {"country": "XM", "recipe": "make_rare", "capacity_tpy": 3650,
                          "output_cover_days": 0}},
    "demand": {"dx": {"country": "XN", "sector": "xs", "material": "rare",
                      "rate_tpy": 365000, "cover_days": 0}},
    "sourcing": {"sx": {"country": "XN", "material": "rare", "suppliers": {"XM": 1.0}}},
}


def add_drain(data: dict, outage: dict) -> dict:
    """``data`` plus a separate mine whose every tonne is bought at once (so it produces its
    available capacity every step: production reveals its outage state) and its outage."""
    out = copy.deepcopy(data)
    out["stages"] = [*out["stages"], "sx"]
    for key, part in DRAIN.items():
        out[key] = {**out[key], **copy.deepcopy(part)}
    out["events"]["mx_outage"] = outage
    return out


@st.composite
def outage_case(draw: st.DrawFn):
    data = draw(scenario_data(max_events=4))
    for ev in data["events"].values():  # keep the other events off the separate mine
        if ev["type"] == "logistics_disruption" and not ev.get("materials"):
            ev["materials"] = list(CHAIN)
    start = draw(st.integers(-30, horizon(data) - 1))
    mine_outage = {"type": "facility_outage", "facilities": ["mx"], "start": date(start),
                   "capacity_lost": draw(st.sampled_from([1.0, 0.5])),
                   "random": {"failures_per_year": draw(st.floats(0.5, 12)),
                              "mean_repair_days": draw(st.floats(1, 60))}}
    if draw(st.booleans()):
        mine_outage["end"] = date(start + draw(st.integers(1, 240)))
    mine_outage["probability"] = draw(st.sampled_from([1.0, 0.6]))
    return data, mine_outage


@invariant(30, outage_case(), seeds, replications)
def test_other_events_never_shift_a_random_outage(case, seed, rep):
    """A Markov outage's failures and repairs come from its stream ``outage:<id>:<facility>``
    (and whether it happens from ``event:<id>``): the production of a mine that sells all it
    makes shows them, and it is the same with or without the scenario's other events."""
    data, mine_outage = case
    note(f"base: {dump(data)}\nmine outage: {dump(mine_outage)}")
    alone = add_drain(without(data, lambda ev: True), mine_outage)
    busy = add_drain(data, mine_outage)
    pa, pb = (plain(run(d, seed, rep).production) for d in (alone, busy))
    pa, pb = (p[p["facility"] == "mx"].reset_index(drop=True) for p in (pa, pb))
    pd.testing.assert_frame_equal(pa, pb, check_exact=True)


# -- exact route effects ---------------------------------------------------------------------
def new_lane_candidates(data: dict, exporters: set[str], importers: set[str],
                        materials: set[str]) -> list[tuple[str, str, str]]:
    """(exporter, importer, material) where the importer's buyers have no lane from the
    exporter, which produces the material: preferred sourcing would open one mid-run."""
    prod = producers(data)
    out = set()
    for src in data["sourcing"].values():
        imp, mat = src["country"], src["material"]
        if imp not in importers or mat not in materials:
            continue
        for exp in exporters:
            if exp != imp and exp in prod[mat] and exp not in src["suppliers"] \
                    and exp not in src.get("alternatives", {}):
                out.add((exp, imp, mat))
    return sorted(out)


@st.composite
def new_lane_case(draw: st.DrawFn, data: dict):
    """Half the time, (exporter, importer, material) and an agreement between them whose
    preferred sourcing opens a lane from the exporter to the importer's buyers mid-run (the
    route event under test is then aimed at that route: route properties must hold for
    lanes opened after the event too); else None."""
    cands = new_lane_candidates(data, set(CODES), set(CODES), set(CHAIN))
    if not cands or draw(st.booleans()):
        return None
    exp, imp, mat = draw(st.sampled_from(cands))
    deal = {"type": "cooperation_agreement", "members": [exp, imp],
            "signed": date(draw(st.integers(-30, horizon(data) - 1))),
            "preferred_sourcing": {"materials": [mat], "share": draw(st.floats(0.1, 0.9)),
                                   "qualification_days": draw(st.integers(0, 60))}}
    return (exp, imp, mat), deal


@st.composite
def with_control(draw: st.DrawFn, mode: str, announced: bool = True):
    data = draw(scenario_data(max_events=4))
    if mode != "licence":
        data = without(data, is_licence)  # a lot filed before may legally ship later
    ev = draw(export_control(data, mode=mode))
    if not announced:
        ev.pop("announced", None)
        ev.pop("prebuy_cover_days", None)
    linked = draw(new_lane_case(data))
    if linked is not None:
        (exp, imp, mat), deal = linked
        ev.update(exporter=exp, materials=[mat], destinations=[imp])
        ev.pop("elements", None)
        if mode == "quota":  # small enough for the route to reach it
            ev["quota_tpy"] = draw(st.sampled_from([0.0, 0.5, 5.0]))
        data = with_events(data, linked_deal=deal)
    return data, ev


def with_ban(announced: bool = True):
    return with_control("ban", announced)


@invariant(50, with_ban(), seeds, replications)
def test_a_ban_ships_nothing_on_its_routes_while_in_force(case, seed, rep):
    """From ``effective`` until ``end`` no lot leaves the exporter for a banned destination
    and material (licences pending are denied), whatever else happens."""
    data, ban = case
    extended = with_events(data, zz_ban=ban)
    note(f"scenario: {dump(extended)}")
    r = run(extended, seed, rep)
    H = horizon(data) + data["simulation"]["step_days"]
    for eid, ev in extended["events"].items():
        if ev["type"] == "export_control" and ev["mode"] == "ban" and certain(ev):
            lo, hi = day_of(ev["effective"]), end_day(ev, H)
            shipped = route_tonnes(r, ec_routes(ev, extended), lo, hi)
            assert shipped == 0.0, f"{eid}: {shipped} t shipped on banned routes in [{lo}, {hi})"


def with_quota():
    return with_control("quota")


@invariant(40, with_quota(), seeds, replications)
def test_a_quota_caps_its_routes_at_the_allowance_accrued(case, seed, rep):
    data, quota = case
    extended = with_events(data, zz_quota=quota)
    note(f"scenario: {dump(extended)}")
    step = data["simulation"]["step_days"]
    r = run(extended, seed, rep)
    f = flows(r)
    H = horizon(data) + step
    for eid, ev in extended["events"].items():
        if ev["type"] != "export_control" or ev["mode"] != "quota" or not certain(ev):
            continue
        lo, hi = day_of(ev["effective"]), end_day(ev, H)
        per_day = ev["quota_tpy"] / 365.0
        routes = ec_routes(ev, extended)
        keys = list(zip(f["origin"], f["destination"], f["material"], strict=True))
        g = f[np.array([k in routes for k in keys], dtype=bool)
              & (f["day"] >= lo).to_numpy() & (f["day"] < hi).to_numpy()]
        cum = g.groupby("day")["tonnes"].sum().cumsum()
        for day, shipped in cum.items():
            # a step's allocation (on its first day, steps from day 0) may ship the quota of
            # its days in force: by a lot's day, the quota of every day to the end of its step
            step_end = int(day) - int(day) % step + step
            accrued = per_day * (min(hi, step_end) - lo)
            assert shipped <= accrued * (1 + 1e-9) + 1e-9, (
                f"{eid}: {shipped} t shipped by day {day}, allowance {accrued} t")


@st.composite
def with_closed_route(draw: st.DrawFn):
    data = draw(scenario_data(max_events=4))
    data = without(data, is_licence)
    closure = draw(logistics_disruption(data, capacity_tpy=0.0))
    linked = draw(new_lane_case(data))
    if linked is not None:
        (exp, imp, mat), deal = linked
        closure.update(origin=exp, destination=imp, materials=[mat])
        data = with_events(data, linked_deal=deal)
    return data, closure


def logistics_routes(ev: dict, data: dict) -> set[tuple[str, str, str]]:
    origins = [ev["origin"]] if ev.get("origin") else CODES
    dests = [ev["destination"]] if ev.get("destination") else CODES
    mats = ev.get("materials") or list(data["materials"])
    return {(o, d, m) for o in origins for d in dests for m in mats if o != d}


@invariant(40, with_closed_route(), seeds, replications)
def test_a_zero_capacity_disruption_ships_nothing_on_its_routes(case, seed, rep):
    data, closure = case
    extended = with_events(data, zz_closed=closure)
    note(f"scenario: {dump(extended)}")
    r = run(extended, seed, rep)
    H = horizon(data) + data["simulation"]["step_days"]
    for eid, ev in extended["events"].items():
        if ev["type"] == "logistics_disruption" and ev.get("capacity_tpy") == 0.0 \
                and certain(ev):
            lo, hi = day_of(ev["start"]), end_day(ev, H)
            shipped = route_tonnes(r, logistics_routes(ev, extended), lo, hi)
            assert shipped == 0.0, f"{eid}: {shipped} t shipped on closed routes in [{lo}, {hi})"


def prohibitive(ev: dict) -> bool:
    rate = ev["rate"]
    return rate >= ev.get("prohibitive_rate", 1.0) or ev.get("elasticity", 1.0) * rate >= 1.0


@st.composite
def with_prohibitive_tariff(draw: st.DrawFn):
    data = draw(scenario_data(max_events=4, switching=False))
    data = without(data, is_licence)
    t = draw(st.integers(0, horizon(data) - 1))
    ev = draw(event_data(data, "tariff", at=t, eid="zz_tariff"))
    ev["rate"] = 2.0
    ev.pop("probability", None)
    linked = draw(new_lane_case(data))
    if linked is not None:
        (exp, imp, mat), deal = linked
        ev.update(exporters=[exp], importers=[imp], materials=[mat])
        data = with_events(data, linked_deal=deal)
    return data, ev


@invariant(40, with_prohibitive_tariff(), seeds, replications)
def test_a_prohibitive_tariff_stops_its_routes(case, seed, rep):
    """Switching off: a buyer's order shares are its sourcing shares times tariff
    multipliers, so a route taxed at a prohibitive rate gets no orders while another primary
    supplier is untaxed (pre-buying before an export control aside)."""
    data, tariff_ev = case
    extended = with_events(data, zz_tariff=tariff_ev)
    note(f"scenario: {dump(extended)}")
    r = run(extended, seed, rep)
    H = horizon(data) + data["simulation"]["step_days"]
    prohibitive_tariffs = [ev for ev in extended["events"].values()
                           if ev["type"] == "tariff" and prohibitive(ev)]
    prebuy = any(ev["type"] == "export_control" and ev.get("prebuy_cover_days")
                 for ev in extended["events"].values())
    pref_all = any(ev["type"] == "cooperation_agreement"
                   and (ev.get("preferred_sourcing") or {}).get("share", 0) > 0.999
                   for ev in extended["events"].values())
    assume(not pref_all)

    def taxed(importer: str, exporter: str, mat: str) -> bool:
        return any(importer in ev["importers"] and exporter in ev["exporters"]
                   and (not ev.get("materials") or mat in ev["materials"])
                   for ev in prohibitive_tariffs)

    for eid, ev in extended["events"].items():
        if ev["type"] != "tariff" or not prohibitive(ev) or not certain(ev):
            continue
        lo, hi = day_of(ev["start"]), end_day(ev, H)
        # a step straddling the end orders for its untaxed days too (the step's mean
        # multiplier, docs/engine.md "Timing"): check the steps wholly inside the window
        hi -= hi % data["simulation"]["step_days"]
        for src in extended["sourcing"].values():
            imp, mat = src["country"], src["material"]
            if imp not in ev["importers"] or (ev.get("materials") and mat
                                              not in ev["materials"]):
                continue
            if not any(sup == imp or not taxed(imp, sup, mat) for sup in src["suppliers"]):
                continue  # every supplier taxed: base shares stand (documented)
            if prebuy:
                continue
            for exp in ev["exporters"]:
                if exp == imp:
                    continue
                shipped = route_tonnes(r, {(exp, imp, mat)}, lo, hi)
                assert shipped == 0.0, (f"{eid}: {shipped} t of {mat} {exp}->{imp} "
                                        f"in [{lo}, {hi})")


def test_regression_late_output_does_not_fill_a_step_order_through_a_tariff_since():
    """Found by the thorough prohibitive-tariff property. Weekly steps, no lead times; a
    prohibitive tariff on CN -> JP from day 1. The step's order of day 0 put 1/7 of JP's
    CN share on CN (its one untaxed day); CN's oxide plant, fed by lots landing mid-step,
    made more on days 2 and 3, and the step's unfilled order took it: 0.0048 t through the
    tariff. A daily run's order of day 0 lapses that day and its buyer orders under the
    tariff from day 1."""
    data = json.loads((Path(__file__).parent / "fixtures" / "tariff_late_output.json")
                      .read_text())
    tariff = {"type": "tariff", "importers": ["AU", "JP"], "exporters": ["CN"], "rate": 2.0,
              "start": "2024-01-02"}
    r = run_valid(with_events(data, zz_tariff=tariff))
    assert route_tonnes(r, {("CN", "JP", "oxide")}, 0, 1) > 0.0  # its untaxed day
    assert route_tonnes(r, {("CN", "JP", "oxide"), ("CN", "AU", "oxide")}, 1, 366) == 0.0


# -- policy monotonicity ---------------------------------------------------------------------
@invariant(40, with_ban(announced=False), seeds, replications)
def test_a_ban_never_raises_the_flows_on_its_routes(case, seed, rep):
    """Over the whole run, the banned routes (exporter -> controlled destinations, controlled
    materials) carry no more with a ban in force to the end than without it, whatever other
    events do (lanes that agreements open included). (Announced bans are excluded: their
    pre-buying legitimately raises flows before the ban.)

    A ban that ends can raise them: buyers starved by it re-order after it for the use they
    planned while starved (a bullwhip), and in a rationed pool a larger order gets a larger
    share (``test_regression_after_a_ban_ends_starved_buyers_over_order`` pins one case); that
    such a ban ships nothing while in force is ``test_a_ban_ships_nothing_on_its_routes_while_
    in_force``."""
    data, ban = case
    assert_a_ban_ships_no_more(data, {k: v for k, v in ban.items() if k != "end"}, seed, rep)


def assert_a_ban_ships_no_more(data: dict, ban: dict, seed: int, rep: int) -> None:
    """The routes of ``ban`` carry no more over the run with it than without it."""
    note(f"base: {dump(data)}\nban: {dump(ban)}")
    routes = ec_routes(ban, data)
    free = route_tonnes(run(data, seed, rep), routes)
    banned = route_tonnes(run(with_events(data, zz_ban=ban), seed, rep), routes)
    assert banned <= free + 1e-6 * max(free, 1.0), f"{banned} t with the ban, {free} t without"


def test_regression_after_a_ban_ends_starved_buyers_over_order():
    """Found by the thorough ban property (it compared whole runs with bans that end). AU's
    oxide plant lives on its ore stock (AU's mine is out); CN's magnet plant buys the oxide.
    Without a ban CN gets 0.0026 t over days 1-9; banned for 29 days it gets 0.0036 t on
    days 29-31: starved, its planned use (the plant's smoothed desired run rate) rose from
    0.41 to 1.41 kg/day by day 30, and after the ban it ordered cover for that use from the
    same stock; it ends the run holding 1.42 kg of oxide against 0.41 kg. Pinned as the
    documented behaviour: a ban that ends can raise the whole run's flow on its route."""
    data = json.loads((Path(__file__).parent / "fixtures" / "ban_overshoot.json").read_text())
    ban = {"type": "export_control", "exporter": "AU", "mode": "ban", "elements": ["Nd"],
           "destinations": "all", "effective": "2024-01-01", "end": "2024-01-30"}
    routes = ec_routes(ban, data)
    free = route_tonnes(run_valid(data), routes)
    banned_r = run_valid(with_events(data, zz_ban=ban))
    assert route_tonnes(banned_r, routes, 0, 29) == 0.0
    assert free == pytest.approx(0.0026, abs=5e-5)
    assert route_tonnes(banned_r, routes) == pytest.approx(0.0036, abs=5e-5)


@st.composite
def with_two_reserves(draw: st.DrawFn):
    data = draw(scenario_data(max_events=3, min_stockpiles=1))
    sp = data["stockpiles"]["sp0"]
    small = sp.get("holdings_t", draw(st.floats(0, 3000)))
    sp.pop("holdings_days", None)
    sp["holdings_t"] = small
    sp.setdefault("target_t", draw(st.sampled_from([0.0, small])))  # same target in both
    bigger = copy.deepcopy(data)
    bigger["stockpiles"]["sp0"]["holdings_t"] = small + draw(st.floats(1, 3000))
    return data, bigger


def served_sectors(data: dict, pid: str) -> set[str]:
    sp = data["stockpiles"][pid]
    countries = {sp["country"], *sp.get("eligible_countries", [])}
    for ev in data["events"].values():
        if ev["type"] == "stockpile_policy" and ev["stockpile"] == pid:
            countries |= set(ev.get("eligible_countries") or [])
        if ev["type"] == "cooperation_agreement" and ev.get("shared_stockpiles") \
                and sp["country"] in ev["members"]:
            countries |= set(ev["members"])
    sectors = sp.get("sectors")
    return {did for did, d in data["demand"].items()
            if d["material"] == sp["material"] and d["country"] in countries
            and (sectors is None or d["sector"] in sectors)}


def fill_rate(r, demand_ids: set[str]) -> float:
    ts = plain(r.timeseries)
    ts = ts[ts["demand_id"].isin(demand_ids)]
    want = ts["demand_t"].sum()
    return 1.0 if want <= 0 else float(ts["delivered_t"].sum() / want)


def need_met(r, demand_ids: set[str]) -> float:
    """Share of the sectors' demand before any price response (demand + destroyed +
    thrifted) that was delivered; the fill rate where demand does not respond."""
    ts = plain(r.timeseries)
    ts = ts[ts["demand_id"].isin(demand_ids)]
    want = (ts["demand_t"] + ts["destroyed_t"] + ts["thrifted_t"]).sum()
    return 1.0 if want <= 0 else float(ts["delivered_t"].sum() / want)


@invariant(40, with_two_reserves(), seeds, replications)
def test_a_larger_reserve_never_lowers_the_fill_rate_of_the_sectors_it_serves(case, seed, rep):
    assert_a_larger_reserve_fills_no_less(*case, seed, rep)


def assert_a_larger_reserve_fills_no_less(small: dict, bigger: dict, seed: int,
                                          rep: int) -> None:
    """The sectors ``sp0`` serves get no lower a fill rate with ``bigger``'s holdings, where
    no other reserve holds its material: another's trigger legitimately reads the first's
    releases (hypothesis seed 7, weekly: AU's second magnet reserve releases only below a
    fill of 0.5; with 500 t in the first instead of 496 t the fill stays above 0.5 until the
    sector's demand ends, and the second's 7 t are never released: 81.23350% against
    81.23434%, the policy as written). With a market the measure is the share of the
    demand before price response that was met: a larger reserve lowers the price, so less
    demand is destroyed and the fill of what remains may fall while more is delivered
    (hypothesis seed 13: 878 t delivered against 877, 159.9 t destroyed against 161.2;
    fill of the remaining demand 90.780% against 90.796%, of the whole 77.90% against
    77.81%)."""
    material = small["stockpiles"]["sp0"]["material"]
    assume(all(sp["material"] != material for pid, sp in small["stockpiles"].items()
               if pid != "sp0"))
    note(f"small: {dump(small)}\nbigger holdings: {bigger['stockpiles']['sp0']['holdings_t']}")
    served = served_sectors(small, "sp0")
    a = need_met(run(small, seed, rep), served)
    b = need_met(run(bigger, seed, rep), served)
    assert b >= a - 1e-6 * a, f"need met {b} with the larger reserve, {a} with the smaller"


def test_regression_a_release_to_a_buyer_of_a_zero_cover_plant_does_not_lower_its_fill() -> None:
    """Found by the reserve property (2026-12-07; fails on every commit back to 50ab77a).
    Daily steps, no lead times, no cover anywhere: CN's sector (5 t/yr of oxide) buys from
    JP's oxide plant, which makes to its smoothed orders and holds no stock. A reserve of 1 t
    (release at any shortfall, at most 1 t/yr) answered a 0.05 kg shortfall on day 270 with
    2.74 kg; CN then ordered 10.96 kg instead of 13.70, the plant planned on the lower
    orders, and from day 279 CN ran short every other day: fill 98.69% against 99.44% with
    no reserve (48 short days against 9). Producers now count what a release left in their
    buyers' stock as orders (:func:`simulator.engine.stockpile.see_through`): 99.51% with
    the reserve, 4 short days."""
    small = json.loads((Path(__file__).parent / "fixtures" / "reserve_oscillation.json")
                       .read_text())
    bigger = copy.deepcopy(small)
    bigger["stockpiles"]["sp0"]["holdings_t"] = 1.0
    served = served_sectors(small, "sp0")
    assert fill_rate(run_valid(bigger), served) >= fill_rate(run_valid(small), served) - 1e-6


@invariant(25, scenario_data(min_stockpiles=1), seeds, replications)
def test_a_stockpile_starts_the_horizon_with_its_declared_holdings(data, seed, rep):
    """Holdings are declared for the start date: the first recorded step's holdings are
    the declared ``holdings_t`` less that step's releases plus its purchases, whatever the
    warm-up did (pipelines filling, events dated in it). Before 2026-12-06 a reserve that
    watched a plant released during the warm-up (tests/test_release_timing.py)."""
    for sp in data["stockpiles"].values():
        sp.pop("holdings_days", None)
        sp.setdefault("holdings_t", 100.0)
    note(dump(data))
    r = run(data, seed, rep)
    sp = plain(r.stockpiles)
    first = sp[sp["day"] == sp["day"].min()].set_index("stockpile")
    for pid, declared in data["stockpiles"].items():
        row = first.loc[pid]
        assert row["holdings_t"] == pytest.approx(
            declared["holdings_t"] - row["released_t"] + row["bought_t"], abs=1e-9), pid


@st.composite
def with_two_licences(draw: st.DrawFn, extremes: bool = False):
    """A network and a licence regime that starts in the horizon (first announced or in
    force from day >= 0), at two approval rates (``extremes``: every application approved,
    and none). Flows are recorded from the start date, so a regime in the warm-up can
    move tonnes into the record: hypothesis found one in force on the warm-up's only day
    whose denied lot shipped on day 0 while the approved one had shipped on day -1 (0.0019 t
    against 0 recorded; the same shipped in all)."""
    data = draw(scenario_data(max_events=3))
    at = draw(st.integers(0, horizon(data) - 1))
    lic = draw(export_control(data, at=at, mode="licence"))
    if extremes:
        lic["licence"]["approval_probability"] = 1.0
        for terms in lic["licence"].get("by_destination", {}).values():
            terms.pop("approval_probability", None)
    lower = copy.deepcopy(lic)
    u = 0.0 if extremes else draw(st.sampled_from([0.0, 0.5]) | st.floats(0, 1))
    lower["licence"]["approval_probability"] *= u
    for terms in lower["licence"].get("by_destination", {}).values():
        if terms.get("approval_probability") is not None:
            terms["approval_probability"] *= u
    return data, lic, lower


@invariant(40, with_two_licences(extremes=True), seeds, replications)
def test_a_licence_that_approves_nothing_never_ships_more_than_one_that_approves_all(
        case, seed, rep):
    """Replication by replication, between the extremes only. (Between two approvals in
    between a replication is not ordered, nor is it against a certain licence, though the
    mean over replications is: the next property. A denial holds its buyer's re-order for
    ``reapply_days`` while it counts the denied tonnes as coming, so a higher approval's
    denials can fall at worse times: hypothesis found 0.081 t at 70% against 0.107 t at 35%
    in a 59-day regime, the 70% run's denial on day 35 holding its orders to day 65. And a
    plant short of its licensed input leaves its own buyers' orders unfilled; they order
    the gap again each step, its smoothed order book grows and it orders more input: the
    bullwhip of docs/engine.md's "Known simplifications". With markets hypothesis found a
    year-long regime carrying 1,638 t at 50% against 1,539 t at 100%, in 1 of 24
    replications of that network; the mean of the 24 was 1,356 t against 1,966 t.)"""
    assert_lower_approval_ships_no_more(*case, seed, rep)


@invariant(4, with_two_licences(), seeds)
def test_lower_licence_approval_never_raises_the_controlled_flows_on_average(case, seed):
    """Two approval rates: over 24 paired replications the lower one's mean tonnes on the
    regime's routes while it is in force are not above the higher one's (a one-sided paired
    test at 5 standard errors: a true difference of 0 fails it about once in 3 million)."""
    assert_lower_approval_ships_no_more_on_average(*case, seed)


def assert_lower_approval_ships_no_more_on_average(data: dict, high: dict, low: dict,
                                                  seed: int, n: int = 24) -> None:
    note(f"base: {dump(data)}\nlicence: {dump(high)}\nlower: {dump(low['licence'])}")
    routes = ec_routes(high, data)
    end = end_day(high, horizon(data))
    diff = np.array([
        route_tonnes(run(with_events(data, zz_lic=low), seed, rep), routes, hi=end)
        - route_tonnes(run(with_events(data, zz_lic=high), seed, rep), routes, hi=end)
        for rep in range(n)])
    se = diff.std(ddof=1) / np.sqrt(n)
    assert diff.mean() <= 5 * se + 1e-9, f"{diff.mean()} t more on average at the lower approval"


def assert_lower_approval_ships_no_more(data: dict, high: dict, low: dict, seed: int,
                                        rep: int) -> None:
    """The routes of licence ``high`` carry no more with ``low``'s approval rates while the
    regime is in force. (Not after it: a buyer kept shorter re-orders for more than it would
    have used, the bullwhip of docs/engine.md's "Known simplifications", so over the whole
    horizon a lower approval can carry more: hypothesis found 643.5 t against 625.9 t, 0 t
    against 31 t during the regime, once decisions came one per application window.)"""
    note(f"base: {dump(data)}\nlicence: {dump(high)}\nlower: {dump(low['licence'])}")
    routes = ec_routes(high, data)
    end = end_day(high, horizon(data))
    a = route_tonnes(run(with_events(data, zz_lic=high), seed, rep), routes, hi=end)
    b = route_tonnes(run(with_events(data, zz_lic=low), seed, rep), routes, hi=end)
    assert b <= a + 1e-6 * max(a, 1.0), f"{b} t at the lower approval, {a} t at the higher"


for _name, _test in list(globals().items()):
    if _name.startswith("test_") and hasattr(_test, "thorough"):
        globals()[f"{_name}_thorough"] = _test.thorough


# -- regressions: minimal reproductions of what the properties found -------------------------
# A mine in AU (100 t/day) sells ore to a demand sector in JP (10 t/day); daily steps, no
# warm-up, 5-day lead times; CN has a mine too that JP does not buy from.
TINY = {
    "name": "tiny", "start_date": "2024-01-01", "end_date": "2025-01-01",
    "simulation": {"step_days": 1, "warmup_days": 0}, "stages": ["mine"],
    "countries": {"AU": {"name": "Australia"}, "CN": {"name": "China"},
                  "JP": {"name": "Japan"}, "US": {"name": "United States"}},
    "materials": {"ore": {"stage": "mine"}},
    "recipes": {"mining": {"stage": "mine", "outputs": {"ore": 1.0}}},
    "facilities": {"au_mine": {"country": "AU", "recipe": "mining", "capacity_tpy": 36500},
                   "cn_mine": {"country": "CN", "recipe": "mining", "capacity_tpy": 36500}},
    "demand": {"jp_use": {"country": "JP", "sector": "ev", "material": "ore",
                          "rate_tpy": 3650, "cover_days": 10}},
    "sourcing": {"jp_ore": {"country": "JP", "material": "ore", "suppliers": {"AU": 1.0}}},
    "lead_times": {"default_days": 5},
}

# CN and JP sign on day 20; from then half of JP's orders go to CN on a lane the agreement
# opens (JP never bought from CN before).
CN_JP_DEAL = {"type": "cooperation_agreement", "members": ["CN", "JP"], "signed": date(20),
              "preferred_sourcing": {"share": 0.5, "qualification_days": 0}}


def tiny(**patch) -> dict:
    return deep_update(TINY, patch)


def cn_to_jp(r, lo: int = 0, hi: int = 10**6) -> float:
    return route_tonnes(r, {("CN", "JP", "ore")}, lo, hi)


def test_regression_a_lane_opened_by_an_agreement_obeys_an_earlier_ban():
    """Defect 1: a ban on CN ore to JP from day 10; the lane the day-20 agreement opens
    ships anyway (1730 t at commit 1177743)."""
    ban = {"type": "export_control", "exporter": "CN", "materials": ["ore"], "mode": "ban",
           "effective": date(10)}
    r = run_valid(tiny(events={"ban": ban, "deal": CN_JP_DEAL}), seed=1)
    assert cn_to_jp(r, 10) == 0.0


def test_regression_a_lane_opened_by_an_agreement_obeys_an_earlier_quota():
    """Defect 1: a quota of 1 t/day on CN ore to JP from day 10; the new lane is uncapped."""
    quota = {"type": "export_control", "exporter": "CN", "materials": ["ore"], "mode": "quota",
             "quota_tpy": 365.0, "effective": date(10)}
    r = run_valid(tiny(events={"quota": quota, "deal": CN_JP_DEAL}), seed=1)
    assert cn_to_jp(r, 10) <= 1.0 * (366 - 10) + 1e-6


def test_regression_a_lane_opened_by_an_agreement_obeys_an_earlier_route_closure():
    """Defect 1: the CN -> JP route is closed (capacity 0) from day 0; the new lane ships."""
    closed = {"type": "logistics_disruption", "origin": "CN", "destination": "JP",
              "start": date(0), "capacity_tpy": 0.0}
    r = run_valid(tiny(events={"closed": closed, "deal": CN_JP_DEAL}), seed=1)
    assert cn_to_jp(r) == 0.0


def test_regression_a_lane_opened_by_an_agreement_obeys_an_earlier_prohibitive_tariff():
    """Defect 1: JP taxes CN ore at a prohibitive rate from day 0 while AU (untaxed) is
    JP's supplier; the new lane's orders ignore the tariff."""
    duty = {"type": "tariff", "importers": ["JP"], "exporters": ["CN"], "rate": 2.0,
            "start": date(0)}
    r = run_valid(tiny(events={"duty": duty, "deal": CN_JP_DEAL}), seed=1)
    assert cn_to_jp(r) == 0.0


def test_regression_a_lane_opened_by_an_agreement_gets_an_earlier_shipping_delay():
    """Defect 1: a 60-day delay on CN -> JP from day 0. Whether JP's lane from CN is opened
    by the agreement or already declared (as an alternative that never qualifies) must not
    matter: it is the same lane under the same disruption."""
    delay = {"type": "logistics_disruption", "origin": "CN", "destination": "JP",
             "start": date(0), "extra_days": 60}
    events = {"delay": delay, "deal": CN_JP_DEAL}
    opened = run_valid(tiny(events=events), seed=1)
    declared = run_valid(tiny(events=events, sourcing={"jp_ore": {"alternatives": {"CN": 36500}}}),
                   seed=1)
    for name in FRAMES:
        pd.testing.assert_frame_equal(plain(getattr(opened, name)),
                                      plain(getattr(declared, name)), obj=name)


def test_regression_a_plant_starting_later_changes_nothing_before_it_starts():
    """Defect 2: a second AU mine from day 200 counts in the AU pool's stock target from
    the start, so the first mine runs at 100 t/day from day 0 instead of 10 (and the pull,
    orders and flows differ) long before the new mine exists."""
    one = run_valid(TINY, seed=1)
    two = run_valid(tiny(facilities={"au_mine_2": {"country": "AU", "recipe": "mining",
                                             "capacity_tpy": 36500,
                                             "start_date": date(200)}}), seed=1)
    assert_same_before(one, two, 200, 1)


def test_regression_an_agreement_plant_changes_nothing_before_signing():
    """Defect 2, agreement form: a plant the day-150 agreement builds (decision day 150,
    construction 50 days) changes the AU pool's target from day 0."""
    deal = {"type": "cooperation_agreement", "members": ["AU", "JP"], "signed": date(150),
            "facilities": {"au_new_mine": {"country": "AU", "recipe": "mining",
                                           "capacity_tpy": 36500,
                                           "investment_decision": date(150),
                                           "construction_days": 50}}}
    assert_same_before(run_valid(TINY, seed=1), run_valid(tiny(events={"deal": deal}), seed=1),
                       150, 1)


def test_regression_an_alternative_without_capacity_yet_takes_no_share():
    """Defect 3: JP buys from AU (a small mine, knocked out on days 50-150) and CN; US is a
    qualified alternative whose only mine starts on day 300. Until then the US has nothing
    to sell, so naming it must change nothing; today switching hands it the share AU loses
    and JP's orders there fail."""
    base = tiny(facilities={"au_mine": {"capacity_tpy": 3650, "output_cover_days": 0}},
                sourcing={"jp_ore": {"suppliers": {"AU": 0.5, "CN": 0.5}}},
                events={"cut": {"type": "facility_outage", "facilities": ["au_mine"],
                                "start": date(50), "end": date(150)}})
    later = deep_update(base, {
        "facilities": {"us_mine": {"country": "US", "recipe": "mining", "capacity_tpy": 36500,
                                   "start_date": date(300)}},
        "sourcing": {"jp_ore": {"alternatives": {"US": 0}}}})
    assert_same_before(run_valid(base, seed=1), run_valid(later, seed=1), 300, 1)


def test_regression_a_zero_demand_step_still_draws_from_its_stream():
    """Defect 5: JP's demand (cv 0.5) is shocked to 0 on days 100-150; its gamma stream
    must still advance, so every draw after the shock is the unshocked run's."""
    noisy = tiny(demand={"jp_use": {"cv": 0.5}})
    stop = {"type": "demand_shock", "demand": ["jp_use"], "multiplier": 0.0,
            "start": date(100), "end": date(150)}
    a = plain(run_valid(noisy, seed=1).timeseries)
    b = plain(run_valid(deep_update(noisy, {"events": {"stop": stop}}), seed=1).timeseries)
    assert (b.loc[(b["day"] >= 100) & (b["day"] < 150), "demand_t"] == 0).all()
    after = a["day"] >= 150
    assert a.loc[after, "demand_t"].tolist() == b.loc[after, "demand_t"].tolist()
    assert a.loc[a["day"] < 100, "demand_t"].tolist() == b.loc[b["day"] < 100,
                                                               "demand_t"].tolist()


def test_regression_a_stockpile_policy_ending_inside_a_sharing_agreement_does_not_crash():
    """Found by the tariff property: a stockpile policy that ends while a shared-stockpile
    agreement runs restores the reserve's buyer list without the partners' buyers, and the
    agreement's end then fails (ValueError: list.remove(x): x not in list)."""
    data = tiny(stockpiles={"jp_reserve": {
                    "country": "JP", "material": "ore", "holdings_t": 100.0,
                    "release": {"trigger": "fill_rate", "threshold": 0.9,
                                "max_release_tpy": 3650}}},
                demand={"us_use": {"country": "US", "sector": "ev", "material": "ore",
                                   "rate_tpy": 365, "cover_days": 10}},
                sourcing={"us_ore": {"country": "US", "material": "ore",
                                     "suppliers": {"AU": 1.0}}},
                events={"policy": {"type": "stockpile_policy", "stockpile": "jp_reserve",
                                   "start": date(5), "end": date(100)},
                        "deal": {"type": "cooperation_agreement", "members": ["JP", "US"],
                                 "signed": date(10), "end": date(200),
                                 "shared_stockpiles": True}})
    r = run_valid(data, seed=1)
    assert r.balance["ok"].all()


def test_regression_reserve_purchases_respect_a_prohibitive_tariff():
    """A prohibitive tariff stops its route (docs/events.md), but a reserve's purchasing
    account never re-shares its lanes, so JP's reserve keeps buying half its refills from
    CN through the stopped route (1830 t at commit 1177743)."""
    data = tiny(sourcing={"jp_ore": {"suppliers": {"AU": 0.5, "CN": 0.5}}},
                stockpiles={"jp_reserve": {
                    "country": "JP", "material": "ore", "holdings_t": 0.0, "target_t": 5000.0,
                    "refill_tpy": 3650,
                    "release": {"trigger": "fill_rate", "threshold": 0.0,
                                "max_release_tpy": 0}}},
                events={"duty": {"type": "tariff", "importers": ["JP"], "exporters": ["CN"],
                                 "rate": 2.0, "start": date(0)}})
    assert cn_to_jp(run_valid(data, seed=1)) == 0.0


def two_reserves(fast_t: float) -> dict:
    """No production; JP uses 1 t/day with 1 day of cover. Reserve ``b_cover`` (400 t, more
    than the year's use) releases up to 2 t/day when JP's cover is under 1 day; ``a_fast``
    (``fast_t``) up to 1 t/day when JP was short in the step. ``a_fast`` takes its turn
    first."""
    return tiny(facilities={"au_mine": {"capacity_tpy": 0}, "cn_mine": {"capacity_tpy": 0}},
                demand={"jp_use": {"rate_tpy": 365, "cover_days": 1}},
                stockpiles={
                    "a_fast": {"country": "JP", "material": "ore", "holdings_t": fast_t,
                               "release": {"trigger": "fill_rate", "threshold": 1.0,
                                           "max_release_tpy": 365}},
                    "b_cover": {"country": "JP", "material": "ore", "holdings_t": 400.0,
                                "release": {"trigger": "days_of_cover", "threshold": 1.0,
                                            "max_release_tpy": 730}}})


def test_regression_a_cover_reserve_releases_before_the_buyer_is_short():
    """Found by the reserve property in CI. A ``days_of_cover`` reserve released only to
    buyers short in their last step: with 400 t for 366 t of use it released 2 t every
    third day and JP got 2/3 of its need (244 of 366 t at 6563d80). It must fill all of
    it; and adding 50 t in a second reserve must not lower that (it fell to 227 t: the
    other reserve's 1-t releases kept JP's cover at 1 day on the days it was short)."""
    for fast_t in (0.0, 50.0):
        r = run_valid(two_reserves(fast_t), seed=1)
        ts = r.timeseries
        assert ts["demand_t"].sum() == pytest.approx(366.0)
        assert ts["delivered_t"].sum() == pytest.approx(366.0), fast_t


#: The random networks' ore -> oxide -> magnet chain, for hand-made regression networks.
CHAIN3 = {
    "stages": ["s0", "s1", "s2"],
    "materials": {"ore": {"stage": "s0"}, "oxide": {"stage": "s1"}, "magnet": {"stage": "s2"}},
    "recipes": {"make_ore": {"stage": "s0", "outputs": {"ore": 1.0}},
                "make_oxide": {"stage": "s1", "inputs": {"ore": 1.0}, "outputs": {"oxide": 0.7}},
                "make_magnet": {"stage": "s2", "inputs": {"oxide": 0.4},
                                "outputs": {"magnet": 1.0}}},
}


def test_regression_a_release_serves_a_short_sector_as_a_landing_lot_does():
    """Found by the reserve-monotonicity property (a clean-clone run, 2026-12-06): weekly
    steps, CN's magnet users (1 t/yr, no cover) buy from an AU plant that starts with a
    year of stock; a CN reserve of 1 t releases when their fill falls below 1. On day 0 they
    run short before any lot lands. Without the reserve the lot ordered that day lands the
    same day and serves the rest of the week (a lot landing mid-step serves a short sector
    at once); with it, the release went to stock instead, so they ordered nothing and the
    week stayed short: 0.981 fill with the 1 t reserve against 1.0 without. A release is
    stock arriving on its day and must serve the step's unmet demand as a lot does."""
    week = {"name": "random", "start_date": "2024-01-01", "end_date": "2025-01-01",
            "simulation": {"step_days": 7, "warmup_days": 0},
            "countries": {c: {"name": c} for c in ("AU", "CN")}, **CHAIN3,
            "facilities": {"f0": {"country": "AU", "recipe": "make_ore", "capacity_tpy": 0.0,
                                  "input_cover_days": 0.0, "output_cover_days": 0.0},
                           "f1": {"country": "AU", "recipe": "make_oxide",
                                  "capacity_tpy": 0.0, "input_cover_days": 0.0,
                                  "output_cover_days": 0.0},
                           "f2": {"country": "AU", "recipe": "make_magnet",
                                  "capacity_tpy": 7.0, "input_cover_days": 0.0,
                                  "output_cover_days": 53.0}},
            "demand": {"d1": {"country": "CN", "sector": "ev", "material": "magnet",
                              "rate_tpy": 1.0, "cover_days": 0.0}},
            "sourcing": {"s0": {"country": "AU", "material": "ore", "suppliers": {"AU": 1.0}},
                         "s1": {"country": "AU", "material": "oxide",
                                "suppliers": {"AU": 1.0}},
                         "s2": {"country": "CN", "material": "magnet",
                                "suppliers": {"AU": 1.0}}},
            "stockpiles": {"sp0": {"country": "CN", "material": "magnet",
                                   "release": {"trigger": "fill_rate", "threshold": 1.0,
                                               "max_release_tpy": 1.0},
                                   "holdings_t": 0.0, "target_t": 0.0}},
            "lead_times": {"domestic_days": 0, "default_days": 0}}
    bigger = deep_update(week, {"stockpiles": {"sp0": {"holdings_t": 1.0}}})
    a, b = run_valid(week), run_valid(bigger)
    assert fill_rate(a, {"d1"}) == pytest.approx(1.0, rel=1e-12)
    assert fill_rate(b, {"d1"}) >= fill_rate(a, {"d1"}) * (1 - 1e-12)
    day0 = b.timeseries[b.timeseries["day"] == 0]
    assert float(day0["shortfall_t"].sum()) == pytest.approx(0.0, abs=1e-12)
    assert float(b.stockpiles.loc[b.stockpiles["day"] == 0, "released_t"].sum()) > 0


def test_regression_a_plant_wanting_a_subnormal_amount_does_not_divide_by_zero():
    """A plant with a 5e-324-day output cover and no input wants a subnormal number of runs;
    with the relative shortage test (2026-12-06) its late-run rate, that over the step's days,
    underflowed to 0 and the engine divided by it (found by the market invariants in a clean
    clone). A shortage with no rate to run at is no late run."""
    plant = {"country": "AU", "recipe": "make_magnet", "capacity_tpy": 183.0,
             "investment_decision": "2024-01-01", "construction_days": 0, "ramp_up_days": 0,
             "output_cover_days": 5e-324}
    idle = {"input_cover_days": 0.0, "output_cover_days": 0.0, "capacity_tpy": 0.0}
    data = {
        "name": "subnormal", "start_date": "2024-01-01", "end_date": "2025-01-01",
        "simulation": {"step_days": 7, "warmup_days": 1},
        "countries": {c: {"name": c} for c in ("AU", "CN")}, **CHAIN3,
        "facilities": {"f0": {"country": "AU", "recipe": "make_ore", **idle},
                       "f1": {"country": "AU", "recipe": "make_oxide", **idle}},
        "demand": {"d0": {"country": "AU", "sector": "ev", "material": "oxide",
                          "rate_tpy": 0.0, "cover_days": 0.0}},
        "sourcing": {"s1": {"country": "AU", "material": "oxide", "suppliers": {"AU": 1.0}}},
        "lead_times": {"domestic_days": 0, "default_days": 0},
        "events": {"deal": {"type": "cooperation_agreement", "members": ["AU", "CN"],
                            "signed": "2024-01-01", "facilities": {"plant": plant}}},
    }
    r = run_valid(data)
    assert r.production["tonnes"].sum() == 0.0
