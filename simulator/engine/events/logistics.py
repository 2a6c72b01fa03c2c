"""Logistics disruptions (extra lead time, a tonnage cap on routes) and tariffs (order
shares move away from taxed routes by a share elasticity; prohibitive rates stop a route;
buyers' responses to price see the landed price, the tier price times ``1 + rate``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...scenario.events import LogisticsDisruption as LogisticsDisruptionModel
from ...scenario.events import Tariff as TariffModel
from ..gate import days_in_force, in_force
from ..network import stale_lead
from .base import PolicyEvent

if TYPE_CHECKING:
    from ..network import Buyer, Lane
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
    """Extra transit days and/or a shared tonnage cap on matching international routes,
    from ``start`` to ``end`` (the trade gate applies both from their own day, see
    :mod:`..gate`; ``extra_transit_days`` is what buyers plan for)."""

    type = "logistics_disruption"

    def __init__(self, world: World, eid: str, ev: LogisticsDisruptionModel):
        super().__init__(world, eid, ev)
        self.origins = None if ev.origin is None else {ev.origin}
        self.destinations = None if ev.destination is None else {ev.destination}
        self.materials = set(ev.materials)
        self.cap_tpd = None if ev.capacity_tpy is None else ev.capacity_tpy / 365.0
        self.allowance = 0.0
        self.budget_day: int | None = None
        self.lanes: list[Lane] = []
        self.start_day = world.scenario.day_of(ev.start)
        self.end_day = None if ev.end is None else world.scenario.day_of(ev.end)

    def applies_to(self, lane: Lane) -> bool:
        return on_route(lane, self.origins, self.destinations, self.materials)

    def attach(self, lane: Lane) -> None:
        self.lanes.append(lane)
        if self.cap_tpd is not None:
            lane.caps.append(self)
            lane.pool.gated = True
        if self.model.extra_days:
            lane.delays.append(self)
            lane.pool.gated = True
        if self.active:
            lane.extra_transit_days += self.model.extra_days
            stale_lead(lane)

    def use(self, q: float) -> None:
        """Take ``q`` t from the step's budget."""
        self.allowance = max(0.0, self.allowance - q)

    def budget(self, day: int, step: int) -> float:
        """Tonnes the cap lets through in the step starting on ``day``: ``capacity_tpy / 365``
        per day in force (unused tonnes do not carry over)."""
        if day != self.budget_day:
            self.budget_day = day
            self.allowance = self.cap_tpd * days_in_force(self, day, step)  # type: ignore[operator]
        return self.allowance

    def start(self, day: int) -> None:
        self.active = True
        for lane in self.lanes:
            lane.extra_transit_days += self.model.extra_days
            stale_lead(lane)
        if self.model.extra_days > 0:  # buyers order for the longer transit today
            self.world.replan(self.lanes)

    def end(self, day: int) -> None:
        if not self.active:
            return
        self.active = False
        for lane in self.lanes:
            lane.extra_transit_days -= self.model.extra_days
            stale_lead(lane)


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
        lane.buyer.tariffed = True


def step_multiplier(lane: Lane, day: int, step: int) -> float:
    """Mean over the step's days of the product of the multipliers of the tariffs in force
    on ``lane``: a tariff that starts mid-step moves the days after its start."""
    total = 0.0
    for d in range(day, day + step):
        mult = 1.0
        for t in lane.tariffs:
            if in_force(t, d):
                mult *= t.multiplier
        total += mult
    return total / step


def still_wanted(lane: Lane, step_day: int, day: int, days: int, step: int) -> float:
    """Part (0..1) of an unfilled order on ``lane``, placed for the step from scenario
    ``step_day``, that a daily run's buyer would still place on ``day`` for ``days`` days:
    the lane's tariff multiplier then over its mean over the step (a lane a prohibitive
    tariff closed since the step began is wanted no more). 1 without tariffs."""
    if not lane.tariffs:
        return 1.0
    mean = step_multiplier(lane, step_day, step)
    if mean <= 0.0:
        return 0.0
    now = step_multiplier(lane, day, days)
    return now / mean if now < mean else 1.0


def retariff(buyer: Buyer, day: int, days: int) -> bool:
    """Set the ``policy_mult`` of ``buyer``'s tariffed lanes to their mean over ``days`` days
    from scenario ``day`` (:func:`step_multiplier`); whether any moved (then its shares
    must be recomputed)."""
    moved = False
    for lane in buyer.lanes:
        if lane.tariffs:
            mult = step_multiplier(lane, day, days)
            if mult != lane.policy_mult:
                lane.policy_mult = mult
                moved = True
    return moved


def landed_factor(buyer: Buyer, day: int, step: int) -> float:
    """The buyer's landed price over its tier price in the step ``[day, day + step)``: the
    mean over the step's days of the share-weighted mean over its lanes of the product of
    ``1 + rate`` of the tariffs in force on each (1 without any; a lane it does not order on,
    e.g. one a prohibitive tariff closed, does not count)."""
    total = 0.0
    acc = 0.0
    for lane in buyer.lanes:
        share = lane.share
        if share <= 0.0:
            continue
        total += share
        if not lane.tariffs:
            acc += share
            continue
        days = 0.0  # the lane's multipliers summed over the step's days
        for d in range(day, day + step):
            mult = 1.0
            for t in lane.tariffs:
                if in_force(t, d):
                    mult *= 1.0 + t.model.rate
            days += mult
        acc += share * (days / step)
    # While no tariff is in force ``days`` is exactly ``step`` and ``acc`` is ``total`` bit
    # for bit, so the factor is exactly 1: a tariff that starts later changes nothing before
    # it (summing ``share * mult`` day by day over ``total * step`` left it 1 +- 1e-16).
    return acc / total if total > 0.0 else 1.0
