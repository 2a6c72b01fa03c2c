"""Cooperation agreements: new facilities (built by the network from their investment
decision and construction time), preferred sourcing among members after qualification,
an ``agreement`` allocation tier between members, and optionally shared stockpiles."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

from ...scenario.events import CooperationAgreement
from ..network import Buyer, Lane
from ..stockpile import StockpileRT, stockpile_buyers
from .base import PolicyEvent

if TYPE_CHECKING:
    import simpy

    from ..network import FacilityRT
    from ..world import World


def member_capacity(world: World, members: set[str], material: str) -> dict[str, float]:
    """Member country -> full-rate output of ``material`` (t/day) of the plants that exist
    today (a plant still being built counts from its start day)."""
    out: dict[str, float] = {}
    for f in world.net.facilities:
        if f.country in members and f.online:
            for pool, mid, coef in f.outputs:
                if mid == material:
                    out[pool.country] = out.get(pool.country, 0.0) + f.capacity_tpd * coef
    return {c: v for c, v in out.items() if v > 0}


class Agreement(PolicyEvent):
    """A cooperation agreement among ``members`` from ``signed`` until ``end``."""

    type = "cooperation_agreement"

    def __init__(self, world: World, eid: str, ev: CooperationAgreement):
        super().__init__(world, eid, ev)
        self.members = set(ev.members)
        self.start_day = world.scenario.day_of(ev.signed)
        self.end_day = None if ev.end is None else world.scenario.day_of(ev.end)
        self.shared: list[tuple[StockpileRT, Buyer]] = []
        """Partners' buyers given access to members' stockpiles at signing."""
        self.preferring = False
        self.own_shares: dict[int, dict[int, float]] = {}
        """id(buyer) -> {id(lane): base share} before preferred sourcing moved it."""

    def schedule(self) -> None:
        super().schedule()
        pref = self.model.preferred_sourcing
        if pref is not None:
            self.world.env.process(self.prefer(
                self.world.wake(self.start_day + pref.qualification_days)))  # type: ignore[operator]

    def start(self, day: int) -> None:
        world, net, members = self.world, self.world.net, self.members
        self.active = True
        world.partners.update((a, b) for a in members for b in members if a != b)
        if self.model.shared_stockpiles:
            sector_of = {id(d.buyer): d.sector for d in net.demands}
            for sp in net.stockpiles:
                if sp.country in members:
                    for b in stockpile_buyers(sp, net.ordering_buyers, members, sector_of):
                        if b not in sp.buyers:
                            sp.buyers.append(b)
                            self.shared.append((sp, b))

    def end(self, day: int) -> None:
        self.active = False
        for a in self.members:
            for b in self.members:
                self.world.partners.discard((a, b))
        for sp, b in self.shared:  # sharing ends with the agreement
            if b in sp.buyers:
                sp.buyers.remove(b)
        self.shared.clear()

    def prefer(self, qualified: simpy.Event) -> Generator[simpy.Event, object, None]:
        """Preferred sourcing from qualification on (SimPy process)."""
        yield qualified
        self.preferring = True
        self._reshare_members()

    def on_commission(self, facility: FacilityRT) -> None:
        """A member plant of a preferred material that starts moves members' shares again."""
        pref = self.model.preferred_sourcing
        if not self.preferring or facility.country not in self.members:
            return
        if any(not pref.materials or mid in pref.materials for _, mid, _ in facility.outputs):
            self._reshare_members()

    def _reshare_members(self) -> None:
        """Member buyers' base shares: ``1 - share`` of their own sourcing, and ``share`` on
        member suppliers split by the full-rate output of the member plants that exist (no
        move while none exists)."""
        world, net, members = self.world, self.world.net, self.members
        pref = self.model.preferred_sourcing
        for b in net.ordering_buyers:
            if b.country not in members or (pref.materials and b.material not in pref.materials):
                continue
            capacity = member_capacity(world, members, b.material)
            total = sum(capacity.values())
            if total <= 0:
                continue
            own = self.own_shares.get(id(b))
            if own is None:  # the buyer's sourcing before the agreement moved it
                own = self.own_shares[id(b)] = {id(ln): ln.base_share for ln in b.lanes}
            for lane in b.lanes:
                lane.base_share = own.get(id(lane), 0.0) * (1.0 - pref.share)
            for country, cap in sorted(capacity.items()):
                lane = next((ln for ln in b.lanes if ln.pool.country == country), None)
                if lane is None:
                    lane = world.add_lane(Lane(b, net.pools[(country, b.material)], 0.0,
                                               world.scenario.lead_time_days(country,
                                                                             b.country)))
                lane.qualification_days = None
                lane.base_share += pref.share * cap / total
            b.dirty = True
