"""The SimPy world: production, consumption and stockpile release (ordering and allocation
are the :class:`~.ordering.Ordering` mixin, lots landing mid-step :class:`~.late.LateLots`).

Each facility, demand sector, buyer, pool and stockpile has an action that the
:class:`~.clock.Clock` process runs once per step in its phase, and every shipment is one
lot landed on its arrival day, so the event count grows with the network, not with tonnes.
See :mod:`.clock` for the order of work within a day, and :mod:`.events` for what policy
events change.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import simpy

from ..scenario.models import Scenario
from ..scenario.tiers import export_tiers
from .allocation import TieredProRata
from .builder import commission
from .clock import Clock
from .demand_response import Destocking, thrift_for
from .events.logistics import landed_factor, retariff
from .investment import Investments
from .late import LateLots, StepServed, daily_fills
from .market import Market
from .network import (
    NEVER,
    Buyer,
    DemandRT,
    FacilityRT,
    Lane,
    Network,
    Pool,
    dust,
)
from .ordering import Ordering
from .recorder import Recorder
from .rng import RandomStreams
from .stockpile import StockpileRT, release, see_through

USAGE_SMOOTHING_DAYS = 28.0
"""Time constant (days) of the exponential smoothing of a facility's desired input use.
Modelling assumption: about one month, the usual planning cycle."""

GAMMA_BLOCK = 256
"""Demand draws made at once per sector (a block; see ``World._consumer``)."""


class World(LateLots, Ordering):
    """One replication's mutable state and the SimPy environment that drives it."""

    def __init__(self, scenario: Scenario, network: Network, streams: RandomStreams):
        self.scenario = scenario
        self.streams = streams
        self.net = network
        self.env = simpy.Environment()
        horizon, step = scenario.horizon_days, network.step_days
        self.rec = Recorder((horizon - horizon % step, horizon % step / step)
                            if horizon % step else None)
        self.produced_t = {m: 0.0 for m in scenario.materials}
        self.used_t = {m: 0.0 for m in scenario.materials}
        self.delivered_t = {m: 0.0 for m in scenario.materials}
        self.loss_t = {m: 0.0 for m in scenario.materials}
        self.licence_queue_t = {m: 0.0 for m in scenario.materials}
        self.partners: set[tuple[str, str]] = set()
        """(supplier, buyer) country pairs in an active cooperation agreement."""
        self.allocation = TieredProRata(scenario.allocation.rule, self.partners,
                                        network.step_days)
        # exponential smoothing with a time constant in days: the weight of a step of
        # ``step_days`` is 1 - exp(-step / tau), so the smoothing is the same whatever the step
        self._alpha = -math.expm1(-network.step_days / USAGE_SMOOTHING_DAYS)
        self.fill_days = float(scenario.switching.adjustment_days)
        """Time constant (days) of buyers' views of their suppliers' fill."""
        self._fill_alpha = self.fill_weight(network.step_days)
        self._day_fill_alpha = self.fill_weight(1.0)
        """The weight of one day's observation (an order placed between steps)."""
        self._room_cells: dict[int, list] = {}
        self._allocators: dict[int, list] = {}
        self._top_ups: dict[int, Callable[[int], None]] = {}
        self._placers: dict[int, Callable[[float, int], None]] = {}
        self._reorders: dict[int, list[tuple[Buyer, float]]] = {}
        self._held_cell: list = [-1, {}]
        """``[day, {id(buyer): t}]``: stockpile holdings that serve each buyer on ``day``."""
        self.clock = Clock(self.env, network.step_days, [], self._land)
        self._backfill = network.step_days > 1
        self._landed: tuple[int, list] = (-1, [])
        """(simulation day, lots) of the last day lots landed (multi-day steps)."""
        self.market: Market | None = None
        self.investments: Investments | None = None
        self.events: list = []
        """Installed :class:`~.events.base.PolicyEvent` objects, in declaration order."""

    def add_lane(self, lane: Lane) -> Lane:
        """Add a lane created during the run to its buyer; every installed event that
        applies to it acts on it from now on (a new lane escapes no policy)."""
        lane.buyer.lanes.append(lane)
        lane.buyer.dirty = True
        for event in self.events:
            if event.applies_to(lane):
                event.attach(lane)
        return lane

    @property
    def event_count(self) -> int:
        """Engine events processed so far (docs/engine.md, "Cost")."""
        return self.clock.count

    # -- time -------------------------------------------------------------------------------
    def day(self) -> int:
        """Scenario day (0 = start_date) of the current simulation time."""
        return int(self.env.now) - self.net.warmup_days

    def at_day(self, day: int, action: Callable[[int], None]) -> None:
        """Call ``action(day)`` in the policy phase of scenario day ``day`` (or of the current
        day, if that has passed); ``action`` gets the scenario day it runs on."""
        warmup = self.net.warmup_days
        self.clock.at(day + warmup, lambda now: action(now - warmup))

    def wake(self, day: int) -> simpy.Event:
        """An event that succeeds in the policy phase of scenario day ``day`` (or of the
        current day, if that has passed): ``yield world.wake(day)`` in a SimPy process."""
        return self.clock.wake(day + self.net.warmup_days)

    def start(self) -> None:
        """Set up every entity's step action, install the events and start the clock.

        The actions of one phase run in the order they are added here (the scenario's
        declaration order; facilities upstream stages first).
        """
        from .events import install_events

        net = self.net
        market = self.scenario.market
        if market.enabled and market.prices:  # prices form after the step's trade
            self.market = Market(market, net, net.buyers, self.rec, self.scenario.recipes,
                                 export_tiers(self.scenario))
            if self._backfill:  # a short buyer's fill counts the lots landing in its step
                self.market.projected_fills = self.projected_fills
        self.clock.phases = [
            [self._producer(f) for f in net.facilities],  # sorted by stage
            [self._consumer(d) for d in net.demands],
            [self._stockpile(sp) for sp in net.stockpiles],
            [self._orderer(b) for b in net.ordering_buyers],
            [self._allocator(p) for p in net.pools.values()],
        ]
        if self.market is not None:
            self.clock.phases.append([self.market.update])
            if net.investments:  # then projects commit on the step's prices
                self.investments = Investments(self, self.market, net.investments)
                self.clock.phases[-1].append(self.investments.update)
            if market.destocking.max_cover_cut > 0.0:  # buyers' cover follows the prices
                destocking = Destocking(market.destocking, self.market, net)
                self.clock.phases[-1].append(destocking.update)
        install_events(self)
        if self.market is not None:  # export tiers split while a control tells them apart
            self.market.watch(self.events)
        for f in net.facilities:
            if not f.online and f.start_day != NEVER:
                self.build(f)
        self.env.process(self.clock.run())

    def build(self, f: FacilityRT) -> None:
        """Commission ``f`` on its start day (a SimPy process waits for it)."""
        self.env.process(self._construction(f, self.wake(f.start_day)))  # type: ignore[arg-type]

    def _construction(self, f: FacilityRT, ready: simpy.Event):
        """A plant that starts during the run exists from its start day on (SimPy process)."""
        yield ready
        self.commission(f)

    def commission(self, f: FacilityRT) -> None:
        """``f`` exists from today: it counts in its pools' targets and capacity, buyers of
        its outputs may order from it, and events learn of it."""
        commission(f)
        pools = {id(pool) for pool, _, _ in f.outputs}
        for b in self.net.buyers:
            if any(id(lane.pool) in pools for lane in b.lanes):
                b.dirty = True
        for event in self.events:
            event.on_commission(f)

    def run(self) -> None:
        """Run the warm-up and the horizon: ``env.run(until=...)`` on the world's environment.

        Work on the end day itself is not done (as with ``env.run(until=...)``). A last step
        that runs past the end date is simulated whole, and its demand and production rows
        are recorded as its days before the end date (:attr:`.Recorder.last_step`).
        """
        self.start()
        self.env.run(until=self.net.warmup_days + self.scenario.horizon_days)

    def _land(self, lots: list[tuple[Lane, float]]) -> None:
        """Lots arriving today land in their buyers' inventories, in the order they were sent.

        A lot that lands mid-step at a demand sector whose stock ran out in this step first
        serves the rest of the step's demand as much as a daily run would have served it
        (each lot of the step standing for the days of orders it was placed for:
        :func:`~.late.served`); a plant whose inputs ran out runs again."""
        if self._backfill:  # a step's consumption reads the lots of its first day
            self._landed = (int(self.env.now), lots)
        for lane, q, span in lots:
            lane.on_order -= q
            b = lane.buyer
            if b.short_from is None:
                b.on_hand += q
            elif b.plant is None:
                left = b.on_hand + q - self._serve_late(b, q, span)
                b.on_hand = left if left > 0.0 else 0.0  # (rounding: never below zero)
            else:
                b.on_hand += q
                self._produce_late(b.plant)

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
        rooms = [(k, pool, coef, self._room_cell(pool))
                 for k, (pool, _, coef) in enumerate(f.outputs)]
        outputs = [(k, pool, mid, coef, rec.output(f, mid))
                   for k, (pool, mid, coef) in enumerate(f.outputs)]
        weights = f.room_weight  # updated in place when a producer of its pools starts
        inputs = f.inputs
        full_rate = f.capacity_tpd * step
        backfill = self._backfill and bool(inputs)

        def produce(now: int) -> None:
            day = now - warmup
            cap_runs = full_rate
            if f.start_day is not None or f.availability:
                cap_runs *= f.capacity_over(day, step)
            need_runs = 0.0
            if len(weights) != len(rooms):  # (zip(..., strict=True)'s check: its keyword
                # argument costs more than the loop)
                raise ValueError(f"{f.fid}: {len(weights)} room weights, {len(rooms)} outputs")
            for k, pool, coef, cell in rooms:
                weight = weights[k]
                if cell[0] != now:
                    room = pool.cover_t + pool.outflow_tpd * step - pool.stock
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
            if backfill:  # lots landing later in the step may let it run then
                # (a subnormal shortage has no rate to run at: desired / step is 0)
                if runs < desired * (1.0 - 1e-12) and (late_rate := desired / step) > 0.0:
                    f.late_rate = late_rate
                    f.late_from = now + runs / f.late_rate
                    f.late_end = now + step
                    f.late_rows = [-1] * len(outputs)
                    for buyer, _ in inputs:
                        buyer.short_from = f.late_from
                elif f.late_from is not None:
                    self._stop_late(f)
            if runs <= 0.0:
                return
            for buyer, coef in inputs:
                q = runs * coef
                left = buyer.on_hand - q
                buyer.on_hand = left if left > 0.0 else 0.0
                used[buyer.material] += q
            late = f.late_rows if f.late_from is not None else None
            made = f.made_t
            for k, pool, mid, coef, key in outputs:
                q = runs * coef
                pool.stock += q
                produced[mid] += q
                if made is not None:  # (an offtake contract's share of it)
                    made[k] += q
                if day >= 0:
                    if late is not None:
                        late[k] = len(pr_day)
                    pr_day.append(day)
                    pr_key.append(key)
                    pr_q.append(q)

        return produce

    # -- demand -----------------------------------------------------------------------------
    def _consumer(self, d: DemandRT):
        step = self.net.step_days
        warmup = self.net.warmup_days
        b = d.buyer
        stream = self.streams.get(f"demand:{d.did}") if d.cv > 0 else None
        shape = 1.0 / (d.cv * d.cv) if d.cv > 0 else 0.0
        # the stream's standard gamma variates, a block at a time: numpy draws a block in the
        # same sequence as one at a time, and gamma(shape, scale) is scale * standard_gamma
        # (so the same values, bit for bit, at a third of the cost)
        draws: list[float] = []
        drawn = 0
        delivered, stockpiles, rec = self.delivered_t, self.net.stockpiles, self.rec
        held_cell = self._held_cell
        ts_day, ts_key, ts_demand, ts_delivered, ts_inventory, ts_stockpile = rec.ts
        material = b.material
        growth = 1.0 + d.growth_pa
        in_step = sum(growth ** (k / 365.0) for k in range(step)) / step
        key = -1
        backfill = self._backfill
        ts_destroyed, ts_thrifted = rec.destroyed, rec.thrifted
        market = self.scenario.market
        responses = market.demand_response
        thrift = None  # lagged thrifting (demand_response.py); none with the market off
        if market.enabled:
            thrift = thrift_for(responses.sectors.get(d.sector, responses.default).thrifting,
                                self.market, b, step)
        index = None  # the sector's price index when it responds to price (docs/markets.md)
        e_short = 0.0
        if self.market is not None:
            index = self.market.index_of.get(id(b))
            e_short = self.market.elasticity_of(d.sector)
            if e_short == 0.0:
                index = None
        t_index = thrift.index if thrift is not None else None  # None: shortage only
        t_down = thrift is not None and thrift.down > 0.0
        reads_price = t_index is not None or index is not None  # then tariffs matter
        bid = id(b)

        def consume(now: int) -> None:
            nonlocal key, draws, drawn
            day = now - warmup
            if d.modifiers:
                rate = d.mean_rate(day, step, in_step)
            else:  # as DemandRT.mean_rate, inlined
                rate = d.rate_tpd
                if growth != 1.0:
                    rate *= growth ** (day / 365.0) * in_step
            want = rate * step
            if stream is not None:  # drawn every step, also at zero demand, so the
                # sector's stream stays in step with other scenarios (common random numbers)
                if drawn == len(draws):
                    draws = stream.standard_gamma(shape, GAMMA_BLOCK).tolist()
                    drawn = 0
                want = want / shape * draws[drawn]
                drawn += 1
            thrifted = 0.0
            landed = 1.0  # the buyer's tariffs on its price, when a response reads it
            if reads_price and b.tariffed:
                landed = landed_factor(b, day, step)
            if thrift is not None and day >= 0:  # on last step's price and fill (causal),
                # from the start date (the warm-up's start-up transient is no signal)
                share = thrift.share  # Thrift.update leaves it as it is when neither
                # price (above its reference) nor shortage presses and it cannot recover:
                # skip the call then (the sector's usual step; bit-identical)
                if (b.last_fill < 1.0 or (t_index is not None and t_index.price * landed
                                          > t_index.reference) or (share > 0.0 and t_down)):
                    if backfill and b.last_fill < 1.0 and b.short_rate > 0.0:  # day by day
                        share = thrift.update_days(daily_fills(  # over its last step's days
                            b.step_arrivals, b.short_rate, step), landed)
                    else:
                        share = thrift.update(b.last_fill, landed)
                if share > 0.0:
                    rate *= 1.0 - share
                    full = want
                    want = full * (1.0 - share)
                    thrifted = full - want
            destroyed = 0.0
            if index is not None and index.price * landed > index.reference:
                # short-run response to last step's landed price; a price below the
                # reference creates no demand beyond the scenario's (docs/markets.md)
                mult = (index.price * landed / index.reference) ** -e_short
                rate *= mult
                full = want
                want = full * mult
                destroyed = full - want
            b.usage_per_day = rate
            on_hand = b.on_hand
            got = want if want < on_hand else on_hand  # min(on_hand, want)
            on_hand -= got
            b.on_hand = on_hand
            b.last_fill = got / want if want > 0 else 1.0
            delivered[material] += got
            if backfill:  # lots landing later in the step may serve the rest
                if got < want:
                    b.short_rate = want / step
                    b.short_from = now + got / b.short_rate
                    b.step_end = now + step
                    b.used_to = 0.0
                    b.short_row = len(ts_day) if day >= 0 else -1
                    b.step_served = got  # = what its supply so far serves (see .late)
                    # its supply in the step: the stock it carried in, and the lots that
                    # landed today, each standing for the days of orders it was placed for
                    landed_day, landed = self._landed
                    lots = ([(0.0, q, n) for lane, q, n in landed if lane.buyer is b]
                            if landed_day == now else [])
                    carried = got
                    for _, q, _ in lots:
                        carried -= q
                    b.step_arrivals = [(0.0, carried, 0), *lots]
                    b.step_sweep = StepServed(b.step_arrivals, b.short_rate, step)
                else:
                    b.short_from = None
            if day >= 0:
                held = 0.0
                if stockpiles:
                    if held_cell[0] != now:  # the step's holdings per buyer, once per step
                        held_cell[0] = now
                        held_cell[1] = held_by_buyer(stockpiles)
                    held = held_cell[1].get(bid, 0.0)
                if key < 0:
                    key = rec.demand_key(d)
                ts_day.append(day)
                ts_key.append(key)
                ts_demand.append(want)
                ts_delivered.append(got)
                ts_inventory.append(on_hand)
                ts_stockpile.append(held)
                ts_destroyed.append(destroyed)
                ts_thrifted.append(thrifted)

        return consume

    # -- stockpiles -------------------------------------------------------------------------
    def _stockpile(self, sp: StockpileRT):
        step = self.net.step_days
        warmup = self.net.warmup_days
        account = sp.buyer
        assert account is not None
        key = self.rec.stockpile(sp)
        sp_day, sp_key, sp_held, sp_released, sp_bought = self.rec.sp
        backfill = self._backfill

        def tend(now: int) -> None:
            if now < warmup:  # holdings are as declared on the start date: the warm-up's
                return        # filling pipelines must not draw on them, nor buying add
            bought = account.on_hand  # purchases that arrived join the reserve
            sp.holdings += bought
            account.on_hand = 0.0
            before = [b.on_hand for b in sp.buyers]
            released = release(sp, step)
            sp.releasing = released is not None
            if released:
                if backfill:  # released tonnes arrive today: like a landing lot, they
                    for b in sp.buyers:  # first serve a demand sector's shortfall of this
                        # step, or run a plant that ran out in it from that day
                        # (docs/engine.md, "A day, in order", step 4)
                        if b.short_from is None or b.on_hand <= 0.0:
                            continue
                        if b.plant is None:
                            left = b.on_hand - self._serve_late(b, b.on_hand, 0)
                            b.on_hand = left if left > 0.0 else 0.0
                        else:
                            self._produce_late(b.plant)
                see_through(sp.buyers, before)
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
            if q > dust(sp.buy_tpd * step):
                if account.tariffed and retariff(account, now - warmup, step):  # purchases
                    account.dirty = True  # follow tariffs as every buyer's orders do
                if account.dirty:
                    account.reshare(now - warmup)
                    account.dirty = False
                for lane in account.lanes:
                    if lane.share > 0:
                        lane.pool.orders.append((lane, q * lane.share))

        return tend


def held_by_buyer(stockpiles: list) -> dict[int, float]:
    """id(buyer) -> holdings (t) of the stockpiles that serve it, summed in their order."""
    held: dict[int, float] = {}
    for sp in stockpiles:
        h = sp.holdings
        for key in dict.fromkeys(map(id, sp.buyers)):  # each buyer once per stockpile
            held[key] = held.get(key, 0.0) + h
    return held
