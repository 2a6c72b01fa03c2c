"""Day phases and the timed callbacks the engine is built from.

Every engine event fires at an integer day and a *phase* (its SimPy priority), so the order
of work within a day is fixed and documented, never an accident of scheduling:

1. ``ARRIVE``     shipments land in buyers' inventories;
   ``POLICY``     events start, end or change state (controls, outages, tariffs...);
2. ``PRODUCE``    facilities run, upstream stages first (``PRODUCE + stage index``);
3. ``CONSUME``    demand sectors consume and are recorded;
4. ``STOCKPILE``  strategic stockpiles release into short buyers;
5. ``ORDER``      buyers place orders on supplier countries;
6. ``ALLOCATE``   supplier pools allocate their stock and ship lots.

Events with the same day and phase run in the order they were scheduled (SimPy's event id).
"""

from __future__ import annotations

from collections.abc import Callable

import simpy
from simpy.events import Event

ARRIVE = 0
POLICY = 5
PRODUCE = 10
CONSUME = 100
STOCKPILE = 110
ORDER = 120
ALLOCATE = 130


class PhaseTimeout(Event):
    """A timeout that fires ``delay`` days from now in ``phase`` of that day.

    Raises :exc:`ValueError` if ``delay`` is negative.
    """

    def __init__(self, env: simpy.Environment, delay: int, phase: int):
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        # Inlined Event.__init__, as simpy.Timeout does, for speed.
        self.env = env
        self.callbacks = []
        self._value = None
        self._delay = delay
        self._ok = True
        env.schedule(self, phase, delay)  # type: ignore[arg-type]


class Tick(Event):
    """Periodic timed callbacks: each of ``actions(now)`` in turn, from now on every ``period``
    days in ``phase``.

    One event object is rescheduled for ever, so a step costs one heap push and no allocation
    for all the actions of a phase together. Each action counts as one engine event (the
    cost model of docs/engine.md): the actions of a phase are what would otherwise be one
    SimPy event each, run in the same order (the order they were added in).
    :meth:`World.run <simulator.engine.world.World.run>` recognises ticks and calls the actions
    directly; ``callbacks`` make a tick work under ``env.step()`` as well, with the same order.
    """

    __slots__ = ("actions", "period", "phase")

    def __init__(self, env: simpy.Environment, period: int, phase: int,
                 actions: list[Callable[[int], None]]):
        self.env = env
        self._value = None
        self._ok = True
        self.actions = actions
        self.period = period
        self.phase = phase
        self.callbacks = [self._fire]
        env.schedule(self, phase, 0)  # type: ignore[arg-type]

    def _fire(self, _event: Event) -> None:
        env = self.env
        for action in self.actions:
            action(env.now)  # type: ignore[arg-type]
        self.callbacks = [self._fire]
        env.schedule(self, self.phase, self.period)  # type: ignore[arg-type]
