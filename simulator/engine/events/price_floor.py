"""Price floors: a guaranteed price for the output of plants built on price (DoD - MP
Materials, July 2025: NdPr at USD 110/kg for ten years), from ``start`` until ``end``.

While in force, the investment decision of each named plant sees the higher of its market
price and the floor (docs/markets.md, "Supply response"); a floor at or above a plant's
incentive price commits it once ``sustained_days`` have passed. The floor does not change
the market price.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...scenario.events import PriceFloor as PriceFloorModel
from .base import PolicyEvent

if TYPE_CHECKING:
    from ..world import World


class PriceFloor(PolicyEvent):
    """A floor under the price the named plants' investment decisions see."""

    type = "price_floor"

    def __init__(self, world: World, eid: str, ev: PriceFloorModel):
        super().__init__(world, eid, ev)
        self.floor = ev.floor
        self.start_day = world.scenario.day_of(ev.start)
        self.end_day = None if ev.end is None else world.scenario.day_of(ev.end)
        named = set(ev.facilities)
        projects = world.investments.projects if world.investments is not None else []
        for p in projects:
            if p.facility.fid in named:
                p.floors.append(self)
