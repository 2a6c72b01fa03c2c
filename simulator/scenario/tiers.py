"""Market tiers: which countries' buyers share a price (docs/markets.md, "Tiers").

With ``market.home`` (the controlling exporter, e.g. ``CN``) each priced material has a home
tier (``CN``) and one **export tier per controlled group of destinations**: the countries
outside ``home`` are grouped by the set of ``home``'s export controls that select the
material (by material or element) and name them as destinations. Countries no such control
names, or the group every control names alike, form ``ex-CN``; a group some control singles
out is ``ex-CN:JP,US`` (its countries, sorted). A control of every destination makes no
group, so such scenarios have one export tier, ``ex-CN``, as before. Without ``home`` there
is one ``world`` tier.

The grouping is a property of the scenario (the same in every replication and on every day):
the engine links the groups into one market while no control in force tells them apart
(:mod:`simulator.engine.market`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .models import Market, Scenario

__all__ = [
    "WORLD",
    "ExportTier",
    "export_tiers",
    "price_ceilings",
    "tier_names",
    "tier_of_country",
]

WORLD = "world"


@dataclass(frozen=True)
class ExportTier:
    """One export tier of a priced material: its name, its countries and the ids of the
    controls (export controls by ``market.home``) that name them, in declaration order."""

    name: str
    countries: frozenset[str]
    controls: tuple[str, ...]


def tier_names(home: str | None) -> tuple[str, str | None]:
    """(home tier, base export tier) names: ``("CN", "ex-CN")``, or ``("world", None)``."""
    return (WORLD, None) if home is None else (home, f"ex-{home}")


def export_tiers(scenario: Scenario) -> dict[str, list[ExportTier]]:
    """Priced material -> its export tiers, the base tier (``ex-<home>``) first, then the
    others by name; empty when the market is off or has no ``home``.

    A material no partial control selects has the one tier ``ex-<home>`` of every country
    outside ``home``."""
    market = scenario.market
    home = market.home
    if not market.enabled or home is None:
        return {}
    others = [c for c in scenario.countries if c != home]
    controls = [(eid, ev) for eid, ev in scenario.events.items()
                if ev.type == "export_control" and ev.exporter == home]
    chosen = [(eid, ev.destination_set(others), ev.selected_materials(scenario.materials))
              for eid, ev in controls]
    out: dict[str, list[ExportTier]] = {}
    for mid in market.prices:
        naming = [(eid, dests) for eid, dests, selected in chosen if mid in selected]
        groups: dict[tuple[str, ...], list[str]] = {}
        for country in others:
            key = tuple(eid for eid, dests in naming if country in dests)
            groups.setdefault(key, []).append(country)
        out[mid] = _named(home, groups)
    return out


def _named(home: str, groups: dict[tuple[str, ...], list[str]]) -> list[ExportTier]:
    """Name the groups: the one whose controls every other group's include is ``ex-<home>``
    (one group: that one), the others by their countries."""
    keys = list(groups)
    base = [k for k in keys if all(set(k) <= set(other) for other in keys)]
    base_name = f"ex-{home}"
    tiers = [ExportTier(base_name if base and key == base[0]
                        else f"{base_name}:" + ",".join(sorted(countries)),
                        frozenset(countries), key)
             for key, countries in groups.items()]
    return sorted(tiers, key=lambda t: (t.name != base_name, t.name))


def tier_of_country(scenario: Scenario) -> dict[str, dict[str, str]]:
    """Priced material -> country -> the name of its tier (``world`` for every country
    without ``home``); empty when the market is off."""
    market = scenario.market
    if not market.enabled:
        return {}
    home = market.home
    if home is None:
        return {mid: dict.fromkeys(scenario.countries, WORLD) for mid in market.prices}
    out: dict[str, dict[str, str]] = {}
    for mid, tiers in export_tiers(scenario).items():
        of = {home: home}
        for tier in tiers:
            of.update(dict.fromkeys(tier.countries, tier.name))
        out[mid] = of
    return out


def price_ceilings(model: Market, tiers: Mapping[str, list[ExportTier]] | None = None
                   ) -> dict[tuple[str, str], float]:
    """(material, tier) -> the highest price the formation can reach (USD/kg): the tier's
    reference price times ``max_multiple``; none when the market is off. ``tiers`` are the
    material's export tiers (:func:`export_tiers`; default: the one ``ex-<home>``)."""
    home_tier, export_tier = tier_names(model.home)
    out: dict[tuple[str, str], float] = {}
    if not model.enabled:
        return out
    for mid, ref in model.prices.items():
        out[(mid, home_tier)] = ref.domestic * model.max_multiple
        if export_tier is not None:
            names = [t.name for t in (tiers or {}).get(mid, [])] or [export_tier]
            for name in names:
                out[(mid, name)] = ref.export_reference * model.max_multiple
    return out
