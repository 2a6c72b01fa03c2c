"""The world's clock: one SimPy process that runs each day's work in a fixed order of phases.

Work within a day happens in this order (docs/engine.md, "A day, in order"):

1. *arrive*: lots whose lead time has elapsed land in their buyers' inventories;
2. *policy*: dated policy actions (events starting or ending, licence decisions...) and the
   SimPy processes waiting on :meth:`Clock.wake` run, in the order they were scheduled;
3. on step days only, the batched phases, each a list of actions run in order: produce
   (upstream stages first), consume, stockpile, order, allocate;
4. *policy* again, for actions scheduled for this very day during the batched phases (a
   licence decided with no delay).

The clock is an ordinary SimPy process (``env.process``) that waits with ``env.timeout`` for
the next day that has work: a step day, a day with a policy action or a day on which lots
arrive. Policy actions are either plain callbacks (:meth:`Clock.at`) or events that wake
waiting processes (:meth:`Clock.wake`); after waking processes the clock yields a zero
timeout so that they run before it goes on, in the order they were woken (SimPy's own
event order). Nothing here reads or writes SimPy's private state.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappop, heappush
from itertools import count

import simpy

Action = Callable[[int], None]
"""A timed callback; it gets the simulation day (``env.now``) it runs on."""


class Clock:
    """Drives one replication's :class:`simpy.Environment` day by day.

    ``phases`` are the batched actions of a step, in the order they run (set before the
    process starts); each action is called with the current simulation day every
    ``step_days`` days from day 0.
    ``land(lots)`` is called with the lots arriving on a day, in the order they were sent.
    :attr:`count` counts engine events as docs/engine.md defines them: one per action run,
    one per lot landed and one per policy action.
    """

    def __init__(self, env: simpy.Environment, step_days: int, phases: list[list[Action]],
                 land: Callable[[list], None]):
        self.env = env
        self.step_days = step_days
        self.phases = phases
        self.land = land
        self.count = 0
        self._agenda: list[tuple[int, int, object]] = []
        self._seq = count()
        self.arrival_days: list[int] = []
        """Heap of the days in :attr:`arrivals`."""
        self.arrivals: dict[int, list] = {}
        """Lots by arrival day, in the order sent (:meth:`send`; a hot loop may add to it
        directly, pushing a new day on :attr:`arrival_days`)."""

    # -- scheduling ---------------------------------------------------------------------------
    def at(self, day: int, action: Action) -> None:
        """Call ``action(day)`` in the policy phase of simulation day ``day`` (or of the
        current day, if ``day`` has passed)."""
        heappush(self._agenda, (max(day, int(self.env.now)), next(self._seq), action))

    def wake(self, day: int) -> simpy.Event:
        """An event that succeeds in the policy phase of simulation day ``day`` (or of the
        current day, if ``day`` has passed): ``yield clock.wake(day)`` in a process."""
        event = self.env.event()
        heappush(self._agenda, (max(day, int(self.env.now)), next(self._seq), event))
        return event

    def send(self, lot: object, day: int) -> None:
        """Put ``lot`` on the list of lots that arrive on simulation day ``day`` (> now)."""
        lots = self.arrivals.get(day)
        if lots is None:
            lots = self.arrivals[day] = []
            heappush(self.arrival_days, day)
        lots.append(lot)

    # -- the process --------------------------------------------------------------------------
    def run(self) -> Generator[simpy.Event, None, None]:
        """The clock's SimPy process (start it with ``env.process(clock.run())``)."""
        env = self.env
        step = self.step_days
        agenda, arrival_days, arrivals = self._agenda, self.arrival_days, self.arrivals
        land = self.land
        actions = [action for phase in self.phases for action in phase]
        """A step's actions in the order they run (the phases are set before the clock
        starts)."""
        now = env.now  # (and after each timeout, the day it waited for)
        next_step = int(now)
        while True:
            day = next_step
            if agenda and agenda[0][0] < day:
                day = agenda[0][0]
            if arrival_days and arrival_days[0] < day:
                day = arrival_days[0]
            yield env.timeout(day - now)
            now = day
            while arrival_days and arrival_days[0] <= day:
                lots = arrivals.pop(heappop(arrival_days))
                land(lots)
                self.count += len(lots)
            if agenda and agenda[0][0] <= day:
                yield from self._policy(day)
            if day == next_step:
                for action in actions:
                    action(day)
                self.count += len(actions)
                next_step += step
                if agenda and agenda[0][0] <= day:
                    yield from self._policy(day)

    def _policy(self, day: int) -> Generator[simpy.Event, None, None]:
        """Run the policy actions due by ``day``, and let woken processes run, until none
        are left (an action may schedule another for the same day)."""
        agenda = self._agenda
        while agenda and agenda[0][0] <= day:
            _, _, item = heappop(agenda)
            self.count += 1
            if not isinstance(item, simpy.Event):
                item(day)  # type: ignore[operator]
                continue
            item.succeed(day)
            while agenda and agenda[0][0] <= day and isinstance(agenda[0][2], simpy.Event):
                _, _, item = heappop(agenda)
                self.count += 1
                item.succeed(day)  # type: ignore[union-attr]
            # the woken processes run now, in the order they were woken, before the clock
            # goes on to the next action
            yield self.env.timeout(0)
