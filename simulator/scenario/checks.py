"""Cross-reference checks on a (possibly partial) scenario; every problem at once."""

from __future__ import annotations

from collections import defaultdict

from .countries import is_country_code
from .errors import Path, Problem
from .event_checks import check_events
from .models import Scenario
from .partial import NO_GAPS, Gaps, Table, reference_checker

SHARE_TOLERANCE = 1e-6
MAX_HORIZON_DAYS = 50 * 366


def check_scenario(s: Scenario, gaps: Gaps = NO_GAPS) -> list[Problem]:
    """Return every cross-reference problem in ``s`` (empty list when consistent).

    ``s`` may be a partial scenario (:func:`simulator.scenario.partial.partial_scenario`):
    what ``gaps`` says was left out is not checked, nor is anything that depends on it.
    """
    out: list[Problem] = []
    ref = reference_checker(out)

    def err(path: Path, msg: str) -> None:
        out.append(Problem(path, msg))

    countries = gaps.table("countries", s.countries)
    materials = gaps.table("materials", s.materials)
    stages = gaps.table("stages", s.stages)
    recipes = gaps.table("recipes", s.recipes)
    # "no facility produces it" needs every producer: facilities, recipes, plants events build.
    all_producers = (gaps.complete("facilities", "recipes") and "events" not in gaps.fields
                     and not gaps.new_facilities)

    if s.start_date is not None and s.end_date is not None:
        if s.end_date <= s.start_date:
            err(("end_date",), f"end_date {s.end_date} must be after start_date {s.start_date}")
        elif s.horizon_days > MAX_HORIZON_DAYS:
            err(("end_date",), f"horizon of {s.horizon_days} days exceeds 50 years")

    if stages is not None and len(set(s.stages)) != len(s.stages):
        err(("stages",), "stages must be unique")
    for code in s.countries:
        if not is_country_code(code):
            err(("countries", code), f"{code!r} is not an ISO 3166-1 alpha-2 code "
                "(or a user-assigned code such as XA-XZ for aggregates)")

    for mid, mat in s.materials.items():
        if mat.stage is not None:
            ref(("materials", mid, "stage"), mat.stage, stages, "stage")
        if sum(mat.elements.values()) > 1 + SHARE_TOLERANCE:
            err(("materials", mid, "elements"), "element mass fractions sum to more than 1")

    for rid, rec in s.recipes.items():
        ref(("recipes", rid, "stage"), rec.stage, stages, "stage")
        for part in ("inputs", "outputs"):
            for mid in getattr(rec, part):
                ref(("recipes", rid, part, mid), mid, materials, "material")
        for mid in set(rec.inputs) & set(rec.outputs):
            err(("recipes", rid, "outputs", mid), f"material {mid!r} is both input and output")

    producers: dict[str, set[str]] = defaultdict(set)  # material -> producing countries
    for fid, fac in s.facilities.items():
        ref(("facilities", fid, "country"), fac.country, countries, "country")
        if ref(("facilities", fid, "recipe"), fac.recipe, recipes, "recipe"):
            for mid in s.recipes[fac.recipe].outputs:
                producers[mid].add(fac.country)
        if s.end_date is not None and fac.start_date is not None \
                and fac.start_date >= s.end_date:
            err(("facilities", fid, "start_date"),
                f"date {fac.start_date} is outside the horizon (end_date {s.end_date})")
        if fac.invest is not None:
            if fac.start_date is not None:
                err(("facilities", fid, "invest"), "a plant built on price (invest) has no "
                    "start_date: its start is the commitment day plus its lead time")
            if "market" not in gaps.fields and fac.invest.material not in s.market.prices:
                err(("facilities", fid, "invest", "material"),
                    f"{fac.invest.material!r} has no price: add it to market.prices "
                    f"(priced: {', '.join(sorted(s.market.prices)) or 'none'})")
            elif "market" not in gaps.fields and not s.market.enabled:
                err(("facilities", fid, "invest"), "market.enabled is false: no price can "
                    "call for this plant (remove invest, or enable the market)")

    for ev in s.events.values():  # plants a cooperation agreement builds produce too
        for nf in getattr(ev, "facilities", {}).values() if ev.type == "cooperation_agreement" \
                else ():
            if nf.recipe in s.recipes and nf.country in s.countries:
                for mid in s.recipes[nf.recipe].outputs:
                    producers[mid].add(nf.country)

    # Who consumes what, where: (country, material) -> paths of the consumers.
    consumers: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for fid, fac in s.facilities.items():
        if fac.recipe in s.recipes:
            for mid in s.recipes[fac.recipe].inputs:
                consumers[(fac.country, mid)].append(("facilities", fid, "recipe"))
    for did, dem in s.demand.items():
        ref(("demand", did, "country"), dem.country, countries, "country")
        if ref(("demand", did, "material"), dem.material, materials, "material"):
            consumers[(dem.country, dem.material)].append(("demand", did, "material"))

    sourced: dict[tuple[str, str], str] = {}
    for sid, src in s.sourcing.items():
        ok = ref(("sourcing", sid, "country"), src.country, countries, "country")
        ok &= ref(("sourcing", sid, "material"), src.material, materials, "material")
        total = sum(src.suppliers.values())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            err(("sourcing", sid, "suppliers"), f"shares sum to {total:.6g}, not 1")
        for sup in src.suppliers:
            if not ref(("sourcing", sid, "suppliers", sup), sup, countries, "country"):
                continue
            if ok and all_producers and sup not in producers[src.material]:
                err(("sourcing", sid, "suppliers", sup),
                    f"{sup} has no facility producing {src.material!r}")
        key = (src.country, src.material)
        if key in sourced:
            err(("sourcing", sid), f"duplicate sourcing for {key[0]} {key[1]!r} "
                f"(also sourcing.{sourced[key]})")
        sourced[key] = sid

    if all_producers and gaps.complete("sourcing"):
        for (country, mid), paths in sorted(consumers.items()):
            if (country, mid) not in sourced and country not in producers[mid]:
                err(paths[0], f"{country} consumes {mid!r} but no sourcing entry covers "
                    f"({country}, {mid}) and {country} produces none")

    if s.market.home is not None:
        ref(("market", "home"), s.market.home, countries, "country")
    for mid in s.market.prices:
        ref(("market", "prices", mid), mid, materials, "material")
    if gaps.complete("demand"):  # a demand entry that did not parse may name any sector
        sectors = Table(sorted({d.sector for d in s.demand.values()}))
        for sec in s.market.demand_response.sectors:
            ref(("market", "demand_response", "sectors", sec), sec, sectors, "sector")

    for origin, dests in s.lead_times.lanes.items():
        ref(("lead_times", "lanes", origin), origin, countries, "country")
        for dest in dests:
            ref(("lead_times", "lanes", origin, dest), dest, countries, "country")

    for pid, sp in s.stockpiles.items():
        ref(("stockpiles", pid, "country"), sp.country, countries, "country")
        ref(("stockpiles", pid, "material"), sp.material, materials, "material")
        if (sp.holdings_t is None) == (sp.holdings_days is None):
            err(("stockpiles", pid), "give exactly one of holdings_t or holdings_days")
        if sp.release.trigger == "fill_rate" and sp.release.threshold > 1:
            err(("stockpiles", pid, "release", "threshold"),
                "a fill-rate threshold is a fraction between 0 and 1")
        for i, code in enumerate(sp.eligible_countries):
            ref(("stockpiles", pid, "eligible_countries", i), code, countries, "country")
        watch = sp.release.watch
        if not isinstance(watch, str):
            demand = gaps.table("demand", s.demand)
            for i, did in enumerate(watch.demand):
                ref(("stockpiles", pid, "release", "watch", "demand", i), did, demand,
                    "demand sector")
    for sid, src in s.sourcing.items():
        for sup in src.alternatives:
            if ref(("sourcing", sid, "alternatives", sup), sup, countries, "country") and (
                    src.material in s.materials and all_producers
                    and sup not in producers[src.material]):
                err(("sourcing", sid, "alternatives", sup),
                    f"{sup} has no facility producing {src.material!r}")
    out.extend(check_events(s, gaps, ref))
    return out
