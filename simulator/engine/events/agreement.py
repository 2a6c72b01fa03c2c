"""Cooperation agreements: new facilities (built by the network from their investment
decision and construction time), preferred sourcing among members after qualification,
an ``agreement`` allocation tier between members, and optionally shared stockpiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...scenario.events import CooperationAgreement
from ..network import Buyer, Lane, StockpileRT, stockpile_buyers

if TYPE_CHECKING:
    from ..world import World


def member_capacity(world: World, members: set[str], material: str) -> dict[str, float]:
    """Member country -> full-rate output of ``material`` (t/day), planned plants included."""
    out: dict[str, float] = {}
    for f in world.net.facilities:
        if f.country in members:
            for pool, mid, coef in f.outputs:
                if mid == material:
                    out[pool.country] = out.get(pool.country, 0.0) + f.capacity_tpd * coef
    return {c: v for c, v in out.items() if v > 0}


def install(world: World, eid: str, ev: CooperationAgreement) -> None:
    members = set(ev.members)
    net = world.net
    signed = world.scenario.day_of(ev.signed)

    added: list[tuple[StockpileRT, Buyer]] = []  # partners' buyers given access at signing

    def sign(_day: int) -> None:
        world.partners.update((a, b) for a in members for b in members if a != b)
        if ev.shared_stockpiles:
            sector_of = {id(d.buyer): d.sector for d in net.demands}
            for sp in net.stockpiles:
                if sp.country in members:
                    for b in stockpile_buyers(sp, net.ordering_buyers, members, sector_of):
                        if b not in sp.buyers:
                            sp.buyers.append(b)
                            added.append((sp, b))

    def end(_day: int) -> None:
        for a in members:
            for b in members:
                world.partners.discard((a, b))
        for sp, b in added:  # sharing ends with the agreement
            sp.buyers.remove(b)
        added.clear()

    world.at_day(signed, sign)
    if ev.end is not None:
        world.at_day(world.scenario.day_of(ev.end), end)

    pref = ev.preferred_sourcing
    if pref is None:
        return

    def prefer(day: int) -> None:
        for b in net.ordering_buyers:
            if b.country not in members or (pref.materials and b.material not in pref.materials):
                continue
            capacity = member_capacity(world, members, b.material)
            total = sum(capacity.values())
            if total <= 0:
                continue
            for lane in b.lanes:
                lane.base_share *= 1.0 - pref.share
            for country, cap in sorted(capacity.items()):
                lane = next((ln for ln in b.lanes if ln.pool.country == country), None)
                if lane is None:
                    lane = Lane(b, net.pools[(country, b.material)], 0.0,
                                world.scenario.lead_time_days(country, b.country))
                    b.lanes.append(lane)
                lane.qualification_days = None
                lane.base_share += pref.share * cap / total
            b.dirty = True

    world.at_day(signed + pref.qualification_days, prefer)
