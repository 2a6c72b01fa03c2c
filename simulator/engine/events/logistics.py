"""Logistics disruptions (extra lead time, a tonnage cap on routes) and tariffs (order
shares move away from taxed routes by a share elasticity; prohibitive rates stop a route)."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

from ...scenario.events import LogisticsDisruption as LogisticsDisruptionModel
from ...scenario.events import Tariff as TariffModel
from .base import PolicyEvent

if TYPE_CHECKING:
    import simpy

    from ..network import Lane
    from ..world import World


def on_route(lane: Lane, origins: set[str] | None, destinations: set[str] | None,
             materials: set[str]) -> bool:
    """Whether ``lane`` is an international route from ``origins`` to ``destinations``
    (``None``: any) carrying one of ``materials`` (empty: any)."""
    supplier, buyer = lane.pool.country, lane.buyer
    if supplier == buyer.country:
        return False  # domestic supply is not a trade route
    if origins is not None and supplier not in origins:
        return False
    if destinations is not None and buyer.country not in destinations:
        return False
    return not materials or buyer.material in materials


class LogisticsDisruption(PolicyEvent):
    """Extra transit days and/or a shared tonnage cap on matching international routes.

    The cap is an allowance refilled every step while active (unused tonnage does not carry).
    """

    type = "logistics_disruption"

    def __init__(self, world: World, eid: str, ev: LogisticsDisruptionModel):
        super().__init__(world, eid, ev)
        self.origins = None if ev.origin is None else {ev.origin}
        self.destinations = None if ev.destination is None else {ev.destination}
        self.materials = set(ev.materials)
        self.per_step = (None if ev.capacity_tpy is None
                         else ev.capacity_tpy / 365.0 * world.net.step_days)
        self.allowance = 0.0
        self.lanes: list[Lane] = []
        self.start_day = world.scenario.day_of(ev.start)
        self.end_day = None if ev.end is None else world.scenario.day_of(ev.end)

    def applies_to(self, lane: Lane) -> bool:
        return on_route(lane, self.origins, self.destinations, self.materials)

    def attach(self, lane: Lane) -> None:
        self.lanes.append(lane)
        if self.per_step is not None:
            lane.caps.append(self)
            lane.pool.gated = True
        if self.active:
            lane.extra_transit_days += self.model.extra_days

    def use(self, q: float) -> None:
        """Take ``q`` t from the step's allowance."""
        self.allowance = max(0.0, self.allowance - q)

    def run(self, first: simpy.Event, last: simpy.Event | None
            ) -> Generator[simpy.Event, object, None]:
        """Start; refill the cap every step while in force; end."""
        world, step = self.world, self.world.net.step_days
        yield first
        self.start(world.day())
        if self.per_step is None:
            if last is not None:
                yield last
                self.end(world.day())
            return
        if last is not None:
            world.env.process(self._end_on(last))
        while self.active:
            self.allowance = self.per_step
            yield world.wake(world.day() + step)

    def _end_on(self, last: simpy.Event) -> Generator[simpy.Event, object, None]:
        yield last
        self.end(self.world.day())

    def start(self, day: int) -> None:
        self.active = True
        for lane in self.lanes:
            lane.extra_transit_days += self.model.extra_days

    def end(self, day: int) -> None:
        if not self.active:
            return
        self.active = False
        for lane in self.lanes:
            lane.extra_transit_days -= self.model.extra_days


def tariff_multiplier(ev: TariffModel) -> float:
    """Share multiplier of a taxed route: 0 at or above the prohibitive rate."""
    if ev.rate >= ev.prohibitive_rate:
        return 0.0
    return max(0.0, 1.0 - ev.elasticity * ev.rate)


class Tariff(PolicyEvent):
    """A tax on routes: while active, the routes' order-share multiplier (``policy_mult``) is
    the product of the active tariffs' multipliers."""

    type = "tariff"

    def __init__(self, world: World, eid: str, ev: TariffModel):
        super().__init__(world, eid, ev)
        self.multiplier = tariff_multiplier(ev)
        self.lanes: list[Lane] = []
        self.start_day = world.scenario.day_of(ev.start)
        self.end_day = None if ev.end is None else world.scenario.day_of(ev.end)

    def applies_to(self, lane: Lane) -> bool:
        ev = self.model
        return on_route(lane, set(ev.exporters), set(ev.importers), set(ev.materials))

    def attach(self, lane: Lane) -> None:
        self.lanes.append(lane)
        lane.tariffs.append(self)
        if self.active:
            self._refresh(lane)

    @staticmethod
    def _refresh(lane: Lane) -> None:
        mult = 1.0
        for t in lane.tariffs:
            if t.active:
                mult *= t.multiplier
        lane.policy_mult = mult
        lane.buyer.dirty = True

    def start(self, day: int) -> None:
        self.active = True
        for lane in self.lanes:
            self._refresh(lane)

    def end(self, day: int) -> None:
        self.active = False
        for lane in self.lanes:
            self._refresh(lane)
