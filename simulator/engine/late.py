"""Lots that land mid-step (multi-day steps): a demand sector or a plant that ran out in the
step is served, or runs again, from the day a lot lands, and what the plant makes then goes
that day to the orders its pool could not fill, as it would with daily steps
(docs/engine.md, "Timing"). A mixin of :class:`~.world.World`."""

from __future__ import annotations

import math
from heapq import heappop, heappush
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    import simpy

    from .clock import Clock
    from .network import Buyer, FacilityRT, Network, Pool
    from .recorder import Recorder


FULL = 1.0 - 1e-12
"""A step whose demand got this share of its want is no longer short."""


def served(arrivals: list[tuple[float, float, int]], rate: float, days: int) -> float:
    """Tonnes a demand of ``rate`` t/day over ``days`` days gets from ``arrivals`` with
    daily steps: ``(day, tonnes, span)`` each, the tonnes arriving evenly over ``span``
    days from ``day`` (``span`` 0: at once; a step's order stands for a lot a day over the
    step's days). Unmet demand is lost, so the demand served by the end is
    ``min over t of (supply before t + rate * (days - t))`` and at most ``rate * days``
    (the supply less the stock left, which is smallest at a day a lot starts or ends).

    The supply is piecewise linear in t (lots at once add a step after their day, spread
    lots a slope over their span), so one sweep over those days in order finds where the
    minimum is, in O(n log n) for n lots (:class:`StepServed`); the value there is summed
    lot by lot (:func:`_value_at`), so that the result does not depend on the sweep's
    rounding."""
    return StepServed(arrivals, rate, days).served()


def _day(lot: tuple[float, float, int]) -> float:
    return lot[0]


def _value_at(arrivals: list[tuple[float, float, int]], rate: float, days: int,
              t: float) -> float:
    """``supply before t + rate * (days - t)``, the supply summed lot by lot."""
    supply = 0.0
    for day, q, span in arrivals:
        if day < t:
            supply += q if not span or t >= day + span else q * (t - day) / span
    return supply + rate * (days - t)


class StepServed:
    """:func:`served` for one buyer's step, kept up to date as its lots land in day order
    (:meth:`add`): the days before the latest lot's are final, so each landing sweeps only
    from there (the lots spread past it, and the step's end) instead of the whole step.
    Gives exactly :func:`served` of the same lots (the value at the minimum is summed lot
    by lot over ``arrivals``)."""

    __slots__ = ("arrivals", "day", "days", "ends", "fixed", "jump", "rate", "slope",
                 "supply")

    def __init__(self, arrivals: list[tuple[float, float, int]], rate: float, days: int):
        self.arrivals = arrivals
        """The step's lots so far (the caller appends to it as they land; shared)."""
        self.rate = rate
        self.days = days
        self.day: float | None = None
        """The latest lot's day: the sweep's cursor."""
        self.supply = 0.0
        """Supply before the cursor's day (its own lots at once not yet counted)."""
        self.jump = 0.0
        """Tonnes arriving at once on the cursor's day (counted after it)."""
        self.slope = 0.0
        """Tonnes a day arriving from the lots spread over the cursor's day."""
        self.ends: list[tuple[float, float]] = []
        """(day, tonnes a day) of spread lots ending after the cursor, before the end (a
        heap)."""
        self.fixed: list[tuple[float, float]] = []
        """(swept value, day) at every day up to the cursor: final."""
        for day, q, span in sorted(arrivals, key=_day):
            self.add(day, q, span)

    def add(self, day: float, q: float, span: int) -> None:
        """Count a lot of ``q`` t landing on ``day`` (no earlier than the previous lot's)
        over ``span`` days; the caller has appended it to :attr:`arrivals`."""
        if day >= self.days:
            return
        rate, days = self.rate, self.days
        if self.day is None:
            self.day = day
            self.fixed.append((rate * (days - day), day))
        elif day > self.day:
            t = self.day
            supply = self.supply + self.jump
            slope = self.slope
            ends = self.ends  # (a heap)
            while ends and ends[0][0] < day:
                end = ends[0][0]
                supply += slope * (end - t)
                t = end
                self.fixed.append((supply + rate * (days - t), t))
                while ends and ends[0][0] == end:
                    slope -= heappop(ends)[1]
            supply += slope * (day - t)
            self.fixed.append((supply + rate * (days - day), day))
            while ends and ends[0][0] == day:
                slope -= heappop(ends)[1]
            self.day, self.supply, self.jump, self.slope = day, supply, 0.0, slope
        if not span:
            self.jump += q
            return
        per_day = q / span
        self.slope += per_day
        if day + span < days:
            heappush(self.ends, (day + span, per_day))

    def served(self) -> float:
        """:func:`served` of :attr:`arrivals`."""
        rate, days = self.rate, self.days
        best = rate * days
        if self.day is None:
            return 0.0 if best > 0.0 else best  # (no lot before the end: none served)
        swept = list(self.fixed)
        t = self.day
        supply = self.supply + self.jump
        slope = self.slope
        for end, per_day in sorted(self.ends):
            supply += slope * (end - t)
            t = end
            swept.append((supply + rate * (days - t), t))
            slope -= per_day
        swept.append((supply + slope * (days - t), float(days)))
        lowest = min(swept)[0]
        if lowest >= best:
            return best
        near = 1e-9 * (abs(lowest) + best + 1.0)
        for v, at in swept:
            if v <= lowest + near:
                value = _value_at(self.arrivals, rate, days, at)
                if value < best:
                    best = value
        return best


def daily_fills(arrivals: list[tuple[float, float, int]], rate: float, days: int
                ) -> list[float]:
    """Share (0..1) of each day's demand a demand of ``rate`` t/day got over ``days`` days
    from ``arrivals`` (as :func:`served`): what a daily run's buyer saw day by day in a
    step it was short in."""
    fills = []
    before = 0.0
    for d in range(1, days + 1):
        upto = served(arrivals, rate, d)
        got = (upto - before) / rate
        fills.append(0.0 if got <= 0.0 else got if got < 1.0 else 1.0)
        before = upto
    return fills


def projected_fill(b: Buyer, lots: list[tuple[float, float, int]], step: int, now: int
                   ) -> float:
    """The share of its step's need a buyer short at the step's start (``now``, the step
    day) will have got by the step's end from the lots already on their way that land in
    the step (``(simulation day, tonnes, span)``), as :func:`served` counts it: what the
    step's recorded fill will read. A demand sector counts its step's supply so far; a
    plant's input, the stock it had against the step's desired runs."""
    plant = b.plant
    if plant is None:
        rate = b.short_rate
        arrivals = list(b.step_arrivals)
        start = b.step_end - step
    else:
        coef = next(c for buyer, c in plant.inputs if buyer is b)
        rate = plant.late_rate * coef
        arrivals = [(0.0, b.last_fill * rate * step, 0)]
        start = now
    if rate <= 0.0:
        return b.last_fill
    arrivals.extend((float(day - start), q, span) for day, q, span in lots)
    fill = served(arrivals, rate, step) / (rate * step)
    return fill if fill < 1.0 else 1.0


class LateLots:
    """What a lot landing mid-step does for a buyer that ran out earlier in the step."""

    env: simpy.Environment
    net: Network
    rec: Recorder
    produced_t: dict[str, float]
    used_t: dict[str, float]
    delivered_t: dict[str, float]
    offer_late_output: Callable[[Pool, int, int], None]
    clock: Clock
    reorder_on: Callable[[Buyer, float, int], None]

    def projected_fills(self, buyers: list[Buyer]) -> dict[int, float]:
        """For each of ``buyers`` still short in the current step (multi-day steps), the
        fill it will read at the step's end from the lots on their way that land in the
        step (:func:`projected_fill`), by ``id``; empty when none is short."""
        short = {id(b): b for b in buyers if b.short_from is not None and b.last_fill < FULL}
        if not short:
            return {}
        now = int(self.env.now)
        step = self.net.step_days
        lots: dict[int, list[tuple[float, float, int]]] = {k: [] for k in short}
        arrivals = self.clock.arrivals
        for day in range(now, now + step):  # (today's: sent today, landing after this)
            for lane, q, span in arrivals.get(day, ()):
                mine = lots.get(id(lane.buyer))
                if mine is not None:
                    mine.append((float(day), q, span))
        return {k: projected_fill(b, lots[k], step, now) for k, b in short.items()}

    def _serve_late(self, b: Buyer, q: float, span: int = 1) -> float:
        """Tonnes of a lot of ``q`` t landing today, standing for ``span`` days of orders,
        that serve ``b``'s unmet demand in the current step; updates its delivered tonnes and
        the step's recorded row (see :func:`served`)."""
        now = self.env.now
        if now >= b.step_end:
            b.short_from = None
            return 0.0
        step = self.net.step_days
        day = float(now - (b.step_end - step))
        b.step_arrivals.append((day, q, span))
        rate = b.short_rate
        want = rate * step
        sweep = b.step_sweep  # (set with step_arrivals when the buyer ran out)
        assert sweep is not None
        sweep.add(day, q, span)
        total = sweep.served()
        more = total - b.step_served
        if more <= 0.0:
            return 0.0
        if more > b.on_hand + q:  # (rounding: what it has, at most)
            more = b.on_hand + q
        b.step_served = total
        if total >= want * FULL:
            b.short_from = None
        start = b.used_to if b.used_to > now else float(now)
        days = more / rate
        b.used_to = start + days
        self._reorder_used(b, more, start, days, b.step_end)
        self.delivered_t[b.material] += more
        if b.short_row >= 0:
            self.rec.ts[3][b.short_row] += more
        b.last_fill = min(1.0, b.last_fill + more / want)
        return more

    def _reorder_used(self, b: Buyer, q: float, start: float, days: float, end: int) -> None:
        """``b`` used ``q`` t late in its step (which ends on simulation day ``end``), evenly
        over ``days`` days from simulation day ``start``: a daily run's buyer orders each
        day's use again that day, so it orders each day's part again on that day
        (:meth:`~.ordering.Ordering.reorder_on`), up to the next step's day (whose order
        has the rest in its gap). Left to the next step's order, use served by lots landing
        mid-step came back into the pipeline half a step late on average, and a buyer that
        lived on such lots (behind a licence queue) got less through at 14-day steps than
        daily. Split by day, the same use ordered in one lot or in several is ordered
        alike."""
        if q <= 0.0 or days <= 0.0:
            return
        rate = q / days
        t = start
        stop = start + days
        if stop > end:
            stop = end
        while t < stop:
            day = int(t)
            upto = day + 1.0 if day + 1.0 < stop else stop
            self.reorder_on(b, rate * (upto - t), day)
            t = upto

    def _produce_late(self, f: FacilityRT) -> None:
        """A plant whose inputs ran out in this step runs again from the day a lot lands, for
        the rest of the step at the step's desired rate, as it would with daily steps
        (docs/engine.md, "Timing"); what it makes goes at once to the step's orders its
        pools could not fill (:meth:`~.ordering.Ordering.offer_late_output`), the rest
        waits for the next step's."""
        now = self.env.now
        start = f.late_from
        if start is None:
            return
        if now >= f.late_end:
            self._stop_late(f)
            return
        if now > start:
            start = float(now)
        runs = f.late_rate * (f.late_end - start)
        for buyer, coef in f.inputs:
            avail = buyer.on_hand / coef
            if avail < runs:
                runs = avail
        if runs <= 1e-12 * f.late_rate * self.net.step_days:  # (relative: no tonnes)
            return
        share = runs / (f.late_rate * self.net.step_days)  # of the step's desired runs
        for buyer, coef in f.inputs:
            q = runs * coef
            left = buyer.on_hand - q
            buyer.on_hand = left if left > 0.0 else 0.0
            self.used_t[buyer.material] += q
            self._reorder_used(buyer, q, start, runs / f.late_rate, f.late_end)
            fill = buyer.last_fill + share
            buyer.last_fill = fill if fill < 1.0 else 1.0
        rows = f.late_rows
        made = f.made_t
        pr_day, pr_key, pr_q = self.rec.pr
        day = f.late_end - self.net.step_days - self.net.warmup_days
        for k, (pool, mid, coef) in enumerate(f.outputs):
            q = runs * coef
            pool.stock += q
            self.produced_t[mid] += q
            if made is not None:  # (an offtake contract's share of it)
                made[k] += q
            if day >= 0:
                if rows[k] < 0:
                    rows[k] = len(pr_day)
                    pr_day.append(day)
                    pr_key.append(self.rec.output(f, mid))
                    pr_q.append(0.0)
                pr_q[rows[k]] += q
        f.late_from = start + runs / f.late_rate
        if f.late_from >= f.late_end - 1e-9:
            self._stop_late(f)
        days = max(1, math.ceil(runs / f.late_rate - 1e-9))  # days of output it stands for
        for pool, _, _ in f.outputs:
            self.offer_late_output(pool, now, days)

    def _stop_late(self, f: FacilityRT) -> None:
        f.late_from = None
        for buyer, _ in f.inputs:
            buyer.short_from = None
