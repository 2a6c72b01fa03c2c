"""Hypothesis strategies: random valid scenarios with random events of every type.

Networks are small ore -> oxide -> magnet chains over four countries, with start dates in the
warm-up and in the horizon, alternatives, switching on/off, several stockpiles, step_days in
{1, 7, 14, 28} (28 since 2026-12-06: the shipped scenarios' test runs at 28 days, and licence
applications crashed there while no property looked) and horizons of one to one and a half
years, so one replication runs in a few tens of ms.

Scenarios are built as plain dicts (``scenario_data``) so that properties can add, remove or
change one thing and validate both versions through the same path as the rest of the tests
(``Scenario.model_validate`` + ``check_scenario``): see :func:`validate`.

Event strategies take the scenario's data (to pick valid ids) and, optionally, the day ``at``
on which the event must *start* (its first effect: an export control's announcement, or its
effective day without one; an outage's start or random window start; an agreement's signing
day...), as the causality properties need; :func:`first_day` returns that day for any event.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from pydantic import ValidationError

from simulator.scenario.checks import check_scenario
from simulator.scenario.models import Scenario

CODES = ["AU", "CN", "JP", "US"]
CHAIN = ["ore", "oxide", "magnet"]
RECIPE_OF = {"ore": "make_ore", "oxide": "make_oxide", "magnet": "make_magnet"}
INPUT_OF = {"ore": None, "oxide": "ore", "magnet": "oxide"}
SECTORS = ["ev", "wind", "defense"]
ELEMENTS = ["Nd", "Dy"]
START = dt.date(2024, 1, 1)
EVENT_TYPES = ["export_control", "facility_outage", "demand_shock", "substitution",
               "logistics_disruption", "tariff", "cooperation_agreement", "offtake",
               "stockpile_policy"]


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Floats in [lo, hi], subnormal numbers excluded: a quantity of 5e-324 (days of cover,
    say) times a rate underflows to 0 in one unit and not in another, so the same world in
    kilograms and in tonnes would differ by IEEE rounding, not by the model (found by the
    units property: an output cover of 5e-324 days gave a magnet pool a cover of 8e-323 kg
    and 0 t, and only the world in kilograms produced)."""
    return st.floats(lo, hi, allow_subnormal=False)


def date(day: int) -> str:
    """ISO date of scenario day ``day``."""
    return (START + dt.timedelta(days=day)).isoformat()


def day_of(iso: str) -> int:
    return (dt.date.fromisoformat(iso) - START).days


def horizon(data: dict) -> int:
    return day_of(data["end_date"])


def validate(data: dict) -> Scenario | None:
    """The scenario of ``data``, or None if it is not valid (structure or cross-references)."""
    try:
        s = Scenario.model_validate(data)
    except ValidationError:
        return None
    return None if check_scenario(s) else s


def scenario_of(data: dict) -> Scenario:
    """The scenario of ``data``; the example is discarded (``assume``) if it is not valid."""
    s = validate(data)
    assume(s is not None)
    assert s is not None
    return s


def dump(data: dict) -> str:
    """Compact JSON of a scenario dict, for ``note()`` and regression tests."""
    return json.dumps(data, sort_keys=False, default=str)


def with_events(data: dict, **events: dict | None) -> dict:
    """A copy of ``data`` with events added (or removed, for a ``None`` value)."""
    out = copy.deepcopy(data)
    evs = out.setdefault("events", {})
    for eid, ev in events.items():
        if ev is None:
            evs.pop(eid, None)
        else:
            evs[eid] = copy.deepcopy(ev)
    return out


# -- scenario facts used to pick valid references ----------------------------------------------
def producers(data: dict) -> dict[str, list[str]]:
    """Material -> countries with a facility producing it (scenario facilities only)."""
    out: dict[str, set[str]] = {m: set() for m in CHAIN}
    for f in data["facilities"].values():
        out[f["recipe"].removeprefix("make_")].add(f["country"])
    return {m: sorted(c) for m, c in out.items()}


def demand_sectors(data: dict) -> list[tuple[str, dict]]:
    return sorted(data["demand"].items())


# -- networks ------------------------------------------------------------------------------------
@st.composite
def scenario_data(draw: st.DrawFn, *, max_events: int = 4, events: bool = True,
                  step_days: int | None = None, min_stockpiles: int = 0,
                  switching: bool | None = None) -> dict:
    """A random valid scenario as a dict: a network plus up to ``max_events`` random events."""
    data = draw(network_data(step_days=step_days, min_stockpiles=min_stockpiles,
                             switching=switching))
    if events:
        evs = draw(st.lists(st.sampled_from(EVENT_TYPES), max_size=max_events))
        for i, kind in enumerate(evs):
            if kind == "stockpile_policy" and not data["stockpiles"]:
                continue
            data["events"][f"e{i}"] = draw(event_data(data, kind, eid=f"e{i}"))
    scenario_of(data)
    return data


@st.composite
def network_data(draw: st.DrawFn, *, step_days: int | None = None, min_stockpiles: int = 0,
                 switching: bool | None = None) -> dict:
    """A random valid ore -> oxide -> magnet network (no events) as a dict."""
    end = draw(st.sampled_from([366, 366, 548]))
    warmup = draw(st.integers(0, 120))
    facilities: dict = {}
    prod: dict[str, list[str]] = {m: [] for m in CHAIN}
    for stage_i, mat in enumerate(CHAIN):
        for j in range(draw(st.integers(1, 3))):
            country = draw(st.sampled_from(CODES))
            fac: dict[str, Any] = {
                "country": country,
                "recipe": RECIPE_OF[mat],
                "capacity_tpy": draw(st.one_of(st.just(0.0), floats(0, 5000))),
                "input_cover_days": draw(floats(0, 60)),
                "output_cover_days": draw(floats(0, 60)),
            }
            if draw(st.booleans()):
                fac["start_date"] = date(draw(st.integers(-200, end - 1)))
                fac["ramp_up_days"] = draw(st.integers(0, 200))
            facilities[f"f{stage_i}_{j}"] = fac
            prod[mat].append(country)
    demand = {}
    for j in range(draw(st.integers(1, 3))):
        demand[f"d{j}"] = {
            "country": draw(st.sampled_from(CODES)),
            "sector": draw(st.sampled_from(SECTORS)),
            "material": draw(st.sampled_from(["oxide", "magnet"])),
            "rate_tpy": draw(st.one_of(st.just(0.0), floats(0, 3000))),
            "growth_pa": draw(floats(-0.2, 0.3)),
            "cv": draw(st.sampled_from([0.0, 0.3, 1.0])),
            "cover_days": draw(floats(0, 90)),
            "priority": draw(st.integers(0, 3)),
        }
    consumers = {(f["country"], INPUT_OF[f["recipe"].removeprefix("make_")])
                 for f in facilities.values() if f["recipe"] != "make_ore"}
    consumers |= {(d["country"], d["material"]) for d in demand.values()}
    sourcing = {}
    for i, (country, mat) in enumerate(sorted(consumers)):
        options = sorted(set(prod[mat]))
        chosen = draw(st.lists(st.sampled_from(options), min_size=1, max_size=3, unique=True))
        weights = [draw(st.integers(1, 5)) for _ in chosen]
        shares = [w / sum(weights) for w in weights]
        shares[-1] = 1.0 - sum(shares[:-1])
        src: dict[str, Any] = {"country": country, "material": mat,
                               "suppliers": dict(zip(chosen, shares, strict=True))}
        others = [c for c in options if c not in chosen]
        if others and draw(st.booleans()):
            alts = draw(st.lists(st.sampled_from(others), min_size=1, unique=True))
            src["alternatives"] = {c: draw(st.integers(0, 120)) for c in alts}
        sourcing[f"s{i}"] = src
    stockpiles = {}
    n_sp = draw(st.integers(min_stockpiles, 2))
    for k in range(n_sp):
        country, mat = draw(st.sampled_from(sorted(consumers)))
        sp: dict[str, Any] = {
            "country": country, "material": mat,
            "release": {"trigger": draw(st.sampled_from(["fill_rate", "days_of_cover"])),
                        "max_release_tpy": draw(floats(0, 5000))},
        }
        if sp["release"]["trigger"] == "fill_rate":
            sp["release"]["threshold"] = draw(floats(0, 1))
        else:
            sp["release"]["threshold"] = draw(floats(0, 60))
        if draw(st.booleans()):
            sp["holdings_t"] = draw(floats(0, 3000))
        else:
            sp["holdings_days"] = draw(floats(0, 120))
        if draw(st.booleans()):
            sp["eligible_countries"] = draw(st.lists(st.sampled_from(CODES), unique=True,
                                                     max_size=2))
        if draw(st.booleans()):
            sp["sectors"] = draw(st.lists(st.sampled_from(SECTORS), unique=True, max_size=2))
        if draw(st.booleans()):
            sp["target_t"] = draw(floats(0, 3000))
        if draw(st.booleans()):
            sp["refill_tpy"] = draw(floats(0, 3000))
        stockpiles[f"sp{k}"] = sp
    return {
        "name": "random", "start_date": date(0), "end_date": date(end),
        "simulation": {"step_days": step_days or draw(st.sampled_from([1, 7, 14, 28])),
                       "warmup_days": warmup},
        "stages": ["s0", "s1", "s2"],
        "countries": {c: {"name": c} for c in CODES},
        "materials": {"ore": {"stage": "s0", "elements": {"Nd": 0.1}},
                      "oxide": {"stage": "s1", "elements": {"Nd": 0.6, "Dy": 0.02}},
                      "magnet": {"stage": "s2", "elements": {"Nd": 0.3, "Dy": 0.01}}},
        "recipes": {
            "make_ore": {"stage": "s0", "outputs": {"ore": 1.0}},
            "make_oxide": {"stage": "s1", "inputs": {"ore": 1.0}, "outputs": {"oxide": 0.7}},
            "make_magnet": {"stage": "s2", "inputs": {"oxide": 0.4}, "outputs": {"magnet": 1.0}},
        },
        "facilities": facilities, "demand": demand, "sourcing": sourcing,
        "stockpiles": stockpiles,
        "switching": {"enabled": draw(st.booleans()) if switching is None else switching,
                      "adjustment_days": draw(st.sampled_from([7, 28, 90]))},
        "lead_times": {"domestic_days": draw(st.integers(0, 10)),
                       "default_days": draw(st.integers(0, 40)),
                       "lanes": {"CN": {"US": draw(st.integers(0, 40))}}},
        "allocation": {"rule": draw(st.sampled_from([[], ["domestic"], ["priority"],
                                                      ["domestic", "priority"], ["agreement"],
                                                      ["agreement", "domestic", "priority"]]))},
        "events": {},
    }


# -- events --------------------------------------------------------------------------------------
def _start(draw: st.DrawFn, data: dict, at: int | None, low: int = -30) -> int:
    return at if at is not None else draw(st.integers(low, horizon(data) - 1))


def _maybe_end(draw: st.DrawFn, start: int) -> str | None:
    if draw(st.booleans()):
        return date(start + draw(st.integers(1, 240)))
    return None


def _probability(draw: st.DrawFn) -> float:
    return draw(st.sampled_from([1.0, 1.0, 1.0, 0.5]))


def _set(ev: dict, **kv: Any) -> dict:
    ev.update({k: v for k, v in kv.items() if v is not None})
    return ev


@st.composite
def event_data(draw: st.DrawFn, data: dict, kind: str | None = None, at: int | None = None,
               eid: str = "x", **kw: Any) -> dict:
    """A random valid event of type ``kind`` (random type if None) for scenario ``data``;
    ``eid`` names the plants an agreement builds (``<eid>_plant<i>``)."""
    kind = kind or draw(st.sampled_from(EVENT_TYPES if data["stockpiles"] else EVENT_TYPES[:-1]))
    maker = {
        "export_control": export_control, "facility_outage": facility_outage,
        "demand_shock": demand_shock, "substitution": substitution,
        "logistics_disruption": logistics_disruption, "tariff": tariff,
        "cooperation_agreement": cooperation_agreement, "stockpile_policy": stockpile_policy,
        "offtake": offtake,
    }[kind]
    if kind == "cooperation_agreement":
        kw.setdefault("fid_prefix", f"{eid}_plant")
    ev = draw(maker(data, at, **kw))
    if at is None and "probability" not in ev:
        p = _probability(draw)
        if p < 1:
            ev["probability"] = p
    return ev


@st.composite
def export_control(draw: st.DrawFn, data: dict, at: int | None = None,
                   mode: str | None = None) -> dict:
    exporters = sorted({c for cs in producers(data).values() for c in cs})
    ev: dict[str, Any] = {"type": "export_control",
                          "exporter": draw(st.sampled_from(exporters)),
                          "mode": mode or draw(st.sampled_from(["ban", "quota", "licence"]))}
    mats = draw(st.lists(st.sampled_from(CHAIN), unique=True, max_size=2))
    elements = draw(st.lists(st.sampled_from(ELEMENTS), unique=True,
                             min_size=0 if mats else 1, max_size=1))
    _set(ev, materials=mats or None, elements=elements or None)
    ev["destinations"] = draw(st.one_of(
        st.just("all"),
        st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True),
        st.builds(lambda x: {"all_except": x},
                  st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True))))
    first = _start(draw, data, at)
    H = horizon(data)
    if first + 1 < H and draw(st.booleans()):  # announced, then effective
        effective = first + draw(st.integers(1, min(90, H - 1 - first)))
        ev["announced"] = date(first)
        if draw(st.booleans()):
            ev["prebuy_cover_days"] = draw(floats(0, 60))
    else:
        effective = first
    ev["effective"] = date(effective)
    _set(ev, end=_maybe_end(draw, effective))
    if ev["mode"] == "quota":
        ev["quota_tpy"] = draw(st.one_of(st.just(0.0), floats(0, 3000)))
    if ev["mode"] == "licence":
        lic: dict[str, Any] = {
            "approval_probability": draw(st.one_of(st.sampled_from([0.0, 0.3, 0.7, 1.0]),
                                                   floats(0, 1))),
            "delay_days": draw(st.integers(0, 60)),
            "delay_jitter_days": draw(st.sampled_from([0, 0, 5, 20])),
        }
        if draw(st.booleans()):
            code = draw(st.sampled_from(CODES))
            lic["by_destination"] = {code: _set(
                {}, approval_probability=draw(st.none() | floats(0, 1)),
                delay_days=draw(st.none() | st.integers(0, 60)))}
        ev["licence"] = lic
    if draw(st.integers(0, 3)) == 0:
        ev["extraterritorial"] = {"min_content": draw(st.sampled_from([0.001, 0.01, 0.2]))}
    return ev


@st.composite
def facility_outage(draw: st.DrawFn, data: dict, at: int | None = None,
                    random: bool | None = None) -> dict:
    ev: dict[str, Any] = {"type": "facility_outage"}
    fids = sorted(data["facilities"])
    how = draw(st.sampled_from(["facilities", "country", "stage", "both"]))
    if how == "facilities":
        ev["facilities"] = draw(st.lists(st.sampled_from(fids), min_size=1, max_size=2,
                                         unique=True))
    if how in ("country", "both"):
        ev["country"] = draw(st.sampled_from(sorted({f["country"]
                                                     for f in data["facilities"].values()})))
    if how in ("stage", "both"):
        ev["stage"] = draw(st.sampled_from(["s0", "s1", "s2"]))
    is_random = draw(st.booleans()) if random is None else random
    if not is_random or at is not None or draw(st.booleans()):
        start = _start(draw, data, at)
        ev["start"] = date(start)
        end = draw(st.sampled_from(["none", "end", "duration"]))
        if end == "end":
            ev["end"] = date(start + draw(st.integers(1, 240)))
        elif end == "duration":
            ev["duration_days"] = draw(st.integers(1, 240))
    ev["capacity_lost"] = draw(st.sampled_from([1.0, 0.5]) | floats(0, 1))
    if is_random:
        ev["random"] = {"failures_per_year": draw(floats(0.5, 12)),
                        "mean_repair_days": draw(floats(1, 60))}
    elif draw(st.booleans()):
        ev["ramp_days"] = draw(st.integers(0, 90))
    return ev


@st.composite
def demand_selector(draw: st.DrawFn, data: dict) -> dict:
    dems = demand_sectors(data)
    _did, d = draw(st.sampled_from(dems))
    how = draw(st.sampled_from(["ids", "country", "sector", "material", "country_sector"]))
    if how == "ids":
        return {"demand": draw(st.lists(st.sampled_from([i for i, _ in dems]), min_size=1,
                                        unique=True))}
    if how == "country":
        return {"country": d["country"]}
    if how == "sector":
        return {"sector": d["sector"]}
    if how == "material":
        return {"material": d["material"]}
    return {"country": d["country"], "sector": d["sector"]}


@st.composite
def demand_shock(draw: st.DrawFn, data: dict, at: int | None = None,
                 multiplier: float | None = None) -> dict:
    start = _start(draw, data, at)
    ev = {"type": "demand_shock", **draw(demand_selector(data)),
          "multiplier": multiplier if multiplier is not None else draw(
              st.sampled_from([0.0, 0.5, 1.5, 2.0]) | floats(0, 3)),
          "start": date(start)}
    _set(ev, end=_maybe_end(draw, start))
    if draw(st.booleans()):
        ev["ramp_days"] = draw(st.integers(0, 60))
    return ev


@st.composite
def substitution(draw: st.DrawFn, data: dict, at: int | None = None) -> dict:
    return {"type": "substitution", **draw(demand_selector(data)),
            "start": date(_start(draw, data, at)),
            "delay_days": draw(st.integers(0, 180)),
            "max_share": draw(floats(0, 1)),
            "rate_pa": draw(floats(0.01, 2))}


@st.composite
def logistics_disruption(draw: st.DrawFn, data: dict, at: int | None = None,
                         capacity_tpy: float | None = None) -> dict:
    start = _start(draw, data, at)
    ev: dict[str, Any] = {"type": "logistics_disruption", "start": date(start)}
    _set(ev, origin=draw(st.none() | st.sampled_from(CODES)),
         destination=draw(st.none() | st.sampled_from(CODES)),
         end=_maybe_end(draw, start))
    mats = draw(st.lists(st.sampled_from(CHAIN), unique=True, max_size=2))
    if mats:
        ev["materials"] = mats
    if draw(st.booleans()):
        ev["extra_days"] = draw(st.integers(0, 30))
    cap = capacity_tpy if capacity_tpy is not None else draw(
        st.none() | st.just(0.0) | floats(0, 5000))
    _set(ev, capacity_tpy=cap)
    return ev


@st.composite
def lane_days_event(draw: st.DrawFn, data: dict,
                    routes: list[tuple[str, str, str]] | None = None) -> dict:
    """An event that changes the days of a lane a buyer orders on, and ends or is announced
    inside the run: a shipping delay on one of ``routes`` (origin, destination, material;
    default: the sourced imports), or an announced licence regime with pre-buying (what
    ``stale_lead`` must follow; random events rarely hit both)."""
    sourced = sorted((sup, src["country"], src["material"])
                     for src in data["sourcing"].values() for sup in src["suppliers"])
    routes = routes or [r for r in sourced if r[0] != r[1]] or sourced
    origin, destination, material = draw(st.sampled_from(routes))
    H = horizon(data)
    start = draw(st.integers(0, max(0, H - 2)))
    if draw(st.booleans()):
        return {"type": "logistics_disruption", "origin": origin, "destination": destination,
                "materials": [material], "start": date(start),
                "end": date(start + draw(st.integers(1, max(1, min(120, H - 1 - start))))),
                "extra_days": draw(st.integers(1, 30))}
    effective = start + draw(st.integers(1, 60))
    ev: dict[str, Any] = {"type": "export_control", "exporter": origin, "mode": "licence",
                          "materials": [material], "destinations": [destination],
                          "announced": date(start), "effective": date(effective),
                          "prebuy_cover_days": draw(floats(1, 60)),
                          "licence": {"approval_probability": draw(floats(0.5, 1)),
                                      "delay_days": draw(st.integers(1, 45))}}
    _set(ev, end=_maybe_end(draw, effective))
    return ev


@st.composite
def with_lane_days_events(draw: st.DrawFn) -> dict:
    """A random scenario with random events plus one or two :func:`lane_days_event` on
    routes that carry material in the run without them (most random routes carry none)."""
    from simulator.engine import run_replication

    switching = draw(st.sampled_from([False, False, None]))  # re-sharing hides a stale lead
    data = draw(scenario_data(max_events=3, switching=switching))
    flows = run_replication(scenario_of(data), seed=0, replication=0).flows
    moved = flows[flows["tonnes"] > 0].groupby(["origin", "destination", "material"]).size()
    routes = sorted(r for r in map(tuple, moved.index) if r[0] != r[1]) or None  # imports
    for i in range(draw(st.integers(1, 2))):
        data["events"][f"days{i}"] = draw(lane_days_event(data, routes))
    scenario_of(data)
    return data


@st.composite
def tariff(draw: st.DrawFn, data: dict, at: int | None = None) -> dict:
    start = _start(draw, data, at)
    ev: dict[str, Any] = {
        "type": "tariff",
        "importers": draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True)),
        "exporters": draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True)),
        "rate": draw(st.sampled_from([-0.5, 0.1, 0.25, 0.5, 1.0, 2.0])),
        "start": date(start),
    }
    mats = draw(st.lists(st.sampled_from(CHAIN), unique=True, max_size=2))
    if mats:
        ev["materials"] = mats
    if draw(st.booleans()):
        ev["elasticity"] = draw(floats(0, 2))
    if draw(st.booleans()):
        ev["prohibitive_rate"] = draw(st.sampled_from([0.5, 1.0, 3.0]))
    _set(ev, end=_maybe_end(draw, start))
    return ev


@st.composite
def offtake(draw: st.DrawFn, data: dict, at: int | None = None) -> dict:
    """A contract on one scenario plant's output, by shares (summing to at most 1) or by
    volumes, to one to three buyer countries."""
    start = _start(draw, data, at)
    buyers = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True))
    ev: dict[str, Any] = {"type": "offtake",
                          "facility": draw(st.sampled_from(sorted(data["facilities"]))),
                          "start": date(start)}
    ev.update(offtake_terms(draw, buyers))
    _set(ev, end=_maybe_end(draw, start))
    return ev


@st.composite
def new_facility(draw: st.DrawFn, data: dict, earliest: int, country: str | None = None) -> dict:
    """A plant a cooperation agreement builds: investment decision on or after ``earliest``."""
    H = horizon(data)
    assume(earliest < H - 1)
    decision = earliest + draw(st.integers(0, max(0, min(100, H - 2 - earliest))))
    construction = draw(st.integers(0, H - 1 - decision))
    return {"country": country or draw(st.sampled_from(CODES)),
            "recipe": draw(st.sampled_from(sorted(RECIPE_OF.values()))),
            "capacity_tpy": draw(floats(0, 5000)),
            "investment_decision": date(decision), "construction_days": construction,
            "ramp_up_days": draw(st.integers(0, 200)),
            "output_cover_days": draw(floats(0, 60))}


@st.composite
def cooperation_agreement(draw: st.DrawFn, data: dict, at: int | None = None,
                          members: list[str] | None = None,
                          preferred: bool | None = None, facilities: bool | None = None,
                          fid_prefix: str = "ag") -> dict:
    signed = _start(draw, data, at)
    ev: dict[str, Any] = {
        "type": "cooperation_agreement",
        "members": members or draw(st.lists(st.sampled_from(CODES), min_size=2, max_size=3,
                                            unique=True)),
        "signed": date(signed),
    }
    _set(ev, end=_maybe_end(draw, signed))
    if (facilities if facilities is not None else draw(st.booleans())) \
            and signed < horizon(data) - 1:
        n = draw(st.integers(1, 2))
        ev["facilities"] = {f"{fid_prefix}{i}": draw(
            new_facility(data, max(signed, 0), draw(st.sampled_from(ev["members"]))))
            for i in range(n)}
    if preferred if preferred is not None else draw(st.booleans()):
        ps: dict[str, Any] = {"share": draw(floats(0, 1)),
                              "qualification_days": draw(st.integers(0, 200))}
        mats = draw(st.lists(st.sampled_from(CHAIN), unique=True, max_size=2))
        if mats:
            ps["materials"] = mats
        ev["preferred_sourcing"] = ps
    if draw(st.booleans()):
        ev["shared_stockpiles"] = True
    return ev


@st.composite
def stockpile_policy(draw: st.DrawFn, data: dict, at: int | None = None) -> dict:
    start = _start(draw, data, at)
    ev: dict[str, Any] = {"type": "stockpile_policy",
                          "stockpile": draw(st.sampled_from(sorted(data["stockpiles"]))),
                          "start": date(start)}
    _set(ev, end=_maybe_end(draw, start),
         buy_tpy=draw(st.none() | floats(0, 3000)),
         target_t=draw(st.none() | floats(0, 3000)),
         release_threshold=draw(st.none() | floats(0, 1)),
         max_release_tpy=draw(st.none() | floats(0, 5000)))
    if draw(st.booleans()):
        ev["eligible_countries"] = draw(st.lists(st.sampled_from(CODES), unique=True,
                                                 max_size=2))
    if draw(st.booleans()):
        ev["sectors"] = draw(st.lists(st.sampled_from(SECTORS), unique=True, max_size=2))
    return ev


def first_day(ev: dict) -> int:
    """The first day an event may change anything (causality): an export control's
    announcement (else its effective day), an outage's start (a random one's window start),
    an agreement's signing day (its plants too), any other event's start."""
    t = ev["type"]
    if t == "export_control":
        return day_of(ev.get("announced") or ev["effective"])
    if t == "cooperation_agreement":
        return day_of(ev["signed"])
    assert ev.get("start") is not None, ev
    return day_of(ev["start"])


@st.composite
def future_facility(draw: st.DrawFn, data: dict, at: int,
                    new_pool: bool = False) -> tuple[str, dict]:
    """A scenario facility that starts on day ``at``, in a valid place (its input sourced);
    with ``new_pool``, in a country that makes none of its output yet."""
    mat = draw(st.sampled_from(CHAIN))
    inp = INPUT_OF[mat]
    places = CODES if inp is None else sorted(
        {s["country"] for s in data["sourcing"].values() if s["material"] == inp}
        | set(producers(data)[inp]))
    if new_pool:
        places = [c for c in places if c not in producers(data)[mat]]
    assume(places)
    fac = {"country": draw(st.sampled_from(places)), "recipe": RECIPE_OF[mat],
           "capacity_tpy": draw(floats(1, 5000)),
           "start_date": date(at), "ramp_up_days": draw(st.integers(0, 200)),
           "input_cover_days": draw(floats(0, 60)),
           "output_cover_days": draw(floats(0, 60))}
    return f"new_{mat}_plant", fac


def all_pairs(items: list) -> list:
    return list(itertools.permutations(items, 2))


def offtake_terms(draw: Any, buyers: list[str]) -> dict[str, dict[str, float]]:
    """An offtake's terms for ``buyers``: shares summing to at most 0.999, or volumes."""
    if draw(st.booleans()):
        raw = [draw(floats(0, 1)) for _ in buyers]
        total = max(1.0, sum(raw))
        return {"shares": {c: x / total * 0.999 for c, x in zip(buyers, raw, strict=True)}}
    return {"volumes_tpy": {c: draw(floats(0, 5000)) for c in buyers}}
