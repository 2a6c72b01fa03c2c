"""Facility outages: scheduled (start, duration, share of capacity lost, ramp) or random
(failures and repairs as a two-state Markov process with exponential times in whole days)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ...scenario.events import FacilityOutage

if TYPE_CHECKING:
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
    """Up/down state flipped by scheduled failure and repair events."""

    def __init__(self, lost: float):
        self.lost = lost
        self.down = False
        self.down_days = 0

    def loss(self, day: int) -> float:
        return self.lost if self.down else 0.0


def selected(world: World, ev: FacilityOutage) -> list[FacilityRT]:
    """Facilities named in ``ev.facilities`` or matching its country/stage selector."""
    out = []
    for f in world.net.facilities:
        if f.fid in ev.facilities or (
            (ev.country is not None or ev.stage is not None)
            and ev.country in (None, f.country) and ev.stage in (None, f.stage)
        ):
            out.append(f)
    return out


def install(world: World, eid: str, ev: FacilityOutage) -> None:
    start = -world.net.warmup_days if ev.start is None else world.scenario.day_of(ev.start)
    end = None
    if ev.end is not None:
        end = world.scenario.day_of(ev.end)
    elif ev.duration_days is not None:
        end = start + ev.duration_days
    for f in selected(world, ev):
        if ev.random is None:
            f.availability.append(ScheduledOutage(start, end, ev.capacity_lost, ev.ramp_days))
            continue
        state = MarkovOutage(ev.capacity_lost)
        f.availability.append(state)
        rng = world.streams.get(f"outage:{eid}:{f.fid}")
        fail_mean = 365.0 / ev.random.failures_per_year
        repair_mean = ev.random.mean_repair_days

        def draw(mean: float, rng=rng) -> int:
            return max(1, math.ceil(rng.exponential(mean)))

        def fail(day: int, state=state, draw=draw, repair_mean=repair_mean) -> None:
            if end is not None and day >= end:
                return
            state.down = True
            world.at_day(day + draw(repair_mean), repair)

        def repair(day: int, state=state, draw=draw, fail=fail, fail_mean=fail_mean) -> None:
            state.down = False
            world.at_day(day + draw(fail_mean), fail)

        world.at_day(start + draw(fail_mean), fail)
