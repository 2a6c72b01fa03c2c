"""Policy events: one class per event type (:class:`~.base.PolicyEvent` subclasses).

Installing an event attaches it to every lane it applies to (and, through
:meth:`World.add_lane <simulator.engine.world.World.add_lane>`, to every lane created later),
to facilities or demand sectors, and starts the SimPy process that runs its dated changes in
the policy phase of their day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import (
    agreement,
    demand,
    export_control,
    logistics,
    offtake,
    outage,
    price_floor,
    stockpile_policy,
    subsidy,
)
from .base import REGISTRY, PolicyEvent

if TYPE_CHECKING:
    from ..world import World

__all__ = ["REGISTRY", "PolicyEvent", "agreement", "demand", "export_control", "install_events",
           "logistics", "offtake", "outage", "price_floor", "stockpile_policy", "subsidy"]


def install_events(world: World) -> list[PolicyEvent]:
    """Install every event that happens in this replication, in declaration order."""
    events = []
    for eid, model in world.net.events.items():
        event = REGISTRY[model.type](world, eid, model)
        world.events.append(event)
        event.install()
        events.append(event)
    return events
