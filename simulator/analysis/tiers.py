"""What a market tier's price stands for when a control hits only some of its buyers.

The export tier is every buyer outside ``market.home`` (docs/markets.md, "Tiers"), so an
export control of the home country aimed at some destinations raises the price all of them
are recorded at: the price is that of the controlled destinations' buyers, not of the
others. :func:`tier_notes` says so, per priced material, for figures and reports.
"""

from __future__ import annotations

from ..scenario.models import Scenario

__all__ = ["partial_controls", "tier_notes"]


def partial_controls(scenario: Scenario) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Priced material -> ``(event id, controlled destinations)`` of each export control by
    ``market.home`` that selects it (by material or element) and leaves some other country
    uncontrolled; empty without a home tier."""
    market = scenario.market
    home = market.home
    if not market.enabled or home is None:
        return {}
    others = set(scenario.countries) - {home}
    out: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for eid, ev in scenario.events.items():
        if ev.type != "export_control" or ev.exporter != home:
            continue
        chosen = ev.destination_set(others)
        if not chosen or chosen == others:
            continue
        selected = ev.selected_materials(scenario.materials)
        for mid in market.prices:
            if mid in selected:
                out.setdefault(mid, []).append((eid, tuple(sorted(chosen))))
    return out


def tier_notes(scenarios: list[Scenario]) -> dict[str, str]:
    """Priced material -> a one-line note on its export tier where a control of some of its
    buyers (:func:`partial_controls`) makes the recorded export price theirs: the controlled
    destinations of every distinct control of the given scenarios, in order."""
    seen: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    home = None
    for sc in scenarios:
        for mid, controls in partial_controls(sc).items():
            home = sc.market.home
            seen.setdefault(mid, [])
            seen[mid] += [c for c in controls if c not in seen[mid]]
    return {mid: f"ex-{home}: the price in " + "; ".join(", ".join(d) for _, d in controls)
            + " (only they are controlled)" for mid, controls in seen.items()}
