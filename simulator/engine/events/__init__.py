"""Policy events: one module per event type, each with ``install(world, event_id, event)``.

Installing an event attaches runtimes to the network (lane controls, facility outages,
demand modifiers...) and schedules the dated changes at the ``POLICY`` phase of their day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import agreement, demand, export_control, logistics, outage, stockpile_policy

if TYPE_CHECKING:
    from ..world import World

INSTALLERS = {
    "export_control": export_control.install,
    "facility_outage": outage.install,
    "demand_shock": demand.install_shock,
    "substitution": demand.install_substitution,
    "logistics_disruption": logistics.install_disruption,
    "tariff": logistics.install_tariff,
    "cooperation_agreement": agreement.install,
    "stockpile_policy": stockpile_policy.install,
}


def install_events(world: World) -> None:
    """Install every event that happens in this replication, in declaration order."""
    for eid, event in world.net.events.items():
        INSTALLERS[event.type](world, eid, event)


def day_or_none(world: World, date) -> int | None:
    """Scenario day of ``date``, or ``None`` for no date."""
    return None if date is None else world.scenario.day_of(date)
