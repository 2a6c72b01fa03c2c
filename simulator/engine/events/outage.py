"""Facility outages: scheduled (start, duration, share of capacity lost, ramp) or random
(failures and repairs as a two-state Markov process with exponential times in whole days)."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING

from ...scenario.events import FacilityOutage as FacilityOutageModel
from .base import PolicyEvent

if TYPE_CHECKING:
    import numpy as np
    import simpy

    from ..network import FacilityRT
    from ..world import World


class ScheduledOutage:
    """Loses ``lost`` of capacity from ``start`` (building up over ``ramp`` days) to ``end``."""

    def __init__(self, start: int, end: int | None, lost: float, ramp: int):
        self.start, self.end, self.lost, self.ramp = start, end, lost, ramp

    def loss(self, day: int) -> float:
        if day < self.start or (self.end is not None and day >= self.end):
            return 0.0
        return self.lost * min(1.0, (day - self.start + 1) / (self.ramp + 1))


class MarkovOutage:
    """Up/down state of one facility, flipped by its failure-and-repair process."""

    def __init__(self, lost: float):
        self.lost = lost
        self.down = False

    def loss(self, day: int) -> float:
        return self.lost if self.down else 0.0


class FacilityOutage(PolicyEvent):
    """Capacity lost at the selected facilities, on a schedule or at random."""

    type = "facility_outage"

    def __init__(self, world: World, eid: str, ev: FacilityOutageModel):
        super().__init__(world, eid, ev)
        self.start_day = None if ev.start is None else world.scenario.day_of(ev.start)
        if ev.end is not None:
            self.end_day = world.scenario.day_of(ev.end)
        elif ev.duration_days is not None:
            start = -world.net.warmup_days if self.start_day is None else self.start_day
            self.end_day = start + ev.duration_days

    def facilities(self) -> list[FacilityRT]:
        """Facilities named in ``facilities`` or matching the country/stage selector."""
        ev = self.model
        return [f for f in self.world.net.facilities
                if f.fid in ev.facilities or (
                    (ev.country is not None or ev.stage is not None)
                    and ev.country in (None, f.country) and ev.stage in (None, f.stage))]

    def install(self) -> None:
        ev, world = self.model, self.world
        start = -world.net.warmup_days if self.start_day is None else self.start_day
        for f in self.facilities():
            if ev.random is None:
                f.availability.append(ScheduledOutage(start, self.end_day, ev.capacity_lost,
                                                      ev.ramp_days))
                continue
            state = MarkovOutage(ev.capacity_lost)
            f.availability.append(state)
            rng = world.streams.get(f"outage:{self.eid}:{f.fid}")
            first = world.wake(start + self._draw(rng, 365.0 / ev.random.failures_per_year))
            world.env.process(self.failures(state, rng, first))

    @staticmethod
    def _draw(rng: np.random.Generator, mean: float) -> int:
        """An exponential time with ``mean`` days, rounded up to whole days (>= 1)."""
        return max(1, math.ceil(rng.exponential(mean)))

    def failures(self, state: MarkovOutage, rng: np.random.Generator, first: simpy.Event
                 ) -> Generator[simpy.Event, object, None]:
        """One facility's failures (the first on ``first``) and repairs; no new failure from
        the end day on (a repair under way finishes)."""
        world = self.world
        fail_mean = 365.0 / self.model.random.failures_per_year
        repair_mean = self.model.random.mean_repair_days
        yield first
        while self.end_day is None or world.day() < self.end_day:
            state.down = True
            yield world.wake(world.day() + self._draw(rng, repair_mean))
            state.down = False
            yield world.wake(world.day() + self._draw(rng, fail_mean))
