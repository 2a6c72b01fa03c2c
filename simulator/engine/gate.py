"""Policy on trade within a step: which part of each order may ship, when, and how.

A step's order on a lane stands for the step's daily orders. Export controls, quotas and
logistics disruptions apply from their own day, so the step is cut into **segments** at every
day inside it on which a policy on the lane starts or ends, and each
segment's share of the order (its days over the step's) follows the policies in force on its
first day:

- the deciding export control (a ban before a quota before a licence; among one mode, the
  one that took effect last, then the one declared last): a ban refuses the part; a licence
  files an application on the segment's first day;
- capacity caps in force (quotas, logistics caps): the parts they cover share the cap's
  budget for the step, pro rata;
- logistics delays in force add their extra days to the part's lead time; the part departs
  on the segment's first day.

With no change inside the step (the usual case) an order is one part, as before.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .network import Lane

Part = tuple[int, "Lane", float, object, int, int, int]
"""(order index, lane, tonnes, licence control or None, day offset in the step, extra
transit days, days of orders the part stands for: its segment's)."""


def in_force(event: object, day: int) -> bool:
    """Whether a dated policy (``start_day``/``end_day``, ``None`` = open) is in force."""
    start, end = event.start_day, event.end_day  # type: ignore[attr-defined]
    return (start is None or day >= start) and (end is None or day < end)


def segments(lane: Lane, day: int, step: int) -> list[tuple[int, int]]:
    """(offset, days) of the pieces of the step ``[day, day + step)`` within which no policy
    on ``lane`` starts or ends, nor a licence regime in force starts a new application
    window (``application_days``: each window's part is filed on its own first day)."""
    cuts = set()
    for group in (lane.controls, lane.caps, lane.delays):
        for ev in group:
            for edge in (ev.start_day, ev.end_day):
                if edge is not None and day < edge < day + step:
                    cuts.add(edge - day)
    for ev in lane.controls:
        window = ev.window_days  # type: ignore[attr-defined]
        if window and ev.start_day < day + step and (ev.end_day is None or ev.end_day > day):
            edge = day - day % window + window
            while edge < day + step:
                cuts.add(edge - day)
                edge += window
    if not cuts:
        return [(0, step)]
    bounds = [0, *sorted(cuts), step]
    return [(a, b - a) for a, b in pairwise(bounds)]


def deciding(lane: Lane, day: int):
    """The export control whose terms a lot on ``lane`` follows on ``day``, or ``None``."""
    best = None
    for c in lane.controls:
        if in_force(c, day) and (best is None or c.precedence < best.precedence):
            best = c
    return best


def gate(orders: list[tuple[Lane, float]], day: int, step: int,
         cuts: list[float] | None = None) -> list[Part]:
    """Vet a pool's orders for the step starting on scenario ``day``: the parts that may
    ship, in the order of ``orders`` (refused parts have 0 t).

    A policy that shortens a lane's wait from a day inside the step (a licence regime that
    eases or ends, a logistics delay that ends) shrinks the parts after it by what the
    buyer would not have ordered from that day with daily steps: its use over the days of
    wait saved (a daily run's order-up-to level drops by that much on the day). The tonnes
    cut from each order are added to ``cuts`` (by order index), if given: they were never
    ordered. (A policy that lengthens the wait mid-step asks for a top-up on its day
    instead: :meth:`~.ordering.Ordering.replan`.)"""
    parts: list[Part] = []
    capped: dict[int, list[int]] = {}  # id(cap) -> indices of the parts it limits
    caps: dict[int, object] = {}
    for i, (lane, q) in enumerate(orders):
        planned = 0.0
        cut = 0.0
        for offset, days in segments(lane, day, step):
            d = day + offset
            part = q if days == step else q * days / step
            ctrl = deciding(lane, d) if lane.controls else None
            licence = None
            if ctrl is not None and ctrl.mode == "ban":
                part = 0.0
            elif ctrl is not None and ctrl.mode == "licence":
                licence = ctrl
            extra = 0
            for ev in lane.delays:
                if in_force(ev, d):
                    extra += ev.model.extra_days
            if offset == 0:
                planned = wait(lane, licence, extra, step)
            elif part > 0.0:  # the wait planned for at the step's start, less
                saved = planned - wait(lane, licence, extra, step)  # today's
                if saved > 0.0:
                    more = lane.buyer.usage_per_day * lane.share * saved - cut
                    if more > 0.0:
                        more = min(more, part)
                        part -= more
                        cut += more
            for cap in lane.caps:
                if in_force(cap, d):
                    capped.setdefault(id(cap), []).append(len(parts))
                    caps[id(cap)] = cap
            parts.append((i, lane, part, licence, offset, extra, days))
        if cut and cuts is not None:
            cuts[i] = cut
    for key, idx in capped.items():
        cap = caps[key]
        budget = cap.budget(day, step)  # type: ignore[attr-defined]
        want = sum(parts[j][2] for j in idx)
        if want > budget:
            scale = budget / want
            for j in idx:
                i, lane, q, licence, offset, extra, days = parts[j]
                parts[j] = (i, lane, q * scale, licence, offset, extra, days)
    return parts


def wait(lane: Lane, licence: object, extra_days: int, step: int) -> float:
    """Days a buyer plans to wait for a lot on ``lane`` under ``licence`` (or none) and
    ``extra_days`` of logistics delay: the lane's days, at least a day (the buyer's planned
    lead in :class:`~.ordering.Ordering`, without its rule for a cover shorter than a
    mid-step lot's wait)."""
    days = lane.lead_days + lane.extra_cover_days + extra_days
    if licence is not None:
        days += licence.expected_delay(lane.buyer.country)  # type: ignore[attr-defined]
    return days if days > 1.0 else 1.0


def days_in_force(event: object, day: int, step: int) -> int:
    """Days of ``[day, day + step)`` on which ``event`` is in force."""
    start, end = event.start_day, event.end_day  # type: ignore[attr-defined]
    lo = day if start is None else max(day, start)
    hi = day + step if end is None else min(day + step, end)
    return max(0, hi - lo)
