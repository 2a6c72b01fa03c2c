"""Cross-reference checks of the ``events`` section; every problem at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from .errors import Path, Problem, did_you_mean
from .events import (
    AllExcept,
    DemandSelector,
    ExportControl,
    FacilityOutage,
    InvestmentSubsidy,
    Offtake,
)
from .models import Scenario
from .partial import NO_GAPS, Gaps, Ref, Table, reference_checker

Err = Callable[[Path, str], None]


@dataclass(frozen=True)
class _Tables:
    """What event references may name (None: skip references into it)."""

    countries: Table | None
    materials: Table | None
    stages: Table | None
    recipes: Table | None
    stockpiles: Table | None
    demand: Table | None
    facilities: Table | None
    all_materials: bool
    """Every material parsed (else "no material contains element" is not checked)."""
    all_demand: bool
    """Every demand sector parsed (else "selects no demand sector" is not checked)."""


def _tables(s: Scenario, gaps: Gaps) -> _Tables:
    built = [f for ev in s.events.values() if ev.type == "cooperation_agreement"
             for f in ev.facilities]
    facilities = gaps.table("facilities", sorted({*s.facilities, *built}), gaps.new_facilities)
    return _Tables(
        *(gaps.table(n, getattr(s, n))
          for n in ("countries", "materials", "stages", "recipes", "stockpiles", "demand")),
        facilities, gaps.complete("materials"), gaps.complete("demand"))


def check_events(s: Scenario, gaps: Gaps = NO_GAPS, ref: Ref | None = None) -> list[Problem]:
    """Problems in ``s.events``: unknown ids, impossible dates, empty selections.

    ``gaps`` and ``ref`` as in :func:`simulator.scenario.checks.check_scenario`; ``ref`` reports
    into the list returned here when not given.
    """
    out: list[Problem] = []
    if ref is None:
        ref = reference_checker(out)

    t = _tables(s, gaps)

    def err(path: Path, msg: str) -> None:
        out.append(Problem(path, msg))

    def in_horizon(path: Path, date: dt.date | None) -> None:
        if date is not None and s.end_date is not None and date >= s.end_date:
            err(path, f"date {date} is outside the horizon (end_date {s.end_date})")

    def ordered(path: Path, first: dt.date | None, last: dt.date | None, a: str, b: str) -> None:
        if first is not None and last is not None and last <= first:
            err(path, f"{b} {last} must be after {a} {first}")

    facility_ids = set(s.facilities)
    for eid, ev in s.events.items():
        if ev.type == "cooperation_agreement":
            for fid in ev.facilities:
                if fid in facility_ids:
                    err(("events", eid, "facilities", fid), f"facility id {fid!r} already exists")
                facility_ids.add(fid)

    for eid, ev in s.events.items():
        base: Path = ("events", eid)
        if ev.type == "export_control":
            _check_export_control(s, t, base, ev, err, ref)
            in_horizon((*base, "effective"), ev.effective)
            ordered((*base, "effective"), ev.announced, ev.effective, "announced", "effective")
            ordered((*base, "end"), ev.effective, ev.end, "effective", "end")
        elif ev.type == "facility_outage":
            for i, fid in enumerate(ev.facilities):
                ref((*base, "facilities", i), fid, t.facilities, "facility")
            _check_plant_selection(t, base, ev, err, ref, "select facilities")
            if ev.random is None and ev.start is None:
                err(base, "a scheduled outage needs a start date (or give random)")
            if ev.duration_days is not None and ev.end is not None:
                err((*base, "end"), "give duration_days or end, not both")
            in_horizon((*base, "start"), ev.start)
            ordered((*base, "end"), ev.start, ev.end, "start", "end")
        elif ev.type in ("demand_shock", "substitution"):
            _check_demand_selector(s, t, base, ev, err, ref)
            in_horizon((*base, "start"), ev.start)
            if ev.type == "demand_shock":
                ordered((*base, "end"), ev.start, ev.end, "start", "end")
        elif ev.type == "logistics_disruption":
            for key in ("origin", "destination"):
                code = getattr(ev, key)
                if code is not None:
                    ref((*base, key), code, t.countries, "country")
            for i, mid in enumerate(ev.materials):
                ref((*base, "materials", i), mid, t.materials, "material")
            in_horizon((*base, "start"), ev.start)
            ordered((*base, "end"), ev.start, ev.end, "start", "end")
        elif ev.type == "tariff":
            for key in ("importers", "exporters"):
                for i, code in enumerate(getattr(ev, key)):
                    ref((*base, key, i), code, t.countries, "country")
            for i, mid in enumerate(ev.materials):
                ref((*base, "materials", i), mid, t.materials, "material")
            in_horizon((*base, "start"), ev.start)
            ordered((*base, "end"), ev.start, ev.end, "start", "end")
        elif ev.type == "cooperation_agreement":
            for i, code in enumerate(ev.members):
                ref((*base, "members", i), code, t.countries, "country")
            for fid, nf in ev.facilities.items():
                ref((*base, "facilities", fid, "country"), nf.country, t.countries, "country")
                ref((*base, "facilities", fid, "recipe"), nf.recipe, t.recipes, "recipe")
                start = nf.investment_decision + dt.timedelta(days=nf.construction_days)
                in_horizon((*base, "facilities", fid, "construction_days"), start)
            if ev.preferred_sourcing is not None:
                for i, mid in enumerate(ev.preferred_sourcing.materials):
                    ref((*base, "preferred_sourcing", "materials", i), mid, t.materials,
                        "material")
            in_horizon((*base, "signed"), ev.signed)
            ordered((*base, "end"), ev.signed, ev.end, "signed", "end")
        elif ev.type == "price_floor":
            for i, fid in enumerate(ev.facilities):
                if ref((*base, "facilities", i), fid, t.facilities, "facility") \
                        and fid in s.facilities and s.facilities[fid].invest is None:
                    err((*base, "facilities", i), f"facility {fid!r} is not built on price "
                        "(it has no invest): a floor only moves investment decisions")
            in_horizon((*base, "start"), ev.start)
            ordered((*base, "end"), ev.start, ev.end, "start", "end")
        elif ev.type == "offtake":
            _check_offtake(s, t, base, ev, err, ref)
            in_horizon((*base, "start"), ev.start)
            ordered((*base, "end"), ev.start, ev.end, "start", "end")
        elif ev.type == "investment_subsidy":
            _check_subsidy(s, t, base, ev, err, ref)
            in_horizon((*base, "start"), ev.start)
            ordered((*base, "end"), ev.start, ev.end, "start", "end")
        elif ev.type == "stockpile_policy":
            ref((*base, "stockpile"), ev.stockpile, t.stockpiles, "stockpile")
            for i, code in enumerate(ev.eligible_countries or []):
                ref((*base, "eligible_countries", i), code, t.countries, "country")
            in_horizon((*base, "start"), ev.start)
            ordered((*base, "end"), ev.start, ev.end, "start", "end")
    return out


def _check_export_control(s: Scenario, t: _Tables, base: Path, ev: ExportControl, err: Err,
                          ref: Ref) -> None:
    ref((*base, "exporter"), ev.exporter, t.countries, "country")
    for i, mid in enumerate(ev.materials):
        ref((*base, "materials", i), mid, t.materials, "material")
    known_elements = {e for m in s.materials.values() for e, f in m.elements.items() if f > 0}
    for i, element in enumerate(ev.elements):
        if t.all_materials and element not in known_elements:
            err((*base, "elements", i), f"no material contains element {element!r}"
                f"{did_you_mean(element, sorted(known_elements))}")
    if not ev.materials and not ev.elements:
        err(base, "select what is controlled: give materials or elements")
    dests = ev.destinations
    codes = dests.all_except if isinstance(dests, AllExcept) else (
        [] if dests == "all" else dests)
    sub = ("destinations", "all_except") if isinstance(dests, AllExcept) else ("destinations",)
    for i, code in enumerate(codes):
        ref((*base, *sub, i), code, t.countries, "country")
    if ev.mode == "quota" and ev.quota_tpy is None:
        err((*base, "quota_tpy"), "mode quota needs quota_tpy")
    if ev.mode == "licence" and ev.licence is None:
        err((*base, "licence"), "mode licence needs licence terms")
    if ev.licence is not None:
        for code in ev.licence.by_destination:
            ref((*base, "licence", "by_destination", code), code, t.countries, "country")


def _check_demand_selector(s: Scenario, t: _Tables, base: Path, sel: DemandSelector, err: Err,
                           ref: Ref) -> None:
    for i, did in enumerate(sel.demand):
        ref((*base, "demand", i), did, t.demand, "demand")
    if sel.country is not None:
        ref((*base, "country"), sel.country, t.countries, "country")
    if sel.material is not None:
        ref((*base, "material"), sel.material, t.materials, "material")
    matched = [
        d for did, d in s.demand.items()
        if (not sel.demand or did in sel.demand)
        and sel.country in (None, d.country) and sel.sector in (None, d.sector)
        and sel.material in (None, d.material)
    ]
    if not matched and t.all_demand:
        err(base, "selects no demand sector")


def _recipe_of(s: Scenario, fid: str) -> str | None:
    """The recipe id of facility ``fid`` (scenario or agreement plant), or None."""
    if fid in s.facilities:
        return s.facilities[fid].recipe
    for ev in s.events.values():
        if ev.type == "cooperation_agreement" and fid in ev.facilities:
            return ev.facilities[fid].recipe
    return None


def _check_offtake(s: Scenario, t: _Tables, base: Path, ev: Offtake, err: Err,
                   ref: Ref) -> None:
    known = ref((*base, "facility"), ev.facility, t.facilities, "facility")
    recipe = s.recipes.get(_recipe_of(s, ev.facility) or "") if known else None
    if ev.material is not None:
        if ref((*base, "material"), ev.material, t.materials, "material") \
                and recipe is not None and ev.material not in recipe.outputs:
            err((*base, "material"), f"facility {ev.facility!r} does not make "
                f"{ev.material!r} (its outputs: {', '.join(recipe.outputs)})")
    elif recipe is not None and len(recipe.outputs) > 1:
        err((*base, "material"), f"facility {ev.facility!r} makes {len(recipe.outputs)} "
            f"outputs ({', '.join(recipe.outputs)}): say which is contracted")
    if bool(ev.shares) == bool(ev.volumes_tpy):
        err(base, "give the buyers' shares or their volumes_tpy (one of them)")
    for key in ("shares", "volumes_tpy"):
        for code in getattr(ev, key):
            ref((*base, key, code), code, t.countries, "country")
    total = sum(ev.shares.values())
    if total > 1.0 + 1e-9:
        err((*base, "shares"), f"shares sum to {total:g}: a plant cannot sell more than "
            "its output (at most 1)")


def _check_plant_selection(t: _Tables, base: Path, ev: FacilityOutage | InvestmentSubsidy,
                           err: Err, ref: Ref, what: str) -> bool:
    """Check the ``country`` and ``stage`` an event selects plants by; False (and an error
    saying ``what``) when it selects by nothing."""
    if ev.country is not None:
        ref((*base, "country"), ev.country, t.countries, "country")
    if ev.stage is not None:
        ref((*base, "stage"), ev.stage, t.stages, "stage")
    if not ev.facilities and ev.country is None and ev.stage is None:
        err(base, f"{what}: give facilities, country or stage")
        return False
    return True


def _check_subsidy(s: Scenario, t: _Tables, base: Path, ev: InvestmentSubsidy, err: Err,
                   ref: Ref) -> None:
    for i, fid in enumerate(ev.facilities):
        if ref((*base, "facilities", i), fid, t.facilities, "facility") \
                and fid in s.facilities and s.facilities[fid].invest is None:
            err((*base, "facilities", i), f"facility {fid!r} is not built on price (it has "
                "no invest): a subsidy only moves investment decisions")
    if _check_plant_selection(t, base, ev, err, ref, "select the plants") \
            and t.facilities is not None and not t.facilities.unparsed and not subsidised(s, ev):
        err(base, "selects no plant built on price (a facility with invest)")
    if ev.share == 0.0 and ev.usd_per_kg == 0.0:
        err(base, "lowers no incentive price: give share or usd_per_kg")


def subsidised(s: Scenario, ev: InvestmentSubsidy) -> list[str]:
    """Ids of the plants built on price that ``ev`` backs: those named, and those of its
    ``country`` and ``stage`` (both, when both are given)."""
    out = []
    for fid, f in s.facilities.items():
        if f.invest is None:
            continue
        recipe = s.recipes.get(f.recipe)
        stage = recipe.stage if recipe is not None else None
        by_class = (ev.country is not None or ev.stage is not None) and \
            ev.country in (None, f.country) and ev.stage in (None, stage)
        if fid in ev.facilities or by_class:
            out.append(fid)
    return out
