"""Investment subsidies and co-financing: a lower incentive price for plants built on price
(docs/events.md, ``investment_subsidy``; docs/markets.md, "Policy instruments").

While in force, each backed plant's investment decision compares its price with

    incentive = max(0, incentive_price * (1 - share) - usd_per_kg)

(several subsidies in force on one plant apply one after the other, in declaration order).
The market price does not move; a project committed under a subsidy is built whatever
happens to the subsidy later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...scenario.event_checks import subsidised
from ...scenario.events import InvestmentSubsidy as SubsidyModel
from .base import PolicyEvent

if TYPE_CHECKING:
    from ..world import World


class InvestmentSubsidy(PolicyEvent):
    """A cut in the incentive price of the plants it backs."""

    type = "investment_subsidy"

    def __init__(self, world: World, eid: str, ev: SubsidyModel):
        super().__init__(world, eid, ev)
        self.keep = 1.0 - ev.share
        self.cut = ev.usd_per_kg
        self.start_day = world.scenario.day_of(ev.start)
        self.end_day = None if ev.end is None else world.scenario.day_of(ev.end)
        backed = set(subsidised(world.scenario, ev))
        projects = world.investments.projects if world.investments is not None else []
        for p in projects:
            if p.facility.fid in backed:
                p.subsidies.append(self)

    def lower(self, incentive: float) -> float:
        """The incentive price ``incentive`` (USD/kg) after this subsidy."""
        cut = incentive * self.keep - self.cut
        return cut if cut > 0.0 else 0.0
