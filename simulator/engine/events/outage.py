"""Facility outages: scheduled (start, duration, share of capacity lost, ramp) or random
(failures and repairs as a two-state Markov process with exponential times in whole days)."""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import TYPE_CHECKING

from ...scenario.events import FacilityOutage as FacilityOutageModel
from .base import PolicyEvent

if TYPE_CHECKING:
    import numpy as np

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
    """One facility's failures and repairs: a two-state Markov process drawn as a timeline.

    Times to failure and to repair are exponential, rounded up to whole days (>= 1), drawn
    from the facility's own stream in the order they happen (failure, repair, failure...),
    as far ahead as the engine asks, so the draws are the same whatever the step or the
    rest of the scenario. No failure starts on or after ``end``; a repair under way ends.
    """

    def __init__(self, lost: float, rng: np.random.Generator, start: int, end: int | None,
                 fail_mean: float, repair_mean: float):
        self.lost = lost
        self.rng = rng
        self.end = end
        self.fail_mean = fail_mean
        self.repair_mean = repair_mean
        self.flips: list[int] = []
        """Days the state flips, failures at even positions, repairs at odd ones."""
        self._next = start + self._draw(fail_mean)
        self._done = False

    def _draw(self, mean: float) -> int:
        return max(1, math.ceil(self.rng.exponential(mean)))

    def _extend(self, day: int) -> None:
        """Draw flips until the timeline is known beyond ``day``."""
        while not self._done and self._next <= day:
            flip = self._next
            failing = len(self.flips) % 2 == 0
            if failing and self.end is not None and flip >= self.end:
                self._done = True
                return
            self.flips.append(flip)
            self._next = flip + self._draw(self.repair_mean if failing else self.fail_mean)

    def loss(self, day: int) -> float:
        """Share of capacity lost on ``day``."""
        self._extend(day)
        return self.lost if bisect_right(self.flips, day) % 2 else 0.0


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
            rng = world.streams.get(f"outage:{self.eid}:{f.fid}")
            f.availability.append(MarkovOutage(
                ev.capacity_lost, rng, start, self.end_day,
                365.0 / ev.random.failures_per_year, ev.random.mean_repair_days))
