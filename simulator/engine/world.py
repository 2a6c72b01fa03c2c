"""The SimPy world: production, consumption, ordering, allocation and stockpile release.

Each facility, demand sector, buyer, pool and stockpile is driven by its own periodic timed
callback (one SimPy event per entity per step) and every shipment is one SimPy event (a lot),
so the event count grows with the network, not with tonnes. See :mod:`.phases` for the order
of work within a day, and :mod:`.events` for what policy events change.
"""

from __future__ import annotations

from heapq import heappop, heappush

import simpy

from ..scenario.models import Scenario
from .events.export_control import gate
from .network import (
    RESERVE_PRIORITY,
    Buyer,
    DemandRT,
    FacilityRT,
    Lane,
    Network,
    Pool,
    StockpileRT,
)
from .phases import (
    ALLOCATE,
    ARRIVE,
    CONSUME,
    ORDER,
    PRODUCE,
    STOCKPILE,
    PhaseTimeout,
    Tick,
)
from .recorder import Recorder
from .rng import RandomStreams

USAGE_SMOOTHING_DAYS = 28.0
"""Time constant (days) of the exponential smoothing of a facility's desired input use.
Modelling assumption: about one month, the usual planning cycle."""

FULL = 1.0 - 1e-9
TRUSTED = 1.0 - 1e-6
"""A supplier whose smoothed fill rate is back above this is trusted fully again."""


class World:
    """One replication's mutable state and the SimPy environment that drives it."""

    def __init__(self, scenario: Scenario, network: Network, streams: RandomStreams):
        self.scenario = scenario
        self.streams = streams
        self.net = network
        self.env = simpy.Environment()
        self.rec = Recorder()
        self.event_count = 0
        self.produced_t = {m: 0.0 for m in scenario.materials}
        self.used_t = {m: 0.0 for m in scenario.materials}
        self.delivered_t = {m: 0.0 for m in scenario.materials}
        self.loss_t = {m: 0.0 for m in scenario.materials}
        self.licence_queue_t = {m: 0.0 for m in scenario.materials}
        self.rule = scenario.allocation.rule
        self.partners: set[tuple[str, str]] = set()
        """(supplier, buyer) country pairs in an active cooperation agreement."""
        self._alpha = min(1.0, network.step_days / USAGE_SMOOTHING_DAYS)
        self._fill_alpha = min(1.0, network.step_days / scenario.switching.adjustment_days)
        self._room_cells: dict[int, list] = {}
        self._arrivals: dict[int, list[tuple[Lane, float]]] = {}
        """Lots in transit by arrival day; each day's list is one entry on SimPy's queue."""

    # -- time -------------------------------------------------------------------------------
    def day(self) -> int:
        """Scenario day (0 = start_date) of the current simulation time."""
        return int(self.env.now) - self.net.warmup_days

    def at_day(self, day: int, phase: int, action) -> None:
        """Call ``action(day)`` on scenario day ``day`` (or now, if that is past) in ``phase``."""
        delay = max(0, day + self.net.warmup_days - int(self.env.now))

        def fire(_event: object) -> None:
            action(self.day())

        PhaseTimeout(self.env, delay, phase).callbacks.append(fire)

    def start(self) -> None:
        """Schedule every entity's periodic action, then install the events.

        The actions of one phase share one :class:`~.phases.Tick` and run in the order they
        are added here (the scenario's declaration order), as one event each would.
        """
        from .events import install_events

        env, step = self.env, self.net.step_days
        phases: dict[int, list] = {}

        def every_step(phase: int, action) -> None:
            phases.setdefault(phase, []).append(action)

        for f in self.net.facilities:
            every_step(PRODUCE + f.stage_index, self._producer(f))
        for d in self.net.demands:
            every_step(CONSUME, self._consumer(d))
        for sp in self.net.stockpiles:
            every_step(STOCKPILE, self._stockpile(sp))
        for b in self.net.ordering_buyers:
            every_step(ORDER, self._orderer(b))
        for p in self.net.pools.values():
            every_step(ALLOCATE, self._allocator(p))
        for phase, actions in phases.items():
            Tick(env, step, phase, actions)
        install_events(self)

    def run(self) -> None:
        """Run the warm-up and the horizon, counting the events processed.

        Events on the end day itself are not processed (as with ``env.run(until=...)``).
        ``event_count`` counts engine events as docs/engine.md defines them: one per entity
        per step and one per lot (plus policy events), whether or not they share a heap
        entry. The loop is ``env.step()`` inlined, with the two most frequent kinds handled
        in place: a :class:`~.phases.Tick` runs its phase's actions and is rescheduled; a
        day's arrivals (a list of lots, see :meth:`_send`) land in their buyers. Every other
        event runs its callbacks as SimPy would. Within a day, work runs in the same order
        as with one SimPy event per action and per lot.
        """
        self.start()
        env = self.env
        until = self.net.warmup_days + self.scenario.horizon_days
        queue = env._queue
        eid = env._eid
        arrivals = self._arrivals
        pop, push = heappop, heappush
        n = 0
        while queue and queue[0][0] < until:
            now, phase, _, event = pop(queue)
            env._now = now
            kind = event.__class__
            if kind is Tick:
                actions = event.actions
                for action in actions:
                    action(now)
                n += len(actions)
                push(queue, (now + event.period, phase, next(eid), event))
            elif kind is list:  # the lots arriving today, in the order they were sent
                del arrivals[now]
                for lane, q in event:
                    lane.on_order -= q
                    lane.buyer.on_hand += q
                n += len(event)
            else:
                n += 1
                callbacks, event.callbacks = event.callbacks, None
                for callback in callbacks:
                    callback(event)
                if not event._ok and not hasattr(event, "_defused"):
                    exc = type(event._value)(*event._value.args)
                    exc.__cause__ = event._value
                    raise exc
        self.event_count = n

    # -- production -------------------------------------------------------------------------
    def _room_cell(self, pool: Pool) -> list:
        """``[day, room]``: the pool's room (target - stock) as it stood at the first
        producer's turn on ``day`` (shared by the pool's producers)."""
        cell = self._room_cells.get(id(pool))
        if cell is None:
            cell = self._room_cells[id(pool)] = [-1, 0.0]
        return cell

    def _producer(self, f: FacilityRT):
        step = self.net.step_days
        warmup = self.net.warmup_days
        alpha = self._alpha
        produced, used, rec = self.produced_t, self.used_t, self.rec
        pr_day, pr_key, pr_q = rec.pr
        outputs = [(pool, mid, coef, weight, self._room_cell(pool), rec.output(f, mid))
                   for (pool, mid, coef), weight in zip(f.outputs, f.room_weight, strict=True)]
        inputs = f.inputs
        full_rate = f.capacity_tpd * step

        def produce(now: int) -> None:
            day = now - warmup
            cap_runs = full_rate
            if f.start_day is not None or f.availability:
                cap_runs *= f.capacity_factor(day)
            need_runs = 0.0
            for pool, _, coef, weight, cell, _ in outputs:
                if cell[0] != now:
                    room = pool.target_t - pool.stock
                    cell[0] = now
                    cell[1] = room if room > 0.0 else 0.0
                need = cell[1] * weight / coef
                if need > need_runs:
                    need_runs = need
            desired = need_runs if need_runs < cap_runs else cap_runs
            runs = desired
            rate = f.desired_runs_per_day
            rate += alpha * (desired / step - rate)
            f.desired_runs_per_day = rate
            for buyer, coef in inputs:
                avail = buyer.on_hand / coef
                if desired > 0:
                    fill = avail / desired
                    buyer.last_fill = fill if fill < 1.0 else 1.0
                else:
                    buyer.last_fill = 1.0
                if avail < runs:
                    runs = avail
                buyer.usage_per_day = rate * coef
            if runs <= 0.0:
                return
            for buyer, coef in inputs:
                q = runs * coef
                left = buyer.on_hand - q
                buyer.on_hand = left if left > 0.0 else 0.0
                used[buyer.material] += q
            for pool, mid, coef, _, _, key in outputs:
                q = runs * coef
                pool.stock += q
                produced[mid] += q
                if day >= 0:
                    pr_day.append(day)
                    pr_key.append(key)
                    pr_q.append(q)

        return produce

    # -- demand -----------------------------------------------------------------------------
    def _consumer(self, d: DemandRT):
        step = self.net.step_days
        warmup = self.net.warmup_days
        b = d.buyer
        gamma = self.streams.get(f"demand:{d.did}").gamma if d.cv > 0 else None
        shape = 1.0 / (d.cv * d.cv) if d.cv > 0 else 0.0
        delivered, stockpiles, rec = self.delivered_t, self.net.stockpiles, self.rec
        ts_day, ts_key, ts_demand, ts_delivered, ts_inventory, ts_stockpile = rec.ts
        material = b.material
        growth = 1.0 + d.growth_pa
        key = -1

        def consume(now: int) -> None:
            nonlocal key
            day = now - warmup
            rate = d.rate_tpd  # as DemandRT.rate_on, inlined
            if growth != 1.0:
                rate *= growth ** (day / 365.0)
            for mod in d.modifiers:
                rate *= mod.factor(day)
            b.usage_per_day = rate
            want = rate * step
            if gamma is not None and want > 0:
                want = float(gamma(shape, want / shape))
            got = min(b.on_hand, want)
            b.on_hand -= got
            b.last_fill = got / want if want > 0 else 1.0
            delivered[material] += got
            if day >= 0:
                held = 0.0
                for sp in stockpiles:
                    if b in sp.buyers:
                        held += sp.holdings
                if key < 0:
                    key = rec.demand_key(d)
                ts_day.append(day)
                ts_key.append(key)
                ts_demand.append(want)
                ts_delivered.append(got)
                ts_inventory.append(b.on_hand)
                ts_stockpile.append(held)

        return consume

    # -- stockpiles -------------------------------------------------------------------------
    def _stockpile(self, sp: StockpileRT):
        step = self.net.step_days
        warmup = self.net.warmup_days
        account = sp.buyer
        assert account is not None
        key = self.rec.stockpile(sp)
        sp_day, sp_key, sp_held, sp_released, sp_bought = self.rec.sp
        release = self._release

        def tend(now: int) -> None:
            bought = account.on_hand  # purchases that arrived join the reserve
            sp.holdings += bought
            account.on_hand = 0.0
            released = release(sp, step)
            sp.releasing = released is not None
            if now >= warmup:  # the step's row: holdings at its end (nothing moves them
                # until the next step's turn), tonnes released and bought in the step
                sp_day.append(now - warmup)
                sp_key.append(key)
                sp_held.append(sp.holdings)
                sp_released.append(released or 0.0)
                sp_bought.append(bought)
            if sp.releasing or sp.buy_tpd <= 0.0:
                return
            pipeline = sum(lane.on_order for lane in account.lanes)
            q = min(sp.buy_tpd * step, sp.target_t - sp.holdings - pipeline)
            if q > 1e-9:
                for lane in account.lanes:
                    if lane.share > 0:
                        lane.pool.orders.append((lane, q * lane.share))

        return tend

    def _release(self, sp: StockpileRT, step: int) -> float | None:
        """Release into short eligible buyers: the tonnes released (possibly 0) if the
        trigger is on, else None."""
        use = sum(b.usage_per_day for b in sp.buyers)
        if use <= 0.0:
            return None
        if sp.trigger == "fill_rate":
            level = sum(b.last_fill * b.usage_per_day for b in sp.buyers) / use
        else:
            level = sum(b.on_hand for b in sp.buyers) / use
        if level >= sp.threshold:
            return None
        if sp.holdings <= 0.0:
            return 0.0
        needs = [max(0.0, b.usage_per_day * (b.cover_days + step) - b.on_hand)
                 for b in sp.buyers]
        total_need = sum(needs)
        amount = min(sp.holdings, sp.max_release_tpd * step, total_need)
        if amount > 0.0:
            sp.holdings -= amount
            for b, need in zip(sp.buyers, needs, strict=True):
                b.on_hand += amount * need / total_need
            return amount
        return 0.0

    # -- ordering and allocation --------------------------------------------------------------
    def _orderer(self, b: Buyer):
        step = self.net.step_days
        warmup = self.net.warmup_days
        a = self._fill_alpha

        def lead_of(lanes: list[Lane]) -> float:
            """Share-weighted lead time, each lane's rounded up to whole steps."""
            lead = 0.0
            for lane in lanes:
                if lane.share > 0.0:
                    days = (lane.lead_days + lane.extra_cover_days + lane.licence_days
                            + lane.extra_transit_days)
                    # a lot that lands mid-step is used from the next step
                    lead += lane.share * (-(-days // step) * step)
            return lead

        def order(now: int) -> None:
            lanes = b.lanes
            # One pass: suppliers' fill views (unobserved ones drift back to trusted), the
            # position and the lead time at the current shares; the lead is recomputed if the
            # shares change.
            settled = True
            lead = 0.0
            position = b.on_hand
            for lane in lanes:
                if lane.observed:
                    lane.observed = False
                elif lane.fill_seen < 1.0:
                    lane.fill_seen += a * (1.0 - lane.fill_seen)
                    if lane.fill_seen > TRUSTED:
                        lane.fill_seen = 1.0
                if lane.fill_seen < 1.0 or lane.policy_mult != 1.0:
                    settled = False
                position += lane.on_order
                share = lane.share
                if share > 0.0:
                    days = (lane.lead_days + lane.extra_cover_days + lane.licence_days
                            + lane.extra_transit_days)
                    # a lot that lands mid-step is used from the next step
                    lead += share * (-(-days // step) * step)
            if b.dirty or not settled or b.short_since is not None:
                b.reshare(now - warmup)
                b.dirty = not settled
                lead = lead_of(lanes)
            q = b.usage_per_day * (b.cover_days + step + lead) - position
            if q > 1e-9:
                for lane in lanes:  # pre-buying goes to the lane it is meant for
                    if lane.prebuy_t > 0.0:
                        x = min(q, lane.prebuy_t)
                        lane.prebuy_t -= x
                        lane.pool.orders.append((lane, x))
                        q -= x
                if q > 1e-9:
                    for lane in lanes:
                        if lane.share > 0.0:
                            lane.pool.orders.append((lane, q * lane.share))

        return order

    def _allocator(self, p: Pool):
        warmup = self.net.warmup_days
        a = self._fill_alpha
        env = self.env
        queue, eid = env._queue, env._eid
        arrivals = self._arrivals
        rec = self.rec
        fl_day, fl_route, fl_q = rec.fl
        country = p.country

        def allocate(now: int) -> None:
            orders = p.orders
            if not orders:
                return
            p.orders = []
            total = 0.0
            for _, q in orders:
                total += q
            if not p.gated and total <= p.stock:  # the common case: every order filled
                # as _ship / dispatch, inlined
                recording = now >= warmup
                day = now - warmup
                for lane, q in orders:
                    p.stock -= q
                    lane.on_order += q
                    if recording and lane.foreign:
                        route = lane.route
                        if route < 0:
                            route = lane.route = rec.route(country, lane.buyer.country,
                                                           p.material)
                        fl_day.append(day)
                        fl_route.append(route)
                        fl_q.append(q)
                    lead = now + lane.lead_days + lane.extra_transit_days
                    lots = arrivals.get(lead)
                    if lots is None:
                        lots = arrivals[lead] = []
                        heappush(queue, (lead, ARRIVE, next(eid), lots))
                    lots.append((lane, q))
                    if lane.fill_seen != 1.0:
                        lane.fill_seen += a * (1.0 - lane.fill_seen)
                    lane.observed = True
                return
            day = now - warmup
            if p.gated:
                allowed, licences = gate(orders, day)
            else:
                allowed, licences = orders, None
            total = sum(q for _, q in allowed)
            fills = allowed if total <= p.stock else self._ration(p, allowed, p.stock)
            for (lane, wanted), (_, q) in zip(orders, fills, strict=True):
                if q > 0.0:
                    ctrl = licences.get(id(lane)) if licences else None
                    if ctrl is None:
                        self._ship(p, lane, q, now)
                    else:
                        ctrl.apply(self, p, lane, q, day)
                    for cap in lane.caps:
                        if cap.active:
                            cap.use(q)
                self.observe(lane, q / wanted, day)

        return allocate

    def observe(self, lane: Lane, seen: float, day: int) -> None:
        """The buyer sees ``lane`` fill ``seen`` (0..1) of an order: update its view."""
        lane.fill_seen += self._fill_alpha * (seen - lane.fill_seen)
        lane.observed = True
        if seen < FULL and day >= 0 and lane.buyer.short_since is None:
            lane.buyer.short_since = day

    def _ration(
        self, p: Pool, orders: list[tuple[Lane, float]], available: float
    ) -> list[tuple[Lane, float]]:
        """Split ``available`` among ``orders`` by the allocation rule's tiers, then pro rata.

        Returns the fills in the order of ``orders``.
        """
        rule, partners = self.rule, self.partners

        def tier(item: tuple[Lane, float]) -> tuple[int, ...]:
            buyer = item[0].buyer
            # reserve purchases after every commercial buyer, whatever the rule's tiers
            key: list[int] = [1 if buyer.priority <= RESERVE_PRIORITY else 0]
            for k in rule:
                if k == "domestic":
                    key.append(0 if buyer.country == p.country else 1)
                elif k == "agreement":
                    key.append(0 if (p.country, buyer.country) in partners else 1)
                else:  # priority: higher first
                    key.append(-buyer.priority)
            return tuple(key)

        keys = [tier(o) for o in orders]
        fills = [0.0] * len(orders)
        left = available
        for key in sorted(set(keys)):
            idx = [i for i, k in enumerate(keys) if k == key]
            want = sum(orders[i][1] for i in idx)
            share = min(1.0, left / want) if want > 0 else 0.0
            for i in idx:
                fills[i] = orders[i][1] * share
            left = max(0.0, left - want * share)
        return [(lane, q) for (lane, _), q in zip(orders, fills, strict=True)]

    def _ship(self, p: Pool, lane: Lane, q: float, now: int) -> None:
        """Take ``q`` from the pool and send it as one lot down the lane."""
        p.stock -= q
        lane.on_order += q
        self.dispatch(lane, q, now)

    def dispatch(self, lane: Lane, q: float, now: int) -> None:
        """Send a lot already counted in ``lane.on_order``: record it, schedule its arrival."""
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
        self._send(lane, q, now + lane.lead_days + lane.extra_transit_days)

    def _send(self, lane: Lane, q: float, day: int) -> None:
        """Put a lot on the list of lots arriving on (simulation) ``day``.

        One SimPy queue entry per arrival day holds that day's lots in the order they were
        sent; each lot still counts as one engine event. The entry's phase is ``ARRIVE``, so
        a day's lots land before any other work of the day, as one event each would.
        """
        lots = self._arrivals.get(day)
        if lots is None:
            lots = self._arrivals[day] = []
            env = self.env
            heappush(env._queue, (day, ARRIVE, next(env._eid), lots))
        lots.append((lane, q))
