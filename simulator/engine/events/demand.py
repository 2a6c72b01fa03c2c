"""Demand shocks (a multiplier with a ramp) and substitution (demand moving away from a
material at a rate, up to a maximum share, after a delay)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...scenario.events import DemandSelector, DemandShock, Substitution

if TYPE_CHECKING:
    from ..network import DemandRT
    from ..world import World


class ShockRT:
    def __init__(self, start: int, end: int | None, multiplier: float, ramp: int):
        self.start, self.end, self.multiplier, self.ramp = start, end, multiplier, ramp

    def factor(self, day: int) -> float:
        if day < self.start or (self.end is not None and day >= self.end):
            return 1.0
        return 1.0 + (self.multiplier - 1.0) * min(1.0, (day - self.start + 1) / (self.ramp + 1))


class SubstitutionRT:
    def __init__(self, begin: int, max_share: float, rate_pa: float):
        self.begin, self.max_share, self.rate_pa = begin, max_share, rate_pa

    def factor(self, day: int) -> float:
        if day < self.begin:
            return 1.0
        return 1.0 - min(self.max_share, self.rate_pa * (day - self.begin) / 365.0)


def selected(world: World, sel: DemandSelector) -> list[DemandRT]:
    out = []
    for d in world.net.demands:
        if sel.demand and d.did not in sel.demand:
            continue
        if sel.country not in (None, d.buyer.country) or sel.sector not in (None, d.sector):
            continue
        if sel.material not in (None, d.buyer.material):
            continue
        out.append(d)
    return out


def install_shock(world: World, eid: str, ev: DemandShock) -> None:
    day = world.scenario.day_of
    rt = ShockRT(day(ev.start), None if ev.end is None else day(ev.end), ev.multiplier,
                 ev.ramp_days)
    for d in selected(world, ev):
        d.modifiers.append(rt)


def install_substitution(world: World, eid: str, ev: Substitution) -> None:
    rt = SubstitutionRT(world.scenario.day_of(ev.start) + ev.delay_days, ev.max_share,
                        ev.rate_pa)
    for d in selected(world, ev):
        d.modifiers.append(rt)
