"""What every policy event has in common: one class per event type, one small interface.

A :class:`PolicyEvent` is one scenario event in one replication. It says

- which lanes it applies to (:meth:`~PolicyEvent.applies_to`) and what it does to such a
  lane (:meth:`~PolicyEvent.attach`); the world calls these for every lane there is when the
  event is installed **and for every lane created later** (an agreement's preferred
  sourcing, for instance), so no lane escapes an event whatever the order of creation;
- what happens when it starts and ends (:meth:`~PolicyEvent.start`, :meth:`~PolicyEvent.end`),
  on their own days, in the policy phase, run by a SimPy process (:meth:`~PolicyEvent.run`).

Adding an event type is one subclass in a module of this package with ``type`` set to the
scenario model's ``type`` (it registers itself), its model in ``simulator/scenario/events.py``,
its docs page section and its tests.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import simpy

    from ..network import FacilityRT, Lane
    from ..world import World

REGISTRY: dict[str, type[PolicyEvent]] = {}
"""Event type (the scenario's ``type``) -> its class."""


class PolicyEvent:
    """One scenario event in one replication.

    Subclasses set ``type`` and override what they need; the defaults do nothing.
    ``start_day`` and ``end_day`` are scenario days (``None``: no start, i.e. from the
    beginning of the warm-up; no end, i.e. to the end of the horizon).
    """

    type: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.type:
            REGISTRY[cls.type] = cls

    def __init__(self, world: World, eid: str, model: Any):
        self.world = world
        self.eid = eid
        self.model = model
        self.active = False
        self.start_day: int | None = None
        self.end_day: int | None = None

    # -- lanes ----------------------------------------------------------------------------------
    def applies_to(self, lane: Lane) -> bool:
        """Whether this event acts on ``lane`` (a buyer's ordering relation to a supplier)."""
        return False

    def attach(self, lane: Lane) -> None:
        """Start acting on ``lane`` (one the event applies to): at install, or when the lane
        is created while the event is installed (possibly active)."""

    def on_commission(self, facility: FacilityRT) -> None:
        """A facility has started during the run (it did not exist before today)."""

    # -- time -----------------------------------------------------------------------------------
    def install(self) -> None:
        """Attach to every existing lane it applies to and start its process."""
        for lane in self.world.net.lanes:
            if self.applies_to(lane):
                self.attach(lane)
        self.schedule()

    def schedule(self) -> None:
        """Start the SimPy process that runs :meth:`start` and :meth:`end` on their days.

        The wake-up events are created here, at install, so that actions of different
        events on one day run in declaration order (starts and ends alike).
        """
        world = self.world
        first = world.wake(-world.net.warmup_days if self.start_day is None else self.start_day)
        last = None if self.end_day is None else world.wake(self.end_day)
        world.env.process(self.run(first, last))

    def run(self, first: simpy.Event, last: simpy.Event | None
            ) -> Generator[simpy.Event, object, None]:
        """The event's SimPy process: wait for the start day, start, wait for the end day,
        end."""
        yield first
        self.start(self.world.day())
        if last is not None:
            yield last
            self.end(self.world.day())

    def start(self, day: int) -> None:
        """What happens on the start day (a scenario day)."""
        self.active = True

    def end(self, day: int) -> None:
        """What happens on the end day (a scenario day)."""
        self.active = False
