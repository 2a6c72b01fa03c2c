"""Logistics disruptions (extra lead time, a tonnage cap on routes) and tariffs (order
shares move away from taxed routes by a share elasticity; prohibitive rates stop a route)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...scenario.events import LogisticsDisruption, Tariff

if TYPE_CHECKING:
    from ..network import Lane
    from ..world import World


class CapRT:
    """A shared allowance refilled each step while active (unused tonnage does not carry)."""

    def __init__(self, per_step: float):
        self.per_step = per_step
        self.allowance = 0.0
        self.active = False

    def use(self, q: float) -> None:
        self.allowance = max(0.0, self.allowance - q)


def matching_lanes(world: World, origins, destinations, materials) -> list[Lane]:
    out = []
    for b in world.net.buyers:
        for lane in b.lanes:
            if lane.pool.country == b.country:
                continue  # domestic supply is not a trade route
            if origins is not None and lane.pool.country not in origins:
                continue
            if destinations is not None and b.country not in destinations:
                continue
            if materials and b.material not in materials:
                continue
            out.append(lane)
    return out


def install_disruption(world: World, eid: str, ev: LogisticsDisruption) -> None:
    lanes = matching_lanes(
        world,
        None if ev.origin is None else {ev.origin},
        None if ev.destination is None else {ev.destination},
        set(ev.materials),
    )
    step = world.net.step_days
    cap = None if ev.capacity_tpy is None else CapRT(ev.capacity_tpy / 365.0 * step)
    if cap is not None:
        for lane in lanes:
            lane.caps.append(cap)
            lane.pool.gated = True
    end = None if ev.end is None else world.scenario.day_of(ev.end)
    delayed = [False]

    def start(day: int) -> None:
        if ev.extra_days:
            for lane in lanes:
                lane.extra_transit_days += ev.extra_days
            delayed[0] = True
        if cap is not None:
            refill(day)

    def refill(day: int) -> None:
        if end is not None and day >= end:
            return
        cap.active = True  # type: ignore[union-attr]
        cap.allowance = cap.per_step  # type: ignore[union-attr]
        world.at_day(day + step, refill)

    def stop(_day: int) -> None:
        if delayed[0]:
            for lane in lanes:
                lane.extra_transit_days -= ev.extra_days
            delayed[0] = False
        if cap is not None:
            cap.active = False

    world.at_day(world.scenario.day_of(ev.start), start)
    if end is not None:
        world.at_day(end, stop)


class TariffRT:
    def __init__(self, multiplier: float):
        self.multiplier = multiplier
        self.active = False


def tariff_multiplier(ev: Tariff) -> float:
    """Share multiplier of a taxed route: 0 at or above the prohibitive rate."""
    if ev.rate >= ev.prohibitive_rate:
        return 0.0
    return max(0.0, 1.0 - ev.elasticity * ev.rate)


def install_tariff(world: World, eid: str, ev: Tariff) -> None:
    lanes = matching_lanes(world, set(ev.exporters), set(ev.importers), set(ev.materials))
    rt = TariffRT(tariff_multiplier(ev))
    for lane in lanes:
        lane.tariffs.append(rt)

    def set_active(day: int, on: bool) -> None:
        rt.active = on
        for lane in lanes:
            mult = 1.0
            for t in lane.tariffs:
                if t.active:
                    mult *= t.multiplier
            lane.policy_mult = mult
            lane.buyer.dirty = True

    world.at_day(world.scenario.day_of(ev.start), lambda d: set_active(d, True))
    if ev.end is not None:
        world.at_day(world.scenario.day_of(ev.end), lambda d: set_active(d, False))
