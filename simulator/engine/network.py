"""Runtime network compiled from a validated scenario: pools, buyers, lanes, facilities.

Plain mutable objects with ``__slots__``; quantities are tonnes, rates tonnes per day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..scenario.models import Scenario


class Pool:
    """Sellable stock of one material held by the producers of one country."""

    __slots__ = ("country", "material", "orders", "stock", "target_t")

    def __init__(self, country: str, material: str):
        self.country = country
        self.material = material
        self.stock = 0.0
        self.target_t = 0.0
        """Target stock: sum over producing facilities of full-rate output over
        (output cover + one step)."""
        self.orders: list[tuple[Lane, float]] = []


class Buyer:
    """Inventory of one material held by a consumer: a facility's input or a demand sector."""

    __slots__ = (
        "country",
        "cover_days",
        "label",
        "lanes",
        "last_fill",
        "material",
        "on_hand",
        "priority",
        "usage_per_day",
    )

    def __init__(self, label: str, country: str, material: str, cover_days: float, priority: int):
        self.label = label
        self.country = country
        self.material = material
        self.cover_days = cover_days
        self.priority = priority
        self.on_hand = 0.0
        self.usage_per_day = 0.0
        """Expected use in t/day: the demand rate, or a facility's smoothed desired use."""
        self.last_fill = 1.0
        """Share of last step's need that was met (0..1)."""
        self.lanes: list[Lane] = []


class Lane:
    """An ordering relation from a buyer to a supplier country's pool, with its share."""

    __slots__ = ("buyer", "lead_days", "on_order", "pool", "share")

    def __init__(self, buyer: Buyer, pool: Pool, share: float, lead_days: int):
        self.buyer = buyer
        self.pool = pool
        self.share = share
        self.lead_days = lead_days
        self.on_order = 0.0
        """Tonnes shipped on this lane and not yet arrived (in transit)."""


class FacilityRT:
    """Runtime facility: inputs drawn from buyers, outputs added to pools."""

    __slots__ = (
        "capacity_tpd",
        "country",
        "desired_runs_per_day",
        "fid",
        "inputs",
        "outputs",
        "ramp_days",
        "room_weight",
        "stage",
        "stage_index",
        "start_day",
    )

    def __init__(self, fid: str, country: str, stage: str, stage_index: int):
        self.fid = fid
        self.country = country
        self.stage = stage
        self.stage_index = stage_index
        self.capacity_tpd = 0.0
        self.start_day: int | None = None
        self.ramp_days = 0
        self.inputs: list[tuple[Buyer, float]] = []
        self.outputs: list[tuple[Pool, str, float]] = []
        self.room_weight: list[float] = []
        """This facility's share of each output pool's room (by full-rate output)."""
        self.desired_runs_per_day = 0.0

    def capacity_factor(self, day: int) -> float:
        """Fraction of nameplate capacity available on ``day`` from start date and ramp-up."""
        if self.start_day is None or day >= self.start_day + self.ramp_days:
            return 1.0
        if day < self.start_day:
            return 0.0
        return (day - self.start_day + 1) / (self.ramp_days + 1)


class DemandRT:
    """Runtime demand sector."""

    __slots__ = ("buyer", "cv", "did", "growth_pa", "rate_tpd", "sector")

    def __init__(self, did: str, sector: str, buyer: Buyer, rate_tpd: float, growth_pa: float,
                 cv: float = 0.0):
        self.did = did
        self.cv = cv
        self.sector = sector
        self.buyer = buyer
        self.rate_tpd = rate_tpd
        self.growth_pa = growth_pa

    def rate_on(self, day: int) -> float:
        """Demand in t/day on ``day`` (compound growth from the start date)."""
        if self.growth_pa == 0.0:
            return self.rate_tpd
        return self.rate_tpd * (1.0 + self.growth_pa) ** (day / 365.0)


class StockpileRT:
    """Runtime strategic stockpile releasing into its country's buyers of the material."""

    __slots__ = (
        "buyers",
        "country",
        "holdings",
        "material",
        "max_release_tpd",
        "pid",
        "threshold",
        "trigger",
    )

    def __init__(self, pid: str, country: str, material: str):
        self.pid = pid
        self.country = country
        self.material = material
        self.holdings = 0.0
        self.trigger = "fill_rate"
        self.threshold = 0.0
        self.max_release_tpd = 0.0
        self.buyers: list[Buyer] = []


@dataclass
class Network:
    """Everything the engine mutates during one replication."""

    step_days: int
    warmup_days: int
    start_date: dt.date
    pools: dict[tuple[str, str], Pool] = field(default_factory=dict)
    buyers: list[Buyer] = field(default_factory=list)
    facilities: list[FacilityRT] = field(default_factory=list)
    demands: list[DemandRT] = field(default_factory=list)
    stockpiles: list[StockpileRT] = field(default_factory=list)
    initial_t: dict[str, float] = field(default_factory=dict)
    """Material on hand at the start of the warm-up (inventories, pools, stockpiles)."""

    @property
    def lanes(self) -> list[Lane]:
        return [lane for b in self.buyers for lane in b.lanes]


def build_network(s: Scenario) -> Network:
    """Compile a validated scenario into its runtime network with starting inventories.

    Starting state: pools at target stock, buyers at their target cover, nothing in transit.
    The warm-up (a whole number of steps) lets pipelines fill before day 0.
    """
    step = s.simulation.step_days
    warmup = -(-s.simulation.warmup_days // step) * step
    net = Network(step_days=step, warmup_days=warmup, start_date=s.start_date)
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

    # Facilities, upstream stages first, then in declaration order.
    ordered = sorted(
        s.facilities.items(), key=lambda kv: stage_index[s.recipes[kv[1].recipe].stage]
    )
    for fid, f in ordered:
        rec = s.recipes[f.recipe]
        rt = FacilityRT(fid, f.country, rec.stage, stage_index[rec.stage])
        rt.capacity_tpd = f.capacity_tpy / 365.0
        if f.start_date is not None and f.start_date > s.start_date:
            rt.start_day = s.day_of(f.start_date)
        rt.ramp_days = f.ramp_up_days
        rt.desired_runs_per_day = rt.capacity_tpd
        for mid, coef in rec.inputs.items():
            b = Buyer(fid, f.country, mid, f.input_cover_days, priority=0)
            b.usage_per_day = rt.capacity_tpd * coef
            rt.inputs.append((b, coef))
            net.buyers.append(b)
        for mid, coef in rec.outputs.items():
            p = pool(f.country, mid)
            p.target_t += rt.capacity_tpd * coef * (f.output_cover_days + step)
            rt.outputs.append((p, mid, coef))
        net.facilities.append(rt)
    for rt in net.facilities:
        rt.room_weight = [
            rt.capacity_tpd * coef * (s.facilities[rt.fid].output_cover_days + step) / p.target_t
            if p.target_t > 0
            else 0.0
            for p, _, coef in rt.outputs
        ]

    for did, d in s.demand.items():
        b = Buyer(did, d.country, d.material, d.cover_days, d.priority)
        rt_d = DemandRT(did, d.sector, b, d.rate_tpy / 365.0, d.growth_pa, d.cv)
        b.usage_per_day = rt_d.rate_on(-warmup)
        net.demands.append(rt_d)
        net.buyers.append(b)

    for b in net.buyers:
        connect(b)
        b.on_hand = b.usage_per_day * b.cover_days

    for pid, sp in s.stockpiles.items():
        rt_s = StockpileRT(pid, sp.country, sp.material)
        key = (sp.country, sp.material)
        rt_s.buyers = [b for b in net.buyers if (b.country, b.material) == key]
        if sp.holdings_t is not None:
            rt_s.holdings = sp.holdings_t
        else:
            base_use = sum(b.usage_per_day for b in rt_s.buyers)
            rt_s.holdings = (sp.holdings_days or 0.0) * base_use
        rt_s.trigger = sp.release.trigger
        rt_s.threshold = sp.release.threshold
        rt_s.max_release_tpd = sp.release.max_release_tpy / 365.0
        net.stockpiles.append(rt_s)

    for p in net.pools.values():
        p.stock = p.target_t
    initial: dict[str, float] = {m: 0.0 for m in s.materials}
    for p in net.pools.values():
        initial[p.material] += p.stock
    for b in net.buyers:
        initial[b.material] += b.on_hand
    for sp_rt in net.stockpiles:
        initial[sp_rt.material] += sp_rt.holdings
    net.initial_t = initial
    return net
