"""The engine's network as a plain numpy/Python time-stepped loop: the speed of light.

:func:`simulate` runs the same network (compiled by :func:`~simulator.engine.network.
build_network`) through the same step as docs/engine.md describes (arrive, produce by stage,
consume, stockpile release, order, allocate) with arrays over facilities, buyers, lanes and
pools instead of one SimPy event per entity and per lot. It covers what the shipped baseline
uses: facilities with start dates and ramp-up, shared pools with pull targets, demand with
growth, switching between suppliers, tiered pro-rata rationing (``domestic``, ``priority``)
and stockpile releases. No policy events, no demand variability, no demand response to price
or shortage (it refuses scenarios that have them; the shipped baseline thrifts, so it runs the
baseline with :data:`WITHOUT_DEMAND_RESPONSE`). It records the per-step delivered tonnes of
every demand sector, as the engine records its time series.

:func:`check` compares its totals with the engine's ledger: produced and delivered tonnes
per material over the run must agree within :data:`TOLERANCE` (relative to the material's
throughput). They are not bit-identical: sums run in a different order.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.engine import run_replication
from simulator.engine.builder import build_network
from simulator.engine.ordering import TRUSTED
from simulator.engine.stockpile import FULL
from simulator.engine.world import USAGE_SMOOTHING_DAYS
from simulator.scenario.models import Scenario

TOLERANCE = 1e-6
"""Largest relative difference allowed between reference and engine totals per material."""

WITHOUT_DEMAND_RESPONSE = ("market.demand_response.default.thrifting.max_share=0",)
"""``--set`` overrides that turn off the shipped baseline's demand response (its thrifting),
which the reference does not model."""


def responds(s: Scenario) -> bool:
    """True when demand or buyers' cover responds to price or shortage (the market's
    ``demand_response`` or ``destocking``)."""
    if not s.market.enabled:
        return False
    r = s.market.demand_response
    return s.market.destocking.max_cover_cut > 0 or any(
        x.elasticity > 0 or x.thrifting.max_share > 0 for x in (r.default, *r.sectors.values()))


class Arrays:
    """The compiled network as index arrays (built once, outside the timed loop)."""

    def __init__(self, s: Scenario):
        if s.events or s.uncertainty or any(d.cv > 0 for d in s.demand.values()):
            raise ValueError("the reference covers scenarios without events, uncertainty "
                             "or demand variability")
        if responds(s):
            raise ValueError("the reference covers scenarios without a demand response "
                             "(see WITHOUT_DEMAND_RESPONSE)")
        net = build_network(s)
        self.net = net
        self.step = step = net.step_days
        self.warmup = net.warmup_days
        self.n_steps = -(-(net.warmup_days + s.horizon_days) // step)
        self.materials = list(s.materials)
        mat = {m: i for i, m in enumerate(self.materials)}
        pools = list(net.pools.values())
        pix = {id(p): i for i, p in enumerate(pools)}
        bix = {id(b): i for i, b in enumerate(net.buyers)}
        self.rule = list(s.allocation.rule)
        self.alpha = -math.expm1(-step / USAGE_SMOOTHING_DAYS)
        self.fill_alpha = -math.expm1(-step / s.switching.adjustment_days)
        self.switching = s.switching.enabled

        # pools
        self.stock = np.array([p.stock for p in pools])
        self.cover_t = np.array([p.cover_t for p in pools])
        self.outflow = np.array([p.outflow_tpd for p in pools])
        self.pool_mat = np.array([mat[p.material] for p in pools])
        self.pool_country = [p.country for p in pools]
        # buyers
        bs = net.buyers
        self.on_hand = np.array([b.on_hand for b in bs])
        self.usage = np.array([b.usage_per_day for b in bs])
        self.cover = np.array([b.cover_days for b in bs], dtype=np.float64)
        self.last_fill = np.ones(len(bs))
        self.buyer_mat = np.array([mat[b.material] for b in bs])
        accounts = {id(sp.buyer) for sp in net.stockpiles}
        self.ordering = np.array([id(b) not in accounts for b in bs])
        # lanes
        lanes = [lane for b in bs for lane in b.lanes]
        if any(lane.qualification_days is not None for lane in lanes):
            raise ValueError("the reference does not model alternative suppliers")
        self.lane_buyer = np.array([bix[id(lane.buyer)] for lane in lanes])
        self.lane_pool = np.array([pix[id(lane.pool)] for lane in lanes])
        self.base = np.array([lane.base_share for lane in lanes])
        # a lot sent today is used from the next step at the earliest
        self.lead_steps = np.array([max(1, -(-lane.lead_days // step)) for lane in lanes])
        self.lead_round = self.lead_steps * float(step)
        self.lane_ordering = self.ordering[self.lane_buyer]
        tiers = []
        for lane in lanes:
            key = []
            for k in self.rule:
                if k == "domestic":
                    key.append(0 if lane.buyer.country == lane.pool.country else 1)
                elif k == "priority":
                    key.append(-lane.buyer.priority)
                else:  # agreement: no partners without events
                    key.append(1)
            tiers.append(tuple(key))
        order = {t: i for i, t in enumerate(sorted(set(tiers)))}
        self.lane_tier = np.array([order[t] for t in tiers])
        self.n_tiers = len(order)
        # facilities, padded to the most inputs / outputs
        fs = net.facilities
        mi = max([len(f.inputs) for f in fs] + [1])
        mo = max([len(f.outputs) for f in fs] + [1])
        self.stages = sorted({f.stage_index for f in fs})
        self.fac_stage = np.array([f.stage_index for f in fs])
        self.cap_tpd = np.array([f.capacity_tpd for f in fs])
        self.start = np.array([-10**9 if f.start_day is None else f.start_day for f in fs])
        self.ramp = np.array([f.ramp_days for f in fs])
        self.desired_rpd = np.array([f.desired_runs_per_day for f in fs])
        self.in_buyer = np.full((len(fs), mi), -1)
        self.in_coef = np.ones((len(fs), mi))
        self.out_pool = np.full((len(fs), mo), -1)
        self.out_coef = np.ones((len(fs), mo))
        self.out_weight = np.zeros((len(fs), mo))
        for i, f in enumerate(fs):
            for j, (b, coef) in enumerate(f.inputs):
                self.in_buyer[i, j], self.in_coef[i, j] = bix[id(b)], coef
            for j, ((p, _, coef), w) in enumerate(zip(f.outputs, f.room_weight, strict=True)):
                self.out_pool[i, j], self.out_coef[i, j], self.out_weight[i, j] = \
                    pix[id(p)], coef, w
        # a pool's room is measured at the turn of its first producer's stage
        first = {}
        for f in fs:
            for p, _, _ in f.outputs:
                first.setdefault(pix[id(p)], f.stage_index)
        self.room_stage = np.array([first.get(i, -1) for i in range(len(pools))])
        # demand
        self.dem_buyer = np.array([bix[id(d.buyer)] for d in net.demands])
        self.dem_rate = np.array([d.rate_tpd for d in net.demands])
        self.dem_growth = np.array([d.growth_pa for d in net.demands])
        # mean over a step's days of the growth factor from the step's first day
        self.dem_in_step = np.array([
            sum((1.0 + d.growth_pa) ** (k / 365.0) for k in range(step)) / step
            for d in net.demands])
        # stockpiles (a few: plain Python)
        self.stockpiles = [
            {"account": bix[id(sp.buyer)], "buyers": [bix[id(b)] for b in sp.buyers],
             "holdings": sp.holdings, "trigger": sp.trigger.name, "threshold": sp.threshold,
             "max_release": sp.max_release_tpd, "buy": sp.buy_tpd, "target": sp.target_t,
             "lanes": np.flatnonzero(self.lane_buyer == bix[id(sp.buyer)])}
            for sp in net.stockpiles
        ]
        self.initial = dict(net.initial_t)


def simulate(a: Arrays) -> dict:
    """Run the time-stepped reference; returns totals per material and per-step deliveries."""
    step, warmup = a.step, a.warmup
    n_mat = len(a.materials)
    stock, on_hand = a.stock.copy(), a.on_hand.copy()
    outflow = a.outflow.copy()
    usage, last_fill = a.usage.copy(), a.last_fill.copy()
    desired_rpd = a.desired_rpd.copy()
    n_lanes, n_pools, n_buyers = len(a.base), len(stock), len(on_hand)
    share = a.base.copy()
    fill_seen = np.ones(n_lanes)
    observed = np.zeros(n_lanes, dtype=bool)
    on_order = np.zeros(n_lanes)
    ring = int(a.lead_steps.max(initial=0)) + 1
    pipeline = np.zeros((ring, n_lanes))
    produced, used, delivered = np.zeros(n_mat), np.zeros(n_mat), np.zeros(n_mat)
    holdings = [sp["holdings"] for sp in a.stockpiles]
    record_from = -(-warmup // step)
    series = np.zeros((max(0, a.n_steps - record_from), len(a.dem_buyer)))
    has_in = a.in_buyer >= 0
    in_b = np.where(has_in, a.in_buyer, 0)
    has_out = a.out_pool >= 0
    out_p = np.where(has_out, a.out_pool, 0)
    stage_rows = [np.flatnonzero(a.fac_stage == s) for s in a.stages]
    room = np.zeros(n_pools)
    lane_b, lane_p = a.lane_buyer, a.lane_pool
    ordering_lanes = a.lane_ordering
    growth = 1.0 + a.dem_growth

    for k in range(a.n_steps):
        now = k * step
        day = now - warmup
        # 1. arrive
        slot = k % ring
        lots = pipeline[slot]
        if lots.any():
            on_order -= lots
            on_hand += np.bincount(lane_b, lots, minlength=n_buyers)
            pipeline[slot] = 0.0
        # 2. produce, upstream stages first
        for s, rows in zip(a.stages, stage_rows, strict=True):
            fresh = a.room_stage == s
            room[fresh] = np.maximum(0.0, a.cover_t[fresh] + outflow[fresh] * step
                                     - stock[fresh])
            # capacity: mean over the step's days of start and ramp-up
            since = day - a.start[rows][:, None] + np.arange(step)[None, :]
            ramp = a.ramp[rows][:, None]
            factor = np.where(since >= ramp, 1.0,
                              np.where(since < 0, 0.0, (since + 1) / (ramp + 1))).mean(axis=1)
            cap_runs = a.cap_tpd[rows] * step * factor
            need = np.where(has_out[rows], room[out_p[rows]] * a.out_weight[rows]
                            / a.out_coef[rows], 0.0).max(axis=1)
            desired = np.minimum(cap_runs, need)
            avail = np.where(has_in[rows], on_hand[in_b[rows]] / a.in_coef[rows], np.inf)
            runs = np.minimum(desired, avail.min(axis=1))
            with np.errstate(divide="ignore", invalid="ignore"):
                fill = np.where(desired[:, None] > 0,
                                np.minimum(1.0, avail / desired[:, None]), 1.0)
            desired_rpd[rows] += a.alpha * (desired / step - desired_rpd[rows])
            ib, hi = in_b[rows][has_in[rows]], has_in[rows]
            last_fill[ib] = fill[hi]
            usage[ib] = (desired_rpd[rows][:, None] * a.in_coef[rows])[hi]
            runs = np.maximum(runs, 0.0)
            draw = (runs[:, None] * a.in_coef[rows])[hi]
            on_hand[ib] = np.maximum(0.0, on_hand[ib] - draw)
            used += np.bincount(a.buyer_mat[ib], draw, minlength=n_mat)
            out = (runs[:, None] * a.out_coef[rows])[has_out[rows]]
            op = out_p[rows][has_out[rows]]
            stock += np.bincount(op, out, minlength=n_pools)
            produced += np.bincount(a.pool_mat[op], out, minlength=n_mat)
        # 3. consume
        db = a.dem_buyer
        rate = a.dem_rate * np.where(growth != 1.0, growth ** (day / 365.0) * a.dem_in_step,
                                     1.0)
        usage[db] = rate
        want = rate * step
        got = np.minimum(on_hand[db], want)
        on_hand[db] -= got
        last_fill[db] = np.where(want > 0, got / np.where(want > 0, want, 1.0), 1.0)
        delivered += np.bincount(a.buyer_mat[db], got, minlength=n_mat)
        if day >= 0:
            series[k - record_from] = got
        # 4. stockpiles release (and buy)
        orders = np.zeros(n_lanes)
        for i, sp in enumerate(a.stockpiles):
            acc = sp["account"]
            holdings[i] += on_hand[acc]
            on_hand[acc] = 0.0
            bs = sp["buyers"]
            releasing = False
            use = usage[bs].sum()
            if use > 0.0:
                level = ((last_fill[bs] * usage[bs]).sum() / use if sp["trigger"] == "fill_rate"
                         else on_hand[bs].sum() / use)
                if level < sp["threshold"]:
                    releasing = True
                    if holdings[i] > 0.0:
                        needs = np.where(
                            last_fill[bs] < FULL,
                            np.maximum(0.0, usage[bs] * (a.cover[bs] + step) - on_hand[bs]),
                            0.0)
                        amount = min(holdings[i], sp["max_release"] * step, needs.sum())
                        if amount > 0.0:
                            holdings[i] -= amount
                            on_hand[bs] += amount * needs / needs.sum()
            if not releasing and sp["buy"] > 0.0:
                ln = sp["lanes"]
                q = min(sp["buy"] * step, sp["target"] - holdings[i] - on_order[ln].sum())
                if q > 1e-9:
                    orders[ln] += np.where(share[ln] > 0, q * share[ln], 0.0)
        # 5. order: fill views drift back, shares, order-up-to
        drift = ordering_lanes & ~observed & (fill_seen < 1.0)
        fill_seen[drift] += a.fill_alpha * (1.0 - fill_seen[drift])
        fill_seen[drift & (fill_seen > TRUSTED)] = 1.0
        observed[ordering_lanes] = False
        w = a.base * (fill_seen if a.switching else 1.0)
        total = np.bincount(lane_b, w, minlength=n_buyers)[lane_b]
        base_total = np.bincount(lane_b, a.base, minlength=n_buyers)[lane_b]
        fresh = ordering_lanes
        share[fresh] = np.where(total > 1e-12, w / np.where(total > 0, total, 1.0),
                                a.base / np.where(base_total > 0, base_total, 1.0))[fresh]
        lead = np.bincount(lane_b, np.where(share > 0, share * a.lead_round, 0.0),
                           minlength=n_buyers)
        position = on_hand + np.bincount(lane_b, on_order, minlength=n_buyers)
        q = usage * (a.cover + lead) - position
        qb = q[lane_b]
        place = ordering_lanes & (qb > 1e-9) & (share > 0.0)
        orders[place] += qb[place] * share[place]
        # 6. allocate: fill all, or ration by tiers, pro rata within a tier: every order's
        # use part (its share of the buyer's use in a step) first, then the restocking rest
        demand_p = np.bincount(lane_p, orders, minlength=n_pools)
        fills = orders.copy()
        short = np.flatnonzero(demand_p > stock)
        use_part = np.minimum(orders, usage[lane_b] * step * share)
        for p in short:
            idx = np.flatnonzero((lane_p == p) & (orders > 0))
            left = stock[p]
            fills[idx] = 0.0
            for part in (use_part, orders - use_part):
                for t in range(a.n_tiers):
                    tier = idx[a.lane_tier[idx] == t]
                    if not len(tier):
                        continue
                    want_t = part[tier].sum()
                    f = min(1.0, left / want_t) if want_t > 0 else 0.0
                    fills[tier] += part[tier] * f
                    left = max(0.0, left - want_t * f)
        stock -= np.bincount(lane_p, fills, minlength=n_pools)
        outflow += a.alpha * (demand_p / step - outflow)
        on_order += fills
        np.add.at(pipeline, ((k + a.lead_steps) % ring, np.arange(n_lanes)), fills)
        seen_lanes = orders > 0
        seen = np.where(seen_lanes, fills / np.where(seen_lanes, orders, 1.0), 1.0)
        fill_seen[seen_lanes] += a.fill_alpha * (seen[seen_lanes] - fill_seen[seen_lanes])
        observed |= seen_lanes
    return {
        "produced_t": dict(zip(a.materials, produced.tolist(), strict=True)),
        "used_t": dict(zip(a.materials, used.tolist(), strict=True)),
        "delivered_t": dict(zip(a.materials, delivered.tolist(), strict=True)),
        "series": series,
    }


def check(scenario: Scenario, totals: dict) -> float:
    """Largest relative difference between reference and engine totals (produced and
    delivered per material, relative to the material's throughput); raises if above
    :data:`TOLERANCE`."""
    ledger = run_replication(scenario).balance.set_index("material")
    worst = 0.0
    for m in ledger.index:
        scale = max(1.0, ledger.at[m, "initial_t"] + ledger.at[m, "produced_t"])
        for col in ("produced_t", "delivered_t"):
            worst = max(worst, abs(totals[col][m] - ledger.at[m, col]) / scale)
    if worst > TOLERANCE:
        raise AssertionError(f"reference and engine disagree: relative difference {worst:.2e} "
                             f"> {TOLERANCE:g}")
    return worst


def run(repeats: int, name: str = "baseline") -> dict:
    """Engine vs the time-stepped reference on ``scenarios/<name>.yaml``, measured alternately."""
    from simulator.scenario import load_scenario

    from .common import SCENARIOS, section, table, timed

    section(f"2. Engine vs a numpy/Python time-stepped reference ({name}, thrifting off)")
    s = load_scenario(SCENARIOS / f"{name}.yaml", WITHOUT_DEMAND_RESPONSE)
    arrays = Arrays(s)
    totals = simulate(arrays)
    worst = check(s, totals)
    run_replication(s)
    engine, reference = [], []
    for _ in range(repeats):
        engine.append(timed(lambda: run_replication(s))[0])
        reference.append(timed(lambda: simulate(arrays))[0])
    engine_s, reference_s = float(np.median(engine)), float(np.median(reference))
    table([
        (f"engine, one replication (median of {repeats})", f"{engine_s:.3f} s"),
        ("numpy reference, same network", f"{reference_s:.3f} s"),
        ("ratio engine / reference", f"{engine_s / reference_s:.2f}"),
        ("totals agree (produced, delivered per material)",
         f"max relative difference {worst:.1e} (tolerance {TOLERANCE:g})"),
    ])
    return {"engine_s": engine_s, "reference_s": reference_s, "ratio": engine_s / reference_s,
            "max_relative_difference": worst}
