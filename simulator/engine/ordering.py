"""Ordering and allocation, a mixin of :class:`~.world.World`: each buyer's periodic review
(order-up-to, split by its suppliers' shares), each pool's allocation of the step's orders
(gated by policies, rationed when short), lots sent on their lanes, and the orders a policy
asks for between steps (docs/engine.md, "One step")."""

from __future__ import annotations

import math
from heapq import heappush
from typing import TYPE_CHECKING, Any

from .events.logistics import retariff, still_wanted
from .events.offtake import ration_offtakes
from .gate import gate, in_force
from .network import DUST, DUST_T, dust

if TYPE_CHECKING:
    import simpy

    from .allocation import TieredProRata
    from .clock import Clock
    from .network import Buyer, Lane, Network, Pool
    from .recorder import Recorder

FULL = 1.0 - 1e-9
"""A lot that got at least this share of its order was not short."""
TRUSTED = 1.0 - 1e-6
"""A supplier whose smoothed fill rate is back above this is trusted fully again."""


class Ordering:
    """Buyers' orders and pools' allocations (the World's state they use is declared here)."""

    env: simpy.Environment
    net: Network
    rec: Recorder
    clock: Clock
    allocation: TieredProRata
    _fill_alpha: float
    _day_fill_alpha: float
    fill_days: float
    _alpha: float
    _top_ups: dict[int, Any]
    _allocators: dict[int, list]
    _placers: dict[int, Any]
    _reorders: dict[int, list[tuple[Buyer, float]]]

    def _orderer(self, b: Buyer):
        step = self.net.step_days
        warmup = self.net.warmup_days
        a = self._fill_alpha

        cover = [b.cover_days]
        """The cover ``planned`` and ``memo`` hold for (destocking changes ``b.cover_days``)."""

        def planned(days: float) -> tuple[float, float]:
            """(lead time to order for, slack) in days. The lead is the lane's as it is (at
            least a day: a lot is used the day after it is ordered at the earliest), not
            rounded up to whole steps: a lot that lands mid-step serves the rest of the step
            if its buyer ran out in it, and what a plant makes then fills the step's unfilled
            orders that day (:meth:`offer_late_output`), as with daily steps, so a buyer's
            stock on hand and in transit is a daily run's whatever the step. The exception
            keeps a short cover safe: a lot that lands mid-step is otherwise used from the
            next step, so a buyer whose ``cover_days`` is shorter than that wait plans
            ``rounded - cover`` instead, and its stock after each step's use stays at or
            above zero (docs/engine.md, "Timing"). The slack (<= 0) is what its stock after
            a step's use then lacks of its cover: the planned lead less the days from the
            order to the step that first uses the lot (``rounded``, at least a step)."""
            rounded = -(-days // step) * step
            if rounded < step:
                rounded = step
            short = rounded - cover[0]
            used = short if short > days else days
            if used < 1.0:
                used = 1.0
            slack = used - rounded
            return used, (slack if slack < 0.0 else 0.0)

        memo: dict[float, tuple[float, float]] = {}
        """:func:`planned` by lane days (a lane's days change only with policies; the memo is
        cleared when the buyer's cover changes)."""

        def follow_cover() -> None:
            if b.cover_days != cover[0]:
                cover[0] = b.cover_days
                memo.clear()
                b.lead = None

        def lead_of(lanes: list[Lane]) -> float:
            """Share-weighted planned lead time (:func:`planned`, memoised); sets the
            buyer's :attr:`~.network.Buyer.lead_slack` with it."""
            follow_cover()
            lead = slack = 0.0
            for lane in lanes:
                if lane.share > 0.0:
                    days = (lane.lead_days + lane.extra_cover_days + lane.licence_days
                            + lane.extra_transit_days)
                    got = memo.get(days)
                    if got is None:
                        got = memo[days] = planned(days)
                    lead += lane.share * got[0]
                    slack += lane.share * got[1]
            b.lead_slack = slack
            return lead

        def place(q: float) -> None:
            """Order ``q`` t: pre-buying first, to the lane it is meant for, the rest by
            share."""
            lanes = b.lanes
            for lane in lanes:
                if lane.prebuy_t > 0.0:
                    x = min(q, lane.prebuy_t)
                    lane.prebuy_t -= x
                    lane.pool.orders.append((lane, x))
                    q -= x
            if q > dust(b.usage_per_day * step):
                for lane in lanes:
                    if lane.share > 0.0:
                        lane.pool.orders.append((lane, q * lane.share))

        def gap(now: int) -> float:
            """Between steps: what the buyer lacks of its order-up-to level on simulation day
            ``now``, its shares set by the tariffs of that day (the step's shares use the
            step's mean multiplier: a prohibitive tariff from a day inside the step would
            otherwise take a lot ordered after it starts)."""
            if b.tariffed and retariff(b, now - warmup, 1):
                b.reshare(now - warmup)
                b.dirty = True  # the next step's order takes its own mean again
            position = b.on_hand
            for lane in b.lanes:
                position += lane.on_order + lane.held_t
            lead = b.lead
            if lead is None or b.cover_days != cover[0]:  # (as in ``order``)
                lead = b.lead = lead_of(b.lanes)
            return b.usage_per_day * (b.cover_days + lead) - position

        def top_up(now: int) -> None:
            """Mid-step: order what a longer planned lead time asks for now."""
            q = gap(now)
            if q > dust(b.usage_per_day * step):
                place(q)

        def reorder(q: float, now: int) -> None:
            """Between steps: order ``q`` t again (tonnes used or denied since the step's
            order), as far as the buyer's position is below its order-up-to level: a daily
            run's buyer orders only its gap, so a buyer whose licence queue still holds
            more than it plans for orders nothing (until 2026-12-07 it re-ordered them
            whatever its position, and a step run kept more in the queue than a daily one)."""
            short = gap(now)
            if short < q:
                q = short
            if q > dust(b.usage_per_day * step):
                place(q)

        self._top_ups[id(b)] = top_up
        self._placers[id(b)] = reorder

        def order(now: int) -> None:
            lanes = b.lanes
            if b.cover_days != cover[0]:  # (destocking)
                follow_cover()
            if b.tariffed and retariff(b, now - warmup, step):  # tariffs act from their
                b.dirty = True  # own day: the step's mean multiplier
            # One pass: suppliers' fill views (unobserved ones drift back to trusted) and the
            # position; then the lead time at the (new) shares, kept while neither the shares
            # nor the lanes' days nor the buyer's cover change (``b.lead``).
            settled = True
            prebuy = False
            position = b.on_hand
            for lane in lanes:
                fill = lane.fill_seen
                if lane.observed:
                    lane.observed = False
                elif fill < 1.0:
                    fill += a * (1.0 - fill)
                    if fill > TRUSTED:
                        fill = 1.0
                    lane.fill_seen = fill
                if fill < 1.0 or lane.policy_mult != 1.0:
                    settled = False
                if lane.prebuy_t > 0.0:
                    prebuy = True
                position += lane.on_order + lane.held_t
            if b.dirty or not settled or b.short_since is not None:
                b.reshare(now - warmup)
                b.dirty = not settled
            lead = b.lead
            if lead is None:  # (also when destocking moved the cover: follow_cover)
                lead = b.lead = lead_of(lanes)
            use = b.usage_per_day
            q = use * (b.cover_days + lead) - position
            least = DUST * (use * step)  # dust(use * step), inlined
            if q > (least if least > DUST_T else DUST_T):
                if prebuy:
                    place(q)
                else:  # as place, with no pre-buying due
                    for lane in lanes:
                        share = lane.share
                        if share > 0.0:
                            lane.pool.orders.append((lane, q * share))

        return order

    def _allocator(self, p: Pool):
        warmup = self.net.warmup_days
        arrivals, arrival_days = self.clock.arrivals, self.clock.arrival_days
        rec = self.rec
        fl_day, fl_route, fl_q = rec.fl
        country = p.country
        step = self.net.step_days
        alpha = self._alpha
        a = self._fill_alpha
        self._allocators[id(p)] = allocate_on = []

        def allocate(now: int, mid_step: bool = False, span: int = 1) -> None:
            """Allocate the step's orders (``mid_step``: orders placed between steps, which
            leave the smoothed outflow alone and are vetted on their own day, their lots
            standing for ``span`` days of orders). What it cannot ship for want of stock is
            kept in :attr:`~.network.Pool.unfilled` until the step ends."""
            if not mid_step:
                if p.unfilled:  # (an empty list is kept: nothing else holds it)
                    p.unfilled = []
                p.unfilled_until = now + step
            elif p.unfilled and p.orders:  # a buyer's new order supersedes what it had
                ordered = {id(lane) for lane, _ in p.orders}  # left unfilled on that lane
                p.unfilled = [(lane, q) for lane, q in p.unfilled if id(lane) not in ordered]
            orders = p.orders
            if not orders:
                if not mid_step:
                    seen = p.released_t
                    p.released_t = 0.0
                    p.outflow_tpd += alpha * (seen / step - p.outflow_tpd)
                return
            p.orders = []
            total = 0.0
            for _, q in orders:
                total += q
            if not mid_step:
                seen = total + p.released_t  # (a release stands in for orders)
                p.released_t = 0.0
                p.outflow_tpd += alpha * (seen / step - p.outflow_tpd)
            if not p.gated and total <= p.stock:  # the common case: every order filled
                # as _ship / dispatch, inlined
                recording = now >= warmup
                day = now - warmup
                ordered_to = day + step
                stock = p.stock
                days_of = span if mid_step else step  # days of orders a lot stands for
                for lane, q in orders:
                    stock -= q
                    lane.on_order += q
                    if recording and lane.foreign:
                        route = lane.route
                        if route < 0:
                            route = lane.route = rec.route(country, lane.buyer.country,
                                                           p.material)
                        fl_day.append(day)
                        fl_route.append(route)
                        fl_q.append(q)
                    when = now + lane.lead_days + lane.extra_transit_days  # Clock.send
                    if mid_step and when == now:  # (dispatch's ``after_use``)
                        when += 1
                    lots = arrivals.get(when)
                    if lots is None:
                        lots = arrivals[when] = []
                        heappush(arrival_days, when)
                    lots.append((lane, q, days_of))
                    if not mid_step:
                        lane.ordered_to = ordered_to
                        if lane.fill_seen != 1.0:
                            lane.fill_seen += a * (1.0 - lane.fill_seen)
                        lane.observed = True
                    elif lane.ordered_to <= day:  # (a day the step's order on the lane
                        # stands for is seen once, with it: Lane.ordered_to)
                        if lane.fill_seen != 1.0:
                            w = self._day_fill_alpha if span == 1 else self.fill_weight(span)
                            lane.fill_seen += w * (1.0 - lane.fill_seen)
                        lane.observed = True
                p.stock = stock
                return
            day = now - warmup
            cuts = None
            days_of = span if mid_step else step
            if p.gated:
                cuts = [0.0] * len(orders)
                parts = gate(orders, day, days_of, cuts)
            else:
                parts = [(i, lane, q, None, 0, 0, days_of) for i, (lane, q) in enumerate(orders)]
            wanted = [(lane, q) for _, lane, q, _, _, _, _ in parts]
            total = sum(q for _, q in wanted)
            fills = wanted if total <= p.stock else (
                ration_offtakes(self.allocation, p, wanted, p.stock) if p.offtakes
                else self.allocation.ration(p, wanted, p.stock))
            if len(parts) > len(orders) and total > p.stock:
                fills = earliest_first(parts, fills)
            got = [0.0] * len(orders)
            for (i, lane, _, licence, offset, extra, days), (_, q) in zip(parts, fills,
                                                                          strict=True):
                if q > 0.0:
                    got[i] += q
                    if licence is None:
                        p.stock -= q
                        lane.on_order += q
                        self.dispatch(lane, q, now + offset, extra, days, mid_step)
                    else:
                        licence.apply(self, p, lane, q, day + offset,  # type: ignore[attr-defined]
                                      days)
                    for cap in lane.caps:
                        if in_force(cap, day + offset):
                            cap.use(q)
            if fills is not wanted:  # short: what it could not ship, for a plant's late runs
                left = [0.0] * len(orders)
                for (i, _, part, _, _, _, _), (_, q) in zip(parts, fills, strict=True):
                    if part > q:
                        left[i] += part - q
                p.unfilled.extend((orders[i][0], x) for i, x in enumerate(left)
                                  if x > dust(orders[i][1]))
            if cuts is not None and any(cuts):  # tonnes a daily run would not have ordered
                orders = [(lane, want - c if want - c > dust(want) else 0.0)
                          for (lane, want), c in zip(orders, cuts, strict=True)]
            for (lane, want), q in zip(orders, got, strict=True):
                if want > 0.0:  # (a lot of a share so small that it rounds to 0 t is not seen)
                    if not mid_step:
                        lane.ordered_to = day + step
                        self.observe(lane, q / want, day)
                    elif lane.ordered_to <= day:  # (as above: a day is seen once)
                        self.observe(lane, q / want, day, self.fill_weight(span))
                    elif q < want * FULL and day >= 0 and lane.buyer.short_since is None:
                        lane.buyer.short_since = day

        allocate_on.append(allocate)
        return allocate

    def offer_late_output(self, pool: Pool, now: int, days: int) -> None:
        """What a plant made today, mid-step, in ``pool``: the step's orders the pool could not
        fill are placed again today and allocated at once (a daily run's buyers order again
        the next day and take it; before, it waited for the next step's orders, a step late
        at every stage of a chain). Lots stand for ``days`` days of orders. An order on a
        lane a tariff taxes more today than over the step is cut in proportion
        (:func:`~.events.logistics.still_wanted`): a daily run's buyer would have ordered it
        elsewhere since."""
        if not pool.unfilled or now >= pool.unfilled_until or pool.orders:
            return
        orders, pool.unfilled = pool.unfilled, []
        if any(lane.tariffs for lane, _ in orders):  # (a tariff since the step began acts)
            warmup, step = self.net.warmup_days, self.net.step_days
            start = pool.unfilled_until - step - warmup
            orders = [(lane, q * still_wanted(lane, start, now - warmup, days, step))
                      for lane, q in orders]
            orders = [(lane, q) for lane, q in orders if q > 0.0]
            if not orders:
                return
        pool.orders = orders
        self._allocators[id(pool)][0](now, True, days)

    def fill_weight(self, days: float) -> float:
        """Weight in a buyer's view of a supplier of what ``days`` days of orders show:
        ``1 - exp(-days / switching.adjustment_days)``."""
        return -math.expm1(-days / self.fill_days)

    def observe(self, lane: Lane, seen: float, day: int, weight: float | None = None) -> None:
        """The buyer sees ``lane`` fill ``seen`` (0..1) of an order: update its view (an
        order of a step weighs a step's smoothing, ``weight`` anything else)."""
        lane.fill_seen += (self._fill_alpha if weight is None else weight) * (
            seen - lane.fill_seen)
        lane.observed = True
        if seen < FULL and day >= 0 and lane.buyer.short_since is None:
            lane.buyer.short_since = day

    def dispatch(self, lane: Lane, q: float, now: int, extra_days: int | None = None,
                 span: int = 1, after_use: bool = False) -> None:
        """Send a lot already counted in ``lane.on_order`` on simulation day ``now``: record
        it, schedule its arrival after the lane's lead time plus ``extra_days`` of logistics
        delay (default: the delays in force now). ``span``: the days of orders it stands
        for (a step's order: a daily run gets it as that many lots, a day apart).
        ``after_use``: a buyer's order between steps, which a daily run places after the
        day's use, so a lot with no lead time lands the next day (landing today it would
        serve today's unmet use, and the re-order of that use land today again)."""
        if extra_days is None:
            day = now - self.net.warmup_days
            extra_days = sum(ev.model.extra_days for ev in lane.delays if in_force(ev, day))
        if lane.foreign and now >= self.net.warmup_days:
            route = lane.route
            if route < 0:
                pool = lane.pool
                route = lane.route = self.rec.route(pool.country, lane.buyer.country,
                                                    pool.material)
            fl_day, fl_route, fl_q = self.rec.fl
            fl_day.append(now - self.net.warmup_days)
            fl_route.append(route)
            fl_q.append(q)
        when = now + lane.lead_days + extra_days
        if after_use and when <= self.env.now:
            when = int(self.env.now) + 1
        self.clock.send((lane, q, span), when)

    def order_now(self, lanes: list[Lane]) -> None:
        """Place the pre-buying still due on ``lanes`` now, and let their pools allocate it
        at once (an announcement acts on its own day, not at the next step)."""
        pools: list[Pool] = []
        for lane in lanes:
            if lane.prebuy_t > dust(lane.buyer.usage_per_day * self.net.step_days):
                lane.pool.orders.append((lane, lane.prebuy_t))
                lane.prebuy_t = 0.0
                if lane.pool not in pools:
                    pools.append(lane.pool)
        now = int(self.env.now)
        for pool in pools:
            self._allocators[id(pool)][0](now, True)

    def reorder_today(self, lane: Lane, q: float) -> None:
        """``lane``'s buyer orders the ``q`` t a denied licence cancelled again today,
        after the day's other policy actions, split by its
        order shares as they then stand (the denial lowered its view of that supplier, so
        part goes elsewhere), and the pools allocate it at once. Exactly the denied tonnes:
        until 2026-12-07 it ordered its whole gap to its order-up-to level, an order
        mid-step that a buyer whose licences were all approved never placed; once lanes
        were planned as they are, a lower approval then shipped more by a day (115 t
        against 75 t by day 7 on the network of tests/test_licence_applications.py, 50%
        against 100%)."""
        self.reorder_on(lane.buyer, q, int(self.env.now))

    def reorder_on(self, b: Buyer, q: float, now: int) -> None:
        """``b`` orders ``q`` t on simulation day ``now`` (today or later), split by its
        order shares as they then stand, and the pools allocate it at once: what a daily
        run's buyer orders that day for tonnes it used, or that a denial cancelled, since
        the step's order. Nothing is placed on a step day: that step's own order has the
        tonnes in its gap."""
        pending = self._reorders.get(now)
        if pending is None:
            pending = self._reorders[now] = []
            self.clock.at(now, self._reorder_pending)
        pending.append((b, q))

    def _reorder_pending(self, now: int) -> None:
        items = self._reorders.pop(now, ())
        if now % self.net.step_days == 0:
            return
        per_buyer: dict[int, list] = {}
        for b, q in items:
            cell = per_buyer.setdefault(id(b), [b, 0.0])
            cell[1] += q
        self._place_and_allocate(now, [(b, (q, now)) for b, q in per_buyer.values()],
                                 self._placers)

    def replan(self, lanes: list[Lane]) -> None:
        """A policy lengthened the lead time buyers plan for on ``lanes`` (a licence review,
        a logistics delay): between steps, their buyers order the difference today and the
        pools allocate it at once, as with daily steps (on a step day the step's own
        ordering does it)."""
        now = int(self.env.now)
        if now % self.net.step_days == 0:
            return
        buyers: dict[int, Buyer] = {}
        for lane in lanes:
            buyers.setdefault(id(lane.buyer), lane.buyer)
        self._place_and_allocate(now, [(b, (now,)) for b in buyers.values()], self._top_ups)

    def _place_and_allocate(self, now: int, items: list[tuple[Buyer, tuple]],
                            placers: dict[int, Any]) -> None:
        """Between steps: each buyer of ``items`` orders (``placers[id(buyer)](*args)``;
        stockpiles' accounts, which have none, are skipped), then the pools they ordered from
        allocate at once."""
        pools: dict[int, Pool] = {}
        for b, args in items:
            place = placers.get(id(b))
            if place is None:
                continue
            place(*args)
            for lane in b.lanes:
                if lane.pool.orders:
                    pools.setdefault(id(lane.pool), lane.pool)
        for key in pools:
            self._allocators[key][0](now, True)


def earliest_first(parts: list, fills: list[tuple[Lane, float]]) -> list[tuple[Lane, float]]:
    """A short pool's fills with each order's total given to its parts earliest first.

    A step's order cut into parts at days inside the step (:func:`~.gate.gate`) stands for
    that step's daily orders; what the pool holds now would go to the first of them in a
    daily run (its buyer orders the whole gap that day). Rationing the parts pro rata kept a
    later part's share back until its day (under a licence regime longer windows than the
    step: filed a week later, past the end date at the horizon's end), so a lower approval,
    whose denied lots were re-ordered and shipped mid-step, could ship more than a higher
    one. Each order's total fill is unchanged; parts are in order of their days."""
    out = list(fills)
    n = len(parts)
    k = 0
    while k < n:
        i = parts[k][0]
        j = k + 1
        while j < n and parts[j][0] == i:
            j += 1
        if j - k > 1:
            left = sum(q for _, q in fills[k:j])
            for m in range(k, j):
                want = parts[m][2]
                q = want if want < left else left
                out[m] = (fills[m][0], q)
                left -= q
        k = j
    return out
