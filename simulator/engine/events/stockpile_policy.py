"""Stockpile policy changes: build-up purchases, a new target, release rules and who may
draw, from ``start`` until ``end`` (when the previous policy returns)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...scenario.events import StockpilePolicy as StockpilePolicyModel
from .base import PolicyEvent

if TYPE_CHECKING:
    from ..world import World


class StockpilePolicy(PolicyEvent):
    """A stockpile's policy replaced from ``start`` until ``end``."""

    type = "stockpile_policy"

    def __init__(self, world: World, eid: str, ev: StockpilePolicyModel):
        super().__init__(world, eid, ev)
        self.stockpile = next(s for s in world.net.stockpiles if s.pid == ev.stockpile)
        self.saved: dict = {}
        self.start_day = world.scenario.day_of(ev.start)
        self.end_day = None if ev.end is None else world.scenario.day_of(ev.end)

    def start(self, day: int) -> None:
        ev, sp, net = self.model, self.stockpile, self.world.net
        self.active = True
        self.saved.update(buy_tpd=sp.buy_tpd, target_t=sp.target_t, threshold=sp.threshold,
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
            sectors = {id(d.buyer): d.sector for d in net.demands}
            countries = {sp.country, *(ev.eligible_countries or [])}
            sp.buyers = [
                b for b in net.ordering_buyers
                if b.material == sp.material and b.country in countries
                and (ev.sectors is None or sectors.get(id(b)) in ev.sectors)
            ]

    def end(self, day: int) -> None:
        self.active = False
        sp = self.stockpile
        for key, value in self.saved.items():
            setattr(sp, key, value)
        # partners' buyers an agreement opened the reserve to while the policy ran keep
        # their access until the agreement ends
        for event in self.world.events:
            for shared_sp, b in getattr(event, "shared", ()):
                if shared_sp is sp and b not in sp.buyers:
                    sp.buyers.append(b)
