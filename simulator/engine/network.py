"""Runtime network compiled from a validated scenario: pools, buyers, lanes, facilities.

Plain mutable objects with ``__slots__``; quantities are tonnes, rates tonnes per day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .stockpile import StockpileRT

if TYPE_CHECKING:
    from .late import StepServed

NEVER = 10**9
"""Start day of a plant built on price whose project has not been committed (or never
will be)."""

DUST = 1e-9
"""An order or purchase below this share of its measure (a step's use, what was wanted) is
rounding, not material, and is not placed. Relative, so the same world written in kilograms
behaves as in tonnes (tests/test_tonnes_units.py); but never below :data:`DUST_T`."""

DUST_T = 1e-200
"""Tonnes below which an order is floating-point dust whatever the unit (products of such
quantities underflow to subnormal numbers, whose rounding depends on the path taken)."""


def dust(measure: float) -> float:
    """The smallest order worth placing against ``measure`` (t): :data:`DUST` of it, and at
    least :data:`DUST_T`."""
    d = DUST * measure
    return d if d > DUST_T else DUST_T

#: Priority of a stockpile's purchasing account: below every commercial buyer, in every
#: allocation tier (reserve purchases are served after every commercial buyer).
RESERVE_PRIORITY = -(10**6)

class Pool:
    """Sellable stock of one material held by the producers of one country."""

    __slots__ = ("capacity_tpd", "country", "cover_t", "gated", "material", "offtakes",
                 "orders", "outflow_tpd", "producers", "released_t", "stock", "target_t",
                 "unfilled", "unfilled_until")

    def __init__(self, country: str, material: str):
        self.country = country
        self.material = material
        self.stock = 0.0
        self.target_t = 0.0
        """Target stock: sum over the producing facilities that exist (have started) of
        full-rate output over (output cover + one step)."""
        self.capacity_tpd = 0.0
        """Full-rate output (t/day) of the producing facilities that exist: 0 means nobody
        can supply from here yet, and buyers do not order from it."""
        self.cover_t = 0.0
        """Stock the producers keep after shipping: full-rate output over their output cover
        days (facilities that exist)."""
        self.outflow_tpd = 0.0
        """Tonnes per day ordered from the pool, smoothed like buyers' usage; producers make
        ahead what a step of it needs on top of :attr:`cover_t` (orders, not shipments: a
        pool that could not ship still sees what it is asked for)."""
        self.released_t = 0.0
        """Tonnes that reserves released to its buyers since its last step's orders (their
        share of each buyer's release by order share, less what the release served at once):
        counted in :attr:`outflow_tpd` as orders, since a release stands in for orders a
        buyer would have placed, not for use it gave up."""
        self.producers: list[FacilityRT] = []
        self.orders: list[tuple[Lane, float]] = []
        self.gated = False
        """True when some lane from this pool has export controls or capacity caps."""
        self.unfilled: list[tuple[Lane, float]] = []
        """What it could not ship of the current step's orders for want of stock: offered
        again, the day it is made, what a plant makes later in the step."""
        self.unfilled_until = 0
        """The day the step of :attr:`unfilled` ends (simulation day)."""
        self.offtakes: list = []
        """Offtake contracts on its producers' output (served first when it rations)."""


class Buyer:
    """Inventory of one material held by a consumer: a facility's input or a demand sector."""

    __slots__ = (
        "country",
        "cover_days",
        "dirty",
        "label",
        "lanes",
        "last_fill",
        "lead",
        "lead_slack",
        "material",
        "on_hand",
        "plant",
        "priority",
        "short_from",
        "short_rate",
        "short_row",
        "short_since",
        "step_arrivals",
        "step_end",
        "step_served",
        "step_sweep",
        "switching",
        "tariffed",
        "usage_per_day",
        "used_to",
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
        self.plant: FacilityRT | None = None
        """The facility whose input this is (``None``: a demand sector or a stockpile's
        account)."""
        self.short_from: float | None = None
        """Demand sectors: when (simulation day, fractional) this step's stock ran out, if it
        did and the step is still short; lots landing before :attr:`step_end` then serve what
        a daily run would (:attr:`step_arrivals`, :func:`.late.served`). Facility inputs:
        their plant's :attr:`FacilityRT.late_from`."""
        self.short_rate = 0.0
        """Demand sectors: this step's demand in t/day (what a late lot serves per day)."""
        self.short_row = -1
        """Demand sectors: this step's row in the recorded time series (-1: warm-up)."""
        self.step_end = 0
        """Demand sectors: the simulation day the current step ends (exclusive)."""
        self.used_to = 0.0
        """Demand sectors: the simulation day (fractional) up to which the use that lots
        landing late in the current step served runs (:meth:`.late.LateLots._reorder_used`)."""
        self.step_arrivals: list[tuple[float, float, int]] = []
        """Demand sectors that ran out in the current step: its supply as (day in the step,
        tonnes, span days), the stock it carried in first (see :mod:`.late`)."""
        self.step_sweep: StepServed | None = None
        """Demand sectors that ran out in the current step: :attr:`step_arrivals`' served
        tonnes, kept up to date as lots land (:class:`.late.StepServed`)."""
        self.step_served = 0.0
        """Demand sectors that ran out in the current step: tonnes its demand got in it."""
        self.short_since: int | None = None
        """Day (>= 0) a supplier first failed to fill this buyer's order; alternatives'
        qualification delays count from here."""
        self.switching = False
        """Whether order shares adapt to how suppliers deliver."""
        self.dirty = True
        """Shares must be recomputed at the next order (an event changed lanes or shares)."""
        self.tariffed = False
        """Whether a tariff applies to one of its lanes (its multipliers are updated at
        each order)."""
        self.lead: float | None = None
        """The share-weighted lead time its orders plan for, as last computed; ``None``
        when it must be recomputed (:meth:`reshare`, and whatever changes a lane's days,
        sets it so: :func:`stale_lead`)."""
        self.lead_slack = 0.0
        """Days (<= 0) by which its stock after a step's use falls short of ``cover_days``
        in steady state: per lane, the planned lead less the lead rounded up to whole steps
        (at most 0), weighted by the shares (0 at daily steps and whenever its lanes are
        whole steps; computed with
        :attr:`lead`). The market's normal supply, a ``days_of_cover`` reserve's trigger and a
        release's need count it (docs/markets.md, docs/engine.md step 4)."""

    def reshare(self, day: int) -> None:
        """Recompute lane shares from base shares, policy multipliers and observed fills.

        Only suppliers that exist (a producing facility has started there) take orders.
        Primary suppliers keep ``base * policy * fill``. The share they lose is offered to
        the qualified alternatives that exist, split by their policy multipliers; each takes
        its offer times its own fill record, and never more than its country's whole
        capacity over the buyer's use; what is not taken goes back to all suppliers pro rata
        to their weights (a buyer keeps its claim on a rationed supplier). If every weight is
        zero, the base shares of the suppliers that exist and are not taxed at a prohibitive
        rate stand (buyers keep trying); with none, the buyer orders nothing.
        """
        self.lead = None
        adapt = self.switching
        primary = 0.0
        lost = 0.0
        alt_mult = 0.0
        for lane in self.lanes:
            fill = lane.fill_seen if adapt else 1.0
            exists = lane.pool.capacity_tpd > 0.0
            if lane.base_share > 0.0:
                w = lane.base_share * lane.policy_mult * fill if exists else 0.0
                lane.share = w
                primary += w
                lost += lane.base_share - w
            else:
                lane.share = 0.0
                if exists and lane.qualifies(self.short_since, day):
                    alt_mult += lane.policy_mult
        if lost > 1e-12 and alt_mult > 0.0:
            for lane in self.lanes:
                if (lane.base_share <= 0.0 and lane.pool.capacity_tpd > 0.0
                        and lane.qualifies(self.short_since, day)):
                    fill = lane.fill_seen if adapt else 1.0
                    lane.share = lost * lane.policy_mult / alt_mult * fill
        total = sum(lane.share for lane in self.lanes)
        if total <= 1e-12:  # every supplier fails: keep trying those that exist, untaxed
            for lane in self.lanes:
                open_ = lane.pool.capacity_tpd > 0.0 and lane.policy_mult > 0.0
                lane.share = lane.base_share if open_ else 0.0
            total = sum(lane.share for lane in self.lanes)
        if total <= 0.0:
            return
        for lane in self.lanes:
            lane.share /= total
        if alt_mult > 0.0 and self.usage_per_day > 0.0:
            # an alternative takes no more than its country's whole capacity could cover;
            # the excess goes back to the other suppliers pro rata
            excess = 0.0
            free = 0.0
            for lane in self.lanes:
                if lane.base_share <= 0.0 and lane.share > 0.0:
                    cap = lane.pool.capacity_tpd / self.usage_per_day
                    if lane.share > cap:
                        excess += lane.share - cap
                        lane.share = cap
                        continue
                free += lane.share
            if excess > 0.0 and free > 0.0:
                for lane in self.lanes:
                    if lane.base_share > 0.0 or lane.share < (
                            lane.pool.capacity_tpd / self.usage_per_day):
                        lane.share += excess * lane.share / free


def stale_lead(lane: Lane) -> None:
    """``lane``'s lead, extra cover, licence or transit days changed: its buyer's planned
    lead time must be recomputed."""
    lane.buyer.lead = None


class Lane:
    """An ordering relation from a buyer to a supplier country's pool, with its share."""

    __slots__ = (
        "base_share",
        "buyer",
        "caps",
        "controls",
        "delays",
        "extra_cover_days",
        "extra_transit_days",
        "fill_seen",
        "foreign",
        "held_t",
        "lead_days",
        "licence_days",
        "observed",
        "on_order",
        "ordered_to",
        "policy_mult",
        "pool",
        "prebuy_t",
        "qualification_days",
        "route",
        "share",
        "tariffs",
    )

    def __init__(self, buyer: Buyer, pool: Pool, share: float, lead_days: int,
                 qualification_days: int | None = None):
        self.buyer = buyer
        self.pool = pool
        self.foreign = buyer.country != pool.country
        """Whether the lane crosses a border (its lots are recorded in ``flows``)."""
        self.base_share = share
        """Share from the scenario's sourcing (0 for an alternative supplier)."""
        self.share = share
        """Current share of the buyer's orders (see :meth:`Buyer.reshare`)."""
        self.lead_days = lead_days
        self.qualification_days = qualification_days
        """For an alternative: days from the buyer's first shortfall until it may be used."""
        self.on_order = 0.0
        """Tonnes shipped on this lane, or awaiting an export licence, not yet arrived."""
        self.held_t = 0.0
        """Tonnes whose licence was denied and that the buyer may re-order only once a new
        application is ready (``reapply_days``): counted in its position, not in transit
        (they are back in the exporter's stock)."""
        self.fill_seen = 1.0
        """The buyer's smoothed view of the share of its orders this supplier fills."""
        self.ordered_to = 0
        """Scenario day (exclusive) up to which the buyer's last step order on this lane
        stands: a day is seen once in the buyer's view of the supplier, so a lot ordered
        between steps on a day that order stands for is not seen again."""
        self.policy_mult = 1.0
        """Product of tariff multipliers on this route (1 = no barrier)."""
        self.extra_cover_days = 0.0
        """Extra cover ordered on this lane (pre-buying before an export control)."""
        self.prebuy_t = 0.0
        """Pre-buying still to be ordered on this lane itself (not spread over suppliers)."""
        self.licence_days = 0.0
        """Expected export-licence processing days while a licence regime applies; buyers
        plan for it like extra lead time."""
        self.controls: list = []
        """Export-control runtimes that may apply to this lane."""
        self.caps: list = []
        """Shared tonnage allowances (export quotas, logistics capacity limits) on this
        lane."""
        self.delays: list = []
        """Logistics disruptions that add transit days on this lane."""
        self.extra_transit_days = 0
        """Days that active logistics disruptions add to this lane's lead time."""
        self.tariffs: list = []
        """Tariff runtimes on this route; ``policy_mult`` is the product of the active ones."""
        self.observed = False
        """Whether an order on this lane was allocated since the buyer last ordered."""
        self.route = -1
        """The recorder's key for this lane's route (assigned on the first lot)."""

    def qualifies(self, short_since: int | None, day: int) -> bool:
        """Whether the buyer may order on this lane on ``day``."""
        if self.qualification_days is None:
            return True
        return short_since is not None and day >= short_since + self.qualification_days


class FacilityRT:
    """Runtime facility: inputs drawn from buyers, outputs added to pools."""

    __slots__ = (
        "availability",
        "capacity_tpd",
        "country",
        "cover_t",
        "desired_runs_per_day",
        "fid",
        "inputs",
        "late_end",
        "late_from",
        "late_rate",
        "late_rows",
        "made_t",
        "online",
        "outputs",
        "ramp_days",
        "room_weight",
        "stage",
        "stage_index",
        "start_day",
        "target_t",
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
        """This facility's share of each output pool's room (by full-rate output; 0 until
        it exists)."""
        self.target_t: list[float] = []
        """Full-rate output over (output cover + one step) per output (t): its weight in each
        pool's room and its starting stock."""
        self.cover_t: list[float] = []
        """Full-rate output over its output cover days, per output (t)."""
        self.online = False
        """Whether it exists: it had started at the start of the warm-up, or has been
        commissioned on its start day (:func:`~.builder.commission`)."""
        self.desired_runs_per_day = 0.0
        self.availability: list = []
        """Outage runtimes; each has ``loss(day)``, the fraction of capacity lost."""
        self.late_from: float | None = None
        """When its inputs ran out in the current step (simulation day, fractional), if they
        did: lots landing before :attr:`late_end` let it run from then (multi-day steps)."""
        self.late_end = 0
        """The simulation day the current step ends (exclusive)."""
        self.late_rate = 0.0
        """The step's desired runs per day (what it makes per day once inputs land)."""
        self.late_rows: list[int] = []
        """Per output, the step's row in the recorded production (-1: none yet)."""
        self.made_t: list[float] | None = None
        """Per output, tonnes made since the start (kept only for plants under an offtake
        contract)."""

    def capacity_over(self, day: int, days: int) -> float:
        """Mean of :meth:`capacity_factor` over ``days`` days from ``day``: a step's
        capacity counts each of its days as it is (a plant that starts, or an outage that
        begins, mid-step counts from that day)."""
        if days == 1:
            return self.capacity_factor(day)
        if not self.availability and (
                self.start_day is None or day >= self.start_day + self.ramp_days):
            return 1.0  # running at full rate the whole step
        return sum(self.capacity_factor(d) for d in range(day, day + days)) / days

    def capacity_factor(self, day: int) -> float:
        """Fraction of nameplate capacity available on ``day`` from start date and ramp-up."""
        if self.start_day is None or day >= self.start_day + self.ramp_days:
            factor = 1.0
        elif day < self.start_day:
            return 0.0
        else:
            factor = (day - self.start_day + 1) / (self.ramp_days + 1)
        for outage in self.availability:
            factor *= 1.0 - outage.loss(day)
        return factor


class DemandRT:
    """Runtime demand sector."""

    __slots__ = ("buyer", "cv", "did", "growth_pa", "modifiers", "rate_tpd", "sector")

    def __init__(self, did: str, sector: str, buyer: Buyer, rate_tpd: float, growth_pa: float,
                 cv: float = 0.0):
        self.did = did
        self.cv = cv
        self.sector = sector
        self.buyer = buyer
        self.rate_tpd = rate_tpd
        self.growth_pa = growth_pa
        self.modifiers: list = []
        """Demand-shock and substitution runtimes; each has ``factor(day)``."""

    def mean_rate(self, day: int, days: int, growth_in_step: float = 1.0) -> float:
        """Mean demand in t/day over ``days`` days from ``day`` (each day as it is).

        ``growth_in_step`` is the mean over the step's days of the growth factor from its
        first day. A step in which no shock or substitution is in force is computed exactly
        as without them (an event changes nothing outside its days).
        """
        rate = self.rate_tpd
        if self.growth_pa != 0.0:
            rate *= (1.0 + self.growth_pa) ** (day / 365.0) * growth_in_step
        if self.modifiers:
            for d in range(day, day + days):
                for mod in self.modifiers:
                    if mod.factor(d) != 1.0:
                        return sum(self.rate_on(x) for x in range(day, day + days)) / days
        return rate

    def rate_on(self, day: int) -> float:
        """Demand in t/day on ``day``: compound growth from the start date, times events."""
        rate = self.rate_tpd
        if self.growth_pa != 0.0:
            rate *= (1.0 + self.growth_pa) ** (day / 365.0)
        for mod in self.modifiers:
            rate *= mod.factor(day)
        return rate


@dataclass
class Network:
    """Everything the engine mutates during one replication."""

    step_days: int
    warmup_days: int
    start_date: dt.date
    pools: dict[tuple[str, str], Pool] = field(default_factory=dict)
    buyers: list[Buyer] = field(default_factory=list)
    """Every buyer, stockpile purchasing accounts included."""
    facilities: list[FacilityRT] = field(default_factory=list)
    demands: list[DemandRT] = field(default_factory=list)
    stockpiles: list[StockpileRT] = field(default_factory=list)
    investments: list = field(default_factory=list)
    """(facility, its ``invest``) of the plants built on price, in declaration order."""
    events: dict = field(default_factory=dict)
    """Events that happen in this replication (id -> model), in declaration order."""
    initial_t: dict[str, float] = field(default_factory=dict)
    """Material on hand at the start of the warm-up (inventories, pools, stockpiles)."""

    @property
    def lanes(self) -> list[Lane]:
        return [lane for b in self.buyers for lane in b.lanes]

    @property
    def ordering_buyers(self) -> list[Buyer]:
        """Buyers that order by the inventory policy (not stockpile accounts)."""
        accounts = {id(sp.buyer) for sp in self.stockpiles}
        return [b for b in self.buyers if id(b) not in accounts]
