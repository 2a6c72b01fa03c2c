"""Warnings: events (and market responses) that are valid but contradict each other or can
do nothing.

A warning is a :class:`~simulator.scenario.errors.Problem` whose message starts with
``warning:``. ``critmin validate`` prints them (``--strict`` makes them errors) and ``critmin
run`` prints them and runs. They are looked for on scenarios that validated.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from .errors import Path, Problem
from .models import Scenario, cost_routes

WARNING = "warning: "
_STRENGTH = {"ban": 3, "quota": 2, "licence": 1}
"""Which control decides a lane when several apply (docs/events.md): a ban over a quota over a
licence."""


def is_warning(problem: Problem) -> bool:
    """Whether ``problem`` is a warning rather than an error."""
    return problem.message.startswith(WARNING)


def event_warnings(s: Scenario) -> list[Problem]:
    """Warnings about ``s.events`` (unlocated: the loader adds positions)."""
    out: list[Problem] = []

    def warn(path: Path, message: str) -> None:
        out.append(Problem(path, WARNING + message))

    for eid, ev in s.events.items():
        base: Path = ("events", eid)
        if ev.type == "tariff":
            for i, code in enumerate(ev.exporters):
                if code in ev.importers:
                    warn((*base, "exporters", i), f"{code} is an importer too, and a tariff on "
                         f"{code}'s imports from {code} does nothing (domestic supply is not "
                         "taxed)")
        elif ev.type == "logistics_disruption":
            if ev.origin is not None and ev.origin == ev.destination:
                warn((*base, "destination"), f"origin and destination are both {ev.origin}: "
                     "domestic shipments are not trade routes, so this does nothing")
        elif ev.type == "demand_shock" and ev.multiplier == 1:
            warn((*base, "multiplier"), "multiplier 1 leaves demand unchanged")
        elif ev.type == "facility_outage" and not ev.facilities and not _outage_hits(s, ev):
            what = " and ".join(f"{k} {v}" for k, v in (("country", ev.country),
                                                          ("stage", ev.stage)) if v)
            warn(base, f"selects no facility ({what}): the outage does nothing")
        elif ev.type == "export_control" and not ev.destination_set(s.countries):
            warn((*base, "destinations"), "controls no destination (the exporter's own "
                 "sales are never controlled): the export control does nothing")
    out += _overlapping_controls(s)
    out += _idle_responses(s)
    out += _unreached_offtakes(s)
    out += _references_below_cost(s)
    return out


def _references_below_cost(s: Scenario) -> list[Problem]:
    """Priced products whose reference price, in a tier, is below what their priced inputs
    cost at their references (by the cheapest recipe; only materials every recipe of which
    makes them alone from priced inputs, as the engine's cost floor)."""
    market = s.market
    if not market.enabled:
        return []
    prices = market.prices
    tiers = [("domestic", lambda r: r.domestic)]
    if market.home is not None:
        tiers.append(("export", lambda r: r.export_reference))
    out: list[Problem] = []
    for mid, routes in cost_routes(s.recipes, set(prices)).items():
        ref = prices[mid]
        for key, of in tiers:
            costs = []
            for rid, r in routes:
                parts = [(qty / r.outputs[mid], inp, of(prices[inp]))
                         for inp, qty in r.inputs.items()]
                costs.append((sum(c * p for c, _, p in parts), rid, parts))
            cost, rid, parts = min(costs, key=lambda c: c[0])
            if of(ref) < cost * (1.0 - 1e-9):
                terms = " + ".join(f"{c:g} x {inp} {p:g}" for c, inp, p in parts)
                given = key if key == "domestic" or ref.export is not None else "domestic"
                out.append(Problem(("market", "prices", mid, given), WARNING + (
                    f"{key} reference {of(ref):g} USD/kg is below what its inputs cost at "
                    f"their references ({rid}: {terms} = {cost:g}): its makers lose money at "
                    "the references, and its cost floor (docs/markets.md, \"Cost "
                    "pass-through\") can pass its ceiling")))
    return out


def _unreached_offtakes(s: Scenario) -> list[Problem]:
    """Offtake buyer countries none of whose buyers of the material may order from the
    plant's country (no supplier, alternative or preferred sourcing between them)."""
    plants = {fid: (f.country, f.recipe) for fid, f in s.facilities.items()}
    preferred: set[frozenset[str]] = set()
    for e in s.events.values():
        if e.type == "cooperation_agreement":
            plants.update({fid: (nf.country, nf.recipe) for fid, nf in e.facilities.items()})
            if e.preferred_sourcing is not None:
                preferred |= {frozenset((a, b)) for a in e.members for b in e.members}
    out: list[Problem] = []
    for eid, ev in s.events.items():
        if ev.type != "offtake" or ev.facility not in plants:
            continue
        seller, recipe = plants[ev.facility]
        outputs = list(s.recipes[recipe].outputs) if recipe in s.recipes else []
        mid = ev.material or (outputs[0] if outputs else None)
        for code in ev.shares or ev.volumes_tpy:
            if code == seller or frozenset((code, seller)) in preferred:
                continue
            src = [x for x in s.sourcing.values() if x.country == code and x.material == mid]
            if not any(seller in x.suppliers or seller in x.alternatives for x in src):
                key = "shares" if ev.shares else "volumes_tpy"
                out.append(Problem(("events", eid, key, code), WARNING + f"no buyer of {mid} "
                                   f"in {code} orders from {seller} (sourcing): its "
                                   "entitlement is always released to other buyers"))
    return out


def _idle_responses(s: Scenario) -> list[Problem]:
    """Destocking or price-only thrifting set where no price can drive them."""
    market = s.market
    priced = set(market.prices) if market.enabled else set()
    out: list[Problem] = []
    if market.destocking.max_cover_cut > 0 and not priced:
        out.append(Problem(("market", "destocking", "max_cover_cut"), WARNING + "destocking "
                           "follows prices and no material is priced (market.prices, "
                           "market.enabled): it does nothing"))
    materials: dict[str, set[str]] = defaultdict(set)
    for d in s.demand.values():
        materials[d.sector].add(d.material)
    for sector, response in market.demand_response.sectors.items():
        t = response.thrifting
        if t.max_share > 0 and t.shortage_weight == 0 and not materials[sector] & priced:
            out.append(Problem(("market", "demand_response", "sectors", sector, "thrifting"),
                               WARNING + f"thrifting with shortage_weight 0 follows prices "
                               f"only, and no material of sector {sector!r} is priced: it "
                               "does nothing"))
    return out


def _outage_hits(s: Scenario, ev: object) -> bool:
    """Whether a facility outage's country/stage selector matches any facility, including
    plants that cooperation agreements build."""
    country, stage = getattr(ev, "country", None), getattr(ev, "stage", None)
    plants = [(f.country, f.recipe) for f in s.facilities.values()] + [
        (nf.country, nf.recipe) for e in s.events.values() if e.type == "cooperation_agreement"
        for nf in e.facilities.values()]
    return any(country in (None, c) and stage in (None, s.recipes[r].stage)
               for c, r in plants if r in s.recipes)


@dataclass(frozen=True)
class _Control:
    eid: str
    mode: str
    start: dt.date
    end: dt.date
    materials: frozenset[str]
    destinations: frozenset[str]


def _overlapping_controls(s: Scenario) -> list[Problem]:
    """A warning at each export control that a stronger one (a ban over a quota over a licence)
    of the same exporter shadows completely: every material, destination and day it covers.

    Controls are grouped by mode, materials and destinations; a group answers "does one of
    yours cover these days?" by binary search, so the cost stays near linear in the controls."""
    by_exporter: dict[str, list[_Control]] = defaultdict(list)
    for eid, ev in s.events.items():
        if ev.type != "export_control":
            continue
        mats = ev.selected_materials(s.materials)
        end = ev.end or s.end_date
        dests = ev.destination_set(s.countries)
        if ev.effective < end and dests:
            by_exporter[ev.exporter].append(_Control(
                eid, ev.mode, ev.effective, end, frozenset(mats), dests))
    out: list[Problem] = []
    for exporter, controls in by_exporter.items():
        groups: dict[tuple[str, frozenset[str], frozenset[str]], list[_Control]] = \
            defaultdict(list)
        for c in controls:
            groups[(c.mode, c.materials, c.destinations)].append(c)
        covers = {key: _Cover(members) for key, members in groups.items()}
        for c in controls:
            for (mode, mats, dests), cover in covers.items():
                if _STRENGTH[mode] > _STRENGTH[c.mode] and mats >= c.materials and \
                        dests >= c.destinations and (a := cover.covering(c)) is not None:
                    out.append(_shadowed(exporter, c, a))
                    break
    return out


class _Cover:
    """Controls of one group, to find one in effect on every day from a start to an end."""

    def __init__(self, members: list[_Control]):
        self.members = sorted(members, key=lambda c: c.start)
        self.starts = [c.start for c in self.members]
        self.longest: list[_Control] = []  # among members[:i + 1], the one ending last
        for c in self.members:
            self.longest.append(c if not self.longest or c.end > self.longest[-1].end
                                else self.longest[-1])

    def covering(self, c: _Control) -> _Control | None:
        i = bisect.bisect_right(self.starts, c.start) - 1
        return self.longest[i] if i >= 0 and self.longest[i].end >= c.end else None


def _shadowed(exporter: str, c: _Control, a: _Control) -> Problem:
    dests = sorted(c.destinations)
    more = f" and {len(dests) - 1} more" if len(dests) > 1 else ""
    return Problem(("events", c.eid, "mode"), (
        f"{WARNING}this {c.mode} does nothing: the {a.mode} of events.{a.eid} decides every "
        f"lane and day it covers ({exporter} -> {dests[0]}{more}, "
        f"{', '.join(sorted(c.materials))}, {c.start} to {c.end}); one control decides a "
        "lane, a ban over a quota over a licence"))
