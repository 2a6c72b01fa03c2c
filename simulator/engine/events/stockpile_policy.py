"""Stockpile policy changes: build-up purchases, a new target, release rules and who may
draw, from ``start`` until ``end`` (when the previous policy returns)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...scenario.events import StockpilePolicy

if TYPE_CHECKING:
    from ..world import World


def install(world: World, eid: str, ev: StockpilePolicy) -> None:
    net = world.net
    sp = next(s for s in net.stockpiles if s.pid == ev.stockpile)
    saved: dict = {}
    sectors = {id(d.buyer): d.sector for d in net.demands}

    def start(_day: int) -> None:
        saved.update(buy_tpd=sp.buy_tpd, target_t=sp.target_t, threshold=sp.threshold,
                     max_release_tpd=sp.max_release_tpd, buyers=list(sp.buyers))
        if ev.buy_tpy:
            sp.buy_tpd = ev.buy_tpy / 365.0
        if ev.target_t is not None:
            sp.target_t = ev.target_t
        if ev.release_threshold is not None:
            sp.threshold = ev.release_threshold
        if ev.max_release_tpy is not None:
            sp.max_release_tpd = ev.max_release_tpy / 365.0
        if ev.eligible_countries is not None or ev.sectors is not None:
            countries = {sp.country, *(ev.eligible_countries or [])}
            sp.buyers = [
                b for b in net.ordering_buyers
                if b.material == sp.material and b.country in countries
                and (ev.sectors is None or sectors.get(id(b)) in ev.sectors)
            ]

    def stop(_day: int) -> None:
        for key, value in saved.items():
            setattr(sp, key, value)

    world.at_day(world.scenario.day_of(ev.start), start)
    if ev.end is not None:
        world.at_day(world.scenario.day_of(ev.end), stop)
