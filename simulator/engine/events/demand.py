"""Demand shocks (a multiplier with a ramp) and substitution (demand moving away from a
material at a rate, up to a maximum share, after a delay)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...scenario.events import DemandSelector
from ...scenario.events import DemandShock as DemandShockModel
from ...scenario.events import Substitution as SubstitutionModel
from .base import PolicyEvent

if TYPE_CHECKING:
    from ..network import DemandRT
    from ..world import World


def selected(world: World, sel: DemandSelector) -> list[DemandRT]:
    """Demand sectors named in ``demand`` or matching country / sector / material."""
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


class DemandShock(PolicyEvent):
    """Demand of the selected sectors times ``multiplier`` (reached over ``ramp_days``) from
    ``start`` until ``end``."""

    type = "demand_shock"

    def __init__(self, world: World, eid: str, ev: DemandShockModel):
        super().__init__(world, eid, ev)
        day = world.scenario.day_of
        self.start_day = day(ev.start)
        self.end_day = None if ev.end is None else day(ev.end)

    def install(self) -> None:
        for d in selected(self.world, self.model):
            d.modifiers.append(self)

    def factor(self, day: int) -> float:
        """Demand multiplier on scenario ``day``."""
        if day < self.start_day or (self.end_day is not None and day >= self.end_day):  # type: ignore[operator]
            return 1.0
        ev = self.model
        return 1.0 + (ev.multiplier - 1.0) * min(
            1.0, (day - self.start_day + 1) / (ev.ramp_days + 1))  # type: ignore[operator]


class Substitution(PolicyEvent):
    """A share of the selected sectors' demand leaves the material at ``rate_pa``, up to
    ``max_share``, from ``start + delay_days`` on (permanent)."""

    type = "substitution"

    def __init__(self, world: World, eid: str, ev: SubstitutionModel):
        super().__init__(world, eid, ev)
        self.start_day = world.scenario.day_of(ev.start)
        self.begin = self.start_day + ev.delay_days

    def install(self) -> None:
        for d in selected(self.world, self.model):
            d.modifiers.append(self)

    def factor(self, day: int) -> float:
        """Demand multiplier on scenario ``day``."""
        if day < self.begin:
            return 1.0
        ev = self.model
        return 1.0 - min(ev.max_share, ev.rate_pa * (day - self.begin) / 365.0)
