"""The SimPy world: production, consumption, ordering, allocation and stockpile release.

Each facility, demand sector, buyer, pool and stockpile is driven by its own periodic timed
callback (one SimPy event per entity per step) and every shipment is one SimPy event (a lot),
so the event count grows with the network, not with tonnes. See :mod:`.phases` for the order
of work within a day.
"""

from __future__ import annotations

from collections.abc import Iterable

import simpy

from ..scenario.models import Scenario
from .network import Buyer, DemandRT, FacilityRT, Lane, Network, Pool, StockpileRT
from .phases import ALLOCATE, ARRIVE, CONSUME, ORDER, PRODUCE, STOCKPILE, PhaseTimeout, every
from .recorder import Recorder
from .rng import RandomStreams

USAGE_SMOOTHING_DAYS = 28.0
"""Time constant (days) of the exponential smoothing of a facility's desired input use.
Modelling assumption: about one month, the usual planning cycle."""


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
        self.rule = scenario.allocation.rule
        self._alpha = min(1.0, network.step_days / USAGE_SMOOTHING_DAYS)
        self._room_cache: dict[int, tuple[int, float]] = {}

    # -- time -------------------------------------------------------------------------------
    def day(self) -> int:
        """Scenario day (0 = start_date) of the current simulation time."""
        return int(self.env.now) - self.net.warmup_days

    def start(self) -> None:
        """Schedule every entity's periodic action."""
        env, step = self.env, self.net.step_days
        for f in self.net.facilities:
            every(env, step, PRODUCE + f.stage_index, self._producer(f))
        for d in self.net.demands:
            every(env, step, CONSUME, self._consumer(d))
        for sp in self.net.stockpiles:
            every(env, step, STOCKPILE, self._releaser(sp))
        for b in self.net.buyers:
            every(env, step, ORDER, self._orderer(b))
        for p in self.net.pools.values():
            every(env, step, ALLOCATE, self._allocator(p))

    def run(self) -> None:
        """Run the warm-up and the horizon."""
        self.start()
        self.env.run(until=self.net.warmup_days + self.scenario.horizon_days)

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

        def produce(now: int) -> None:
            self.event_count += 1
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
            a = self._alpha
            f.desired_runs_per_day += a * (desired / step - f.desired_runs_per_day)
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
                    rec.production(day, f, mid, q)

        return produce

    # -- demand -----------------------------------------------------------------------------
    def _consumer(self, d: DemandRT):
        step = self.net.step_days
        b = d.buyer
        stockpiles = [sp for sp in self.net.stockpiles if b in sp.buyers]
        gamma = self.streams.get(f"demand:{d.did}").gamma if d.cv > 0 else None
        shape = 1.0 / (d.cv * d.cv) if d.cv > 0 else 0.0

        def consume(now: int) -> None:
            self.event_count += 1
            day = now - self.net.warmup_days
            rate = d.rate_on(day)
            b.usage_per_day = rate
            want = rate * step
            if gamma is not None:
                want = float(gamma(shape, want / shape))
            got = min(b.on_hand, want)
            b.on_hand -= got
            b.last_fill = got / want if want > 0 else 1.0
            self.delivered_t[b.material] += got
            if day >= 0:
                held = sum(sp.holdings for sp in stockpiles)
                self.rec.demand(day, d, want, got, b.on_hand, held)

        return consume

    # -- stockpiles -------------------------------------------------------------------------
    def _releaser(self, sp: StockpileRT):
        step = self.net.step_days

        def release(now: int) -> None:
            self.event_count += 1
            use = sum(b.usage_per_day for b in sp.buyers)
            if sp.holdings <= 0.0 or use <= 0.0:
                return
            if sp.trigger == "fill_rate":
                level = sum(b.last_fill * b.usage_per_day for b in sp.buyers) / use
            else:
                level = sum(b.on_hand for b in sp.buyers) / use
            if level >= sp.threshold:
                return
            needs = [max(0.0, b.usage_per_day * (b.cover_days + step) - b.on_hand)
                     for b in sp.buyers]
            total_need = sum(needs)
            amount = min(sp.holdings, sp.max_release_tpd * step, total_need)
            if amount <= 0.0:
                return
            sp.holdings -= amount
            for b, need in zip(sp.buyers, needs, strict=True):
                b.on_hand += amount * need / total_need

        return release

    # -- ordering and allocation --------------------------------------------------------------
    def _orderer(self, b: Buyer):
        step = self.net.step_days

        def order(now: int) -> None:
            self.event_count += 1
            usage = b.usage_per_day
            for lane in b.lanes:
                target = lane.share * usage * (b.cover_days + step + lane.lead_days)
                q = target - lane.share * b.on_hand - lane.on_order
                if q > 1e-9:
                    lane.pool.orders.append((lane, q))

        return order

    def _allocator(self, p: Pool):
        def allocate(now: int) -> None:
            self.event_count += 1
            orders = p.orders
            if not orders:
                return
            p.orders = []
            total = sum(q for _, q in orders)
            if total <= p.stock:
                fills: Iterable[tuple[Lane, float]] = orders
            else:
                fills = self._ration(p, orders, p.stock)
            for lane, q in fills:
                if q > 0.0:
                    self._ship(p, lane, q, now)

        return allocate

    def _ration(
        self, p: Pool, orders: list[tuple[Lane, float]], available: float
    ) -> list[tuple[Lane, float]]:
        """Split ``available`` among ``orders`` by the allocation rule's tiers, then pro rata."""

        def tier(item: tuple[Lane, float]) -> tuple:
            buyer = item[0].buyer
            key: list[int] = []
            for k in self.rule:
                if k == "domestic":
                    key.append(0 if buyer.country == p.country else 1)
                else:  # priority: higher first
                    key.append(-buyer.priority)
            return tuple(key)

        ranked = sorted(orders, key=tier)  # stable: ties keep order-placement order
        out: list[tuple[Lane, float]] = []
        i = 0
        left = available
        while i < len(ranked):
            j = i
            key = tier(ranked[i])
            while j < len(ranked) and tier(ranked[j]) == key:
                j += 1
            group = ranked[i:j]
            want = sum(q for _, q in group)
            share = min(1.0, left / want) if want > 0 else 0.0
            for lane, q in group:
                out.append((lane, q * share))
            left -= want * share
            left = max(left, 0.0)
            i = j
        return out

    def _ship(self, p: Pool, lane: Lane, q: float, now: int) -> None:
        p.stock -= q
        lane.on_order += q
        day = now - self.net.warmup_days
        if day >= 0 and lane.buyer.country != p.country:
            self.rec.flow(day, p.country, lane.buyer.country, p.material, q)

        def arrive(_event: object) -> None:
            self.event_count += 1
            lane.on_order -= q
            lane.buyer.on_hand += q

        PhaseTimeout(self.env, lane.lead_days, ARRIVE).callbacks.append(arrive)

