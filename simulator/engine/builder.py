"""Compiling a validated scenario into its runtime :class:`~.network.Network`: the facilities
that exist in a replication, their pools, buyers and lanes, and starting inventories."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..scenario.models import Scenario
from .network import (
    NEVER,
    RESERVE_PRIORITY,
    Buyer,
    DemandRT,
    FacilityRT,
    Lane,
    Network,
    Pool,
)
from .stockpile import TRIGGERS, StockpileRT, stockpile_buyers, watched_demand


@dataclass(frozen=True)
class FacilitySpec:
    """What the network needs of a facility, from ``facilities`` or an agreement."""

    fid: str
    country: str
    recipe: str
    capacity_tpy: float
    start_date: dt.date | None
    ramp_up_days: int
    input_cover_days: float
    output_cover_days: float
    invest: Any = None
    """The facility's ``invest`` (built on price), or None."""



def facility_specs(s: Scenario, events: dict) -> list[FacilitySpec]:
    """Scenario facilities plus those that happening cooperation agreements build."""
    specs = [
        FacilitySpec(fid, f.country, f.recipe, f.capacity_tpy, f.start_date, f.ramp_up_days,
                     f.input_cover_days, f.output_cover_days, f.invest)
        for fid, f in s.facilities.items()
    ]
    for ev in events.values():
        if ev.type == "cooperation_agreement":
            for fid, nf in ev.facilities.items():
                start = nf.investment_decision + dt.timedelta(days=nf.construction_days)
                specs.append(FacilitySpec(fid, nf.country, nf.recipe, nf.capacity_tpy, start,
                                          nf.ramp_up_days, nf.input_cover_days,
                                          nf.output_cover_days))
    return specs


def commission(f: FacilityRT) -> None:
    """``f`` exists from now on: its output pools count its capacity and output cover in
    their target stock, and it takes its share of their room."""
    f.online = True
    for (pool, _, coef), target, cover in zip(f.outputs, f.target_t, f.cover_t, strict=True):
        pool.target_t += target
        pool.cover_t += cover
        pool.capacity_tpd += f.capacity_tpd * coef
    for pool, _, _ in f.outputs:
        for g in pool.producers:
            g.room_weight[:] = [
                t / p.target_t if g.online and p.target_t > 0 else 0.0
                for (p, _, _), t in zip(g.outputs, g.target_t, strict=True)]


def build_network(s: Scenario, happens: dict | None = None) -> Network:
    """Compile a validated scenario into its runtime network with starting inventories.

    ``happens`` maps event ids to whether they occur in this replication (default: all).
    Starting state: pools hold the output cover of the plants running at the start of the
    warm-up; a plant that starts later brings no stock and does not count in any pool's
    target or capacity until it is commissioned on its start day (:func:`commission`, run by
    the world). Buyers hold their target cover, nothing is in transit.
    The warm-up (a whole number of steps) lets pipelines fill before day 0.
    """
    step = s.simulation.step_days
    warmup = -(-s.simulation.warmup_days // step) * step
    net = Network(step_days=step, warmup_days=warmup, start_date=s.start_date)
    net.events = {eid: ev for eid, ev in s.events.items() if happens is None or happens[eid]}
    stage_index = {name: i for i, name in enumerate(s.stages)}

    def pool(country: str, material: str) -> Pool:
        key = (country, material)
        if key not in net.pools:
            net.pools[key] = Pool(country, material)
        return net.pools[key]

    sourcing = {(src.country, src.material): src for src in s.sourcing.values()}

    def connect(buyer: Buyer) -> None:
        src = sourcing.get((buyer.country, buyer.material))
        suppliers = src.suppliers if src else {buyer.country: 1.0}
        for sup, share in suppliers.items():
            if share > 0:
                lead = s.lead_time_days(sup, buyer.country)
                buyer.lanes.append(Lane(buyer, pool(sup, buyer.material), share, lead))
        for sup, qual in (src.alternatives.items() if src else ()):
            if sup not in suppliers or suppliers[sup] <= 0:
                lead = s.lead_time_days(sup, buyer.country)
                buyer.lanes.append(Lane(buyer, pool(sup, buyer.material), 0.0, lead, qual))
        buyer.switching = s.switching.enabled

    specs = sorted(facility_specs(s, net.events),
                   key=lambda f: stage_index[s.recipes[f.recipe].stage])
    for f in specs:
        rec = s.recipes[f.recipe]
        rt = FacilityRT(f.fid, f.country, rec.stage, stage_index[rec.stage])
        rt.capacity_tpd = f.capacity_tpy / 365.0
        if f.start_date is not None and f.start_date > s.start_date - dt.timedelta(warmup):
            rt.start_day = s.day_of(f.start_date)
        if f.invest is not None:  # not built until a price calls for it
            rt.start_day = NEVER
            net.investments.append((rt, f.invest))
        rt.ramp_days = f.ramp_up_days
        active_now = rt.capacity_factor(-warmup)
        rt.desired_runs_per_day = rt.capacity_tpd * active_now
        for mid, coef in rec.inputs.items():
            b = Buyer(f.fid, f.country, mid, f.input_cover_days, priority=0)
            b.plant = rt
            b.usage_per_day = rt.desired_runs_per_day * coef
            rt.inputs.append((b, coef))
            net.buyers.append(b)
        for mid, coef in rec.outputs.items():
            p = pool(f.country, mid)
            p.producers.append(rt)
            rt.outputs.append((p, mid, coef))
        rt.target_t = [rt.capacity_tpd * coef * (f.output_cover_days + step)
                       for _, _, coef in rt.outputs]
        rt.cover_t = [rt.capacity_tpd * coef * f.output_cover_days for _, _, coef in rt.outputs]
        rt.room_weight = [0.0] * len(rt.outputs)
        net.facilities.append(rt)
        if rt.start_day is None or rt.start_day <= -warmup:
            commission(rt)  # it exists from the start and holds its output cover (what
            # it keeps after shipping: not a step's make-ahead, which a co-product nobody
            # draws down would keep for ever, and the stock would depend on the step)
            for (p, _, coef), w in zip(rt.outputs, rt.cover_t, strict=True):
                p.stock += w * active_now
                p.outflow_tpd += rt.capacity_tpd * coef * active_now

    for did, d in s.demand.items():
        b = Buyer(did, d.country, d.material, d.cover_days, d.priority)
        rt_d = DemandRT(did, d.sector, b, d.rate_tpy / 365.0, d.growth_pa, d.cv)
        b.usage_per_day = rt_d.rate_on(-warmup)
        net.demands.append(rt_d)
        net.buyers.append(b)

    for b in net.buyers:
        connect(b)
        b.on_hand = b.usage_per_day * b.cover_days

    demand_sector = {id(d.buyer): d.sector for d in net.demands}
    for pid, sp in s.stockpiles.items():
        rt_s = StockpileRT(pid, sp.country, sp.material)
        rt_s.sectors = None if sp.sectors is None else frozenset(sp.sectors)
        rt_s.buyers = stockpile_buyers(rt_s, net.buyers, {sp.country, *sp.eligible_countries},
                                       demand_sector)
        if sp.holdings_t is not None:
            rt_s.holdings = sp.holdings_t
        else:
            own = [b for b in rt_s.buyers if b.country == sp.country]
            rt_s.holdings = (sp.holdings_days or 0.0) * sum(b.usage_per_day for b in own)
        rt_s.target_t = rt_s.holdings if sp.target_t is None else sp.target_t
        rt_s.buy_tpd = sp.refill_tpy / 365.0
        rt_s.trigger = TRIGGERS[sp.release.trigger]
        rt_s.watch = watched_demand(s, sp, net.demands)
        rt_s.threshold = sp.release.threshold
        rt_s.max_release_tpd = sp.release.max_release_tpy / 365.0
        account = Buyer(pid, sp.country, sp.material, 0.0, priority=RESERVE_PRIORITY)
        connect(account)
        rt_s.buyer = account
        net.buyers.append(account)
        net.stockpiles.append(rt_s)

    initial: dict[str, float] = {m: 0.0 for m in s.materials}
    for p in net.pools.values():
        initial[p.material] += p.stock
    for b in net.buyers:
        initial[b.material] += b.on_hand
    for sp_rt in net.stockpiles:
        initial[sp_rt.material] += sp_rt.holdings
    net.initial_t = initial
    return net
