"""The SimPy world: production, consumption, ordering, allocation and stockpile release.

Each facility, demand sector, buyer, pool and stockpile is driven by its own periodic timed
callback (one SimPy event per entity per step) and every shipment is one SimPy event (a lot),
so the event count grows with the network, not with tonnes. See :mod:`.phases` for the order
of work within a day, and :mod:`.events` for what policy events change.
"""

from __future__ import annotations

import simpy
from simpy.events import Event

from ..scenario.models import Scenario
from .events.export_control import gate
from .network import Buyer, DemandRT, FacilityRT, Lane, Network, Pool, StockpileRT
from .phases import (
    ALLOCATE,
    ARRIVE,
    CONSUME,
    ORDER,
    PRODUCE,
    STOCKPILE,
    PhaseTimeout,
    every,
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
        self._room_cache: dict[int, tuple[int, float]] = {}

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
        """Schedule every entity's periodic action, then install the events."""
        from .events import install_events

        env, step = self.env, self.net.step_days
        for f in self.net.facilities:
            every(env, step, PRODUCE + f.stage_index, self._producer(f))
        for d in self.net.demands:
            every(env, step, CONSUME, self._consumer(d))
        for sp in self.net.stockpiles:
            every(env, step, STOCKPILE, self._stockpile(sp))
        for b in self.net.ordering_buyers:
            every(env, step, ORDER, self._orderer(b))
        for p in self.net.pools.values():
            every(env, step, ALLOCATE, self._allocator(p))
        install_events(self)

    def run(self) -> None:
        """Run the warm-up and the horizon, counting the events processed.

        Events on the end day itself are not processed (as with ``env.run(until=...)``).
        """
        self.start()
        until = self.net.warmup_days + self.scenario.horizon_days
        peek, step = self.env.peek, self.env.step
        n = 0
        while peek() < until:
            step()
            n += 1
        self.event_count = n

    # -- production -------------------------------------------------------------------------
    def _room(self, pool: Pool, now: int) -> float:
        """Pool room (target - stock) as it stood at the first producer's turn this step."""
        cached = self._room_cache.get(id(pool))
        if cached is None or cached[0] != now:
            cached = (now, max(0.0, pool.target_t - pool.stock))
            self._room_cache[id(pool)] = cached
        return cached[1]

    def _producer(self, f: FacilityRT):
        step = self.net.step_days
        produced, used, rec = self.produced_t, self.used_t, self.rec
        keys = {mid: rec.output(f, mid) for _, mid, _ in f.outputs}

        def produce(now: int) -> None:
            day = now - self.net.warmup_days
            cap_runs = f.capacity_tpd * step * f.capacity_factor(day)
            need_runs = 0.0
            for (pool, _, coef), weight in zip(f.outputs, f.room_weight, strict=True):
                need_runs = max(need_runs, self._room(pool, now) * weight / coef)
            desired = min(cap_runs, need_runs)
            runs = desired
            for buyer, coef in f.inputs:
                avail = buyer.on_hand / coef
                buyer.last_fill = min(1.0, avail / desired) if desired > 0 else 1.0
                runs = min(runs, avail)
            f.desired_runs_per_day += self._alpha * (desired / step - f.desired_runs_per_day)
            for buyer, coef in f.inputs:
                buyer.usage_per_day = f.desired_runs_per_day * coef
            if runs <= 0.0:
                return
            for buyer, coef in f.inputs:
                q = runs * coef
                buyer.on_hand = max(0.0, buyer.on_hand - q)
                used[buyer.material] += q
            for pool, mid, coef in f.outputs:
                q = runs * coef
                pool.stock += q
                produced[mid] += q
                if day >= 0:
                    rec.pr.append((day, keys[mid], q))

        return produce

    # -- demand -----------------------------------------------------------------------------
    def _consumer(self, d: DemandRT):
        step = self.net.step_days
        b = d.buyer
        gamma = self.streams.get(f"demand:{d.did}").gamma if d.cv > 0 else None
        shape = 1.0 / (d.cv * d.cv) if d.cv > 0 else 0.0

        def consume(now: int) -> None:
            day = now - self.net.warmup_days
            rate = d.rate_on(day)
            b.usage_per_day = rate
            want = rate * step
            if gamma is not None and want > 0:
                want = float(gamma(shape, want / shape))
            got = min(b.on_hand, want)
            b.on_hand -= got
            b.last_fill = got / want if want > 0 else 1.0
            self.delivered_t[b.material] += got
            if day >= 0:
                held = 0.0
                for sp in self.net.stockpiles:
                    if b in sp.buyers:
                        held += sp.holdings
                self.rec.demand(day, d, want, got, b.on_hand, held)

        return consume

    # -- stockpiles -------------------------------------------------------------------------
    def _stockpile(self, sp: StockpileRT):
        step = self.net.step_days
        account = sp.buyer
        assert account is not None

        def tend(now: int) -> None:
            sp.holdings += account.on_hand  # purchases that arrived join the reserve
            account.on_hand = 0.0
            sp.releasing = self._release(sp, step)
            if sp.releasing or sp.buy_tpd <= 0.0:
                return
            pipeline = sum(lane.on_order for lane in account.lanes)
            q = min(sp.buy_tpd * step, sp.target_t - sp.holdings - pipeline)
            if q > 1e-9:
                for lane in account.lanes:
                    if lane.share > 0:
                        lane.pool.orders.append((lane, q * lane.share))

        return tend

    def _release(self, sp: StockpileRT, step: int) -> bool:
        """Release into short eligible buyers; True if the trigger is on."""
        use = sum(b.usage_per_day for b in sp.buyers)
        if use <= 0.0:
            return False
        if sp.trigger == "fill_rate":
            level = sum(b.last_fill * b.usage_per_day for b in sp.buyers) / use
        else:
            level = sum(b.on_hand for b in sp.buyers) / use
        if level >= sp.threshold:
            return False
        if sp.holdings <= 0.0:
            return True
        needs = [max(0.0, b.usage_per_day * (b.cover_days + step) - b.on_hand)
                 for b in sp.buyers]
        total_need = sum(needs)
        amount = min(sp.holdings, sp.max_release_tpd * step, total_need)
        if amount > 0.0:
            sp.holdings -= amount
            for b, need in zip(sp.buyers, needs, strict=True):
                b.on_hand += amount * need / total_need
        return True

    # -- ordering and allocation --------------------------------------------------------------
    def _orderer(self, b: Buyer):
        step = self.net.step_days

        def order(now: int) -> None:
            a = self._fill_alpha
            settled = True
            for lane in b.lanes:  # unobserved suppliers drift back to trusted
                if lane.observed:
                    lane.observed = False
                elif lane.fill_seen < 1.0:
                    lane.fill_seen += a * (1.0 - lane.fill_seen)
                    if lane.fill_seen > TRUSTED:
                        lane.fill_seen = 1.0
                if lane.fill_seen < 1.0 or lane.policy_mult != 1.0:
                    settled = False
            if b.dirty or not settled or b.short_since is not None:
                b.reshare(now - self.net.warmup_days)
                b.dirty = not settled
            lead = 0.0
            position = b.on_hand
            for lane in b.lanes:
                position += lane.on_order
                if lane.share > 0.0:
                    days = lane.lead_days + lane.extra_cover_days + lane.licence_days
                    if lane.delays:
                        for delay in lane.delays:
                            if delay.active:
                                days += delay.extra_days
                    # a lot that lands mid-step is used from the next step
                    lead += lane.share * (-(-days // step) * step)
            q = b.usage_per_day * (b.cover_days + step + lead) - position
            if q > 1e-9:
                for lane in b.lanes:  # pre-buying goes to the lane it is meant for
                    if lane.prebuy_t > 0.0:
                        x = min(q, lane.prebuy_t)
                        lane.prebuy_t -= x
                        lane.pool.orders.append((lane, x))
                        q -= x
                if q > 1e-9:
                    for lane in b.lanes:
                        if lane.share > 0.0:
                            lane.pool.orders.append((lane, q * lane.share))

        return order

    def _allocator(self, p: Pool):
        def allocate(now: int) -> None:
            orders = p.orders
            if not orders:
                return
            p.orders = []
            a = self._fill_alpha
            total = 0.0
            for _, q in orders:
                total += q
            if not p.gated and total <= p.stock:  # the common case: every order filled
                dispatch = self.dispatch
                for lane, q in orders:
                    p.stock -= q
                    lane.on_order += q
                    dispatch(lane, q, now)
                    if lane.fill_seen != 1.0:
                        lane.fill_seen += a * (1.0 - lane.fill_seen)
                    lane.observed = True
                return
            day = now - self.net.warmup_days
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
            key: list[int] = []
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
        pool = lane.pool
        destination = lane.buyer.country
        if now >= self.net.warmup_days and destination != pool.country:
            route = lane.route
            if route < 0:
                route = lane.route = self.rec.route(pool.country, destination, pool.material)
            self.rec.fl.append((now - self.net.warmup_days, route, q))
        lead = lane.lead_days
        if lane.delays:
            for delay in lane.delays:
                if delay.active:
                    lead += delay.extra_days
        Lot(self, lane, q, lead)


class Lot(Event):
    """A shipment in transit: one SimPy event that lands ``q`` t in the lane's buyer.

    Lean by design (it is the most frequent event): the callbacks, value and state SimPy
    reads are class attributes until SimPy clears the callbacks when the lot is processed.
    """

    __slots__ = ("lane", "q")
    _ok = True
    _value = None

    def __init__(self, world: World, lane: Lane, q: float, lead_days: int):
        self.lane = lane
        self.q = q
        world.env.schedule(self, ARRIVE, lead_days)  # type: ignore[arg-type]


def _arrive(lot: Lot) -> None:
    lane = lot.lane
    lane.on_order -= lot.q
    lane.buyer.on_hand += lot.q


Lot.callbacks = (_arrive,)  # type: ignore[assignment]
