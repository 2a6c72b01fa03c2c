"""Typed scenario models: the scenario language (pydantic v2, extra keys forbidden).

Structure only is checked here (types, ranges, required keys). Cross-references between
sections (unknown country, recipe naming an unknown material, shares summing to 1, dates in
the horizon...) are checked by :func:`simulator.scenario.checks.check_scenario`, which reports
every problem at once with its key path.

Units: tonnes (t), tonnes per year (``_tpy``), days (``_days``), ISO dates.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from .base import (
    DEFAULT_STAGES,
    Coefficient,
    CountryCode,
    Date,
    DayCount,
    Days,
    Fraction,
    Id,
    Model,
    PosDayCount,
    PosDays,
    Price,
    Priority,
    Tonnes,
)
from .distributions import Distribution
from .events import Event


class Simulation(Model):
    """Engine settings."""

    step_days: Annotated[int, Field(ge=1, le=91)] = 7
    """Length of one engine step in days: production, consumption, ordering and allocation
    happen once per step, and time series are recorded per step."""
    warmup_days: Annotated[int, Field(ge=0, le=3650)] = 364
    """Days simulated before ``start_date`` (not recorded) so pipelines and inventories
    settle into their steady state before the horizon starts."""


class Country(Model):
    """A country (ISO 3166-1 alpha-2 key) or a user-assigned aggregate (e.g. ``XR``)."""

    name: str
    """Display name."""
    note: str | None = None
    """Free text."""


class Material(Model):
    """A named good at a stage of the chain; quantities are in tonnes of this material."""

    stage: str | None = None
    """Stage this material is produced at (informative; used to group outputs)."""
    unit: str = "t"
    """What a tonne of this material is measured in (e.g. ``t REO``); informative."""
    elements: dict[str, Fraction] = Field(default_factory=dict)
    """Mass fraction of each chemical element it contains (e.g. ``{Dy: 0.02}``); used by
    element-based events."""
    description: str | None = None
    """Free text."""


class Recipe(Model):
    """Turns inputs into outputs. Coefficients are tonnes per tonne of throughput (one 'run').

    A facility's ``capacity_tpy`` counts runs per year: tonnes of output for a mine or magnet
    plant whose recipe has output coefficient 1, tonnes of feed for a separation plant whose
    input coefficient is 1. Input tonnes not carried into outputs are recorded as process losses.
    """

    stage: str
    """Stage this recipe belongs to: sets the production order and the ``stage`` column of
    ``production.parquet``."""
    inputs: dict[str, Coefficient] = Field(default_factory=dict)
    """Material -> tonnes consumed per run; empty for a mine."""
    outputs: Annotated[dict[str, Coefficient], Field(min_length=1)]
    """Material -> tonnes produced per run (at least one); several outputs are co-products."""
    description: str | None = None
    """Free text."""


def cost_routes(recipes: dict[str, Recipe], priced: set[str]
                ) -> dict[str, list[tuple[str, Recipe]]]:
    """Priced material -> ``(recipe id, recipe)`` of every recipe that makes it, for the
    materials whose cost follows their inputs (the market's cost pass-through,
    docs/markets.md): every recipe making it has it as its one output and only priced
    inputs (co-products, mine outputs and routes with unpriced inputs have no such cost)."""
    makers: dict[str, list[tuple[str, Recipe]]] = {}
    for rid, recipe in recipes.items():
        for mid in recipe.outputs:
            makers.setdefault(mid, []).append((rid, recipe))
    return {mid: routes for mid, routes in makers.items()
            if mid in priced and all(len(r.outputs) == 1 and r.inputs and set(r.inputs) <= priced
                                     for _, r in routes)}


class Investment(Model):
    """When a planned plant is built: committed once a price has stayed at or above its
    incentive price long enough, started after a lead time, or never (docs/markets.md,
    "Supply response")."""

    material: Id
    """The priced material (``market.prices``) whose price decides."""
    market: Literal["export", "home"] = "export"
    """Which tier's price: ``export`` (the best export tier the plant can sell into: any for
    a plant outside ``market.home``, the base ``ex-<home>`` for one in it) or ``home``; with
    one world tier (no ``market.home``) either means the world price."""
    incentive_price: Price
    """USD/kg at or above which the project is committed (its incentive price)."""
    sustained_days: DayCount = 180
    """Days the price must stay at or above ``incentive_price`` before commitment (a
    modelling assumption: investors wait for a half-year of prices, not a spike)."""
    lead_time_days: PosDayCount = 1095
    """Days from commitment to ``start_date``, at least 1 (a distribution draws it per
    replication). A plant committed on the first day therefore never counts as one that
    existed before the run (which would hold its output cover from the start)."""
    completion_probability: Fraction = 1.0
    """Chance a committed project ever starts (announced projects often slip or fail);
    drawn once, at commitment, on the facility's own random stream."""


class Facility(Model):
    """A mine, plant or aggregate of plants in one country running one recipe."""

    country: CountryCode
    """Country the facility is in."""
    recipe: str
    """Id of the recipe it runs."""
    capacity_tpy: Tonnes
    """Throughput capacity in recipe runs (tonnes) per year."""
    start_date: Date | None = None
    """First day of operation; ``None`` or a date before the horizon means already running."""
    ramp_up_days: DayCount = 0
    """Days after ``start_date`` over which capacity rises linearly from 0 to full."""
    input_cover_days: Days = 30
    """Target input inventory, in days of full-capacity use (order-up-to level)."""
    output_cover_days: Days = 30
    """Safety stock of each output held for sale, in days of full-capacity output, on top of
    one step's output; the plant slows down when every output is at target (production is
    pulled by orders)."""
    invest: Investment | None = None
    """Build it only when a price calls for it (exclusive with ``start_date``): the plant
    does not exist until its investment is committed and its lead time has passed."""
    note: str | None = None
    """Free text."""


class Units(Model):
    """What a demand sector's material goes into, to count its shortfall in units not built."""

    name: str = Field(min_length=1, max_length=60)
    """The unit, e.g. ``EV`` or ``MW of direct-drive wind``."""
    kg_per_unit: Annotated[float, Field(gt=0, le=1e9)]
    """Kilograms of the sector's material in one unit (e.g. 1.5 kg of NdFeB magnet per EV)."""
    note: str | None = None
    """Where the intensity comes from."""


class Demand(Model):
    """Final demand of one sector in one country for one material."""

    country: CountryCode
    """Country of the demand."""
    sector: Id
    """Sector id, e.g. ``ev``, ``wind``, ``electronics``, ``defense``."""
    material: str
    """Material id it consumes."""
    rate_tpy: Tonnes
    """Demand in tonnes per year at ``start_date``."""
    growth_pa: Annotated[float, Field(ge=-0.5, le=1.0)] = 0.0
    """Compound annual growth rate (0.05 = 5%/yr)."""
    cover_days: Days = 45
    """Consumer inventory target in days of demand (safety stock above the pipeline)."""
    cv: Annotated[float, Field(ge=0, le=5)] = 0.0
    """Coefficient of variation of each step's demand; draws are gamma-distributed around the
    step's mean from the random stream ``demand:<id>``. 0 means deterministic demand."""
    priority: Priority = 0
    """Higher is served first when a supplier is short and the allocation rule uses priority."""
    units: Units | None = None
    """What the material goes into: its shortfall is also counted in units not built
    (``units_short`` in ``metrics.csv``)."""
    note: str | None = None
    """Free text."""


class Sourcing(Model):
    """Where buyers of a material in one country order from, with baseline shares."""

    country: CountryCode
    """Buyer country."""
    material: str
    """Material id bought."""
    suppliers: Annotated[dict[CountryCode, Fraction], Field(min_length=1)]
    """Supplier country -> share of orders; shares sum to 1. The buyer's own country means
    domestic supply."""
    alternatives: dict[CountryCode, DayCount] = Field(default_factory=dict)
    """Suppliers the buyers may switch to when their usual ones fall short: country ->
    qualification delay in days, counted from the day a supplier first fails to fill the
    buyers' orders."""
    note: str | None = None
    """Free text."""


class LeadTimes(Model):
    """Shipping lead times in days, by (origin, destination) country pair."""

    domestic_days: DayCount = 7
    """Shipping days inside a country."""
    default_days: DayCount = 28
    """Used for any international pair not listed in ``lanes``."""
    lanes: dict[CountryCode, dict[CountryCode, DayCount]] = Field(
        default_factory=dict
    )
    """``lanes[ORIGIN][DESTINATION]`` = days; applies one way only."""
    symmetric: bool = True
    """If true, a lane A->B also sets B->A unless B->A is listed itself."""


AllocationKey = Literal["domestic", "agreement", "priority"]


class Allocation(Model):
    """How a short supplier splits its stock among orders: tiers in order, then pro rata."""

    rule: list[AllocationKey] = Field(default_factory=lambda: ["domestic", "priority"])
    """Tiers applied in order when a supplier is short (``domestic``: buyers in the
    supplier's country; ``agreement``: buyers in countries sharing an active cooperation
    agreement with it; ``priority``: higher demand ``priority`` first); within a tier, pro rata
    to orders. ``[]`` means pure pro rata."""


class Switching(Model):
    """How buyers move orders between suppliers as they see them deliver or fail."""

    enabled: bool = True
    """False keeps the sourcing shares fixed (apart from tariffs)."""
    adjustment_days: PosDays = 28
    """Time constant (days) over which buyers update their view of each supplier's fill
    rate and move order shares accordingly."""


class ReferencePrice(Model):
    """A material's normal price (USD/kg) in each market tier: what it trades at when
    buyers hold their normal stock and get what they order."""

    domestic: Price
    """USD/kg inside the home market (``market.home``)."""
    export: Price | None = None
    """USD/kg everywhere else (default: the domestic price)."""

    @property
    def export_reference(self) -> float:
        """USD/kg outside the home market: ``export``, else the domestic price."""
        return self.domestic if self.export is None else self.export


class Thrifting(Model):
    """Lagged thrifting and substitution: a share of a sector's demand that goes away, with a
    first-order lag, while its material's price is above the reference or the sector runs
    short (docs/markets.md, "Thrifting and substitution")."""

    max_share: Fraction = 0.0
    """Largest share of the sector's demand thrifting and substitution can remove (0,
    default: none)."""
    time_constant_days: Annotated[float, Field(gt=0, le=36500)] = 365.0
    """Time constant (days) of the share's move towards its target (first-order lag)."""
    full_price_multiple: Annotated[float, Field(gt=1, le=1000)] = 2.0
    """Price over the reference price at which the target is the whole ``max_share`` (the
    target rises linearly from 0 at the reference price)."""
    shortage_weight: Annotated[float, Field(ge=0, le=100)] = 1.0
    """Target share from running short: ``max_share * shortage_weight * (1 - fill)`` with
    ``fill`` the share of last step's demand met (0: only the price drives thrifting)."""
    recovery_time_constant_days: Annotated[float, Field(gt=0, le=36500)] | None = None
    """Time constant (days) of the share's return when its target falls (the price or the
    shortage eases); None (default): the share removed never comes back."""


class DemandResponse(Model):
    """How a demand sector's purchases respond to the price of its material (docs/markets.md,
    "Demand response")."""

    elasticity: Annotated[float, Field(ge=0, le=5)] = 0.0
    """Short-run price elasticity of final demand (``e_short``): each step's demand is
    multiplied by ``min(1, (price / reference) ** -elasticity)``, with the price of the sector's
    material in its country's tier at the end of the previous step. 0 (default): demand does
    not respond. The tonnes not bought are recorded as ``destroyed_t``, not as shortfall."""
    thrifting: Thrifting = Field(default_factory=Thrifting)
    """Lagged thrifting and substitution (default: none). The tonnes removed are recorded as
    ``thrifted_t``, neither shortfall nor delivered."""


class DemandResponses(Model):
    """Demand response per sector: ``sectors`` by sector id, ``default`` for the others."""

    default: DemandResponse = Field(default_factory=DemandResponse)
    """Response of every sector not listed in ``sectors``."""
    sectors: dict[Id, DemandResponse] = Field(default_factory=dict)
    """Sector id (``demand.<id>.sector``) -> its response; an entry replaces ``default``
    whole (keys it does not give take the model defaults)."""


class Destocking(Model):
    """Buyers hold less cover while their material's price is high and rebuild it as the
    price falls (docs/markets.md, "Destocking")."""

    max_cover_cut: Fraction = 0.0
    """Largest share of a buyer's normal cover (``cover_days``, ``input_cover_days``) it
    gives up when prices are high (0, default: none)."""
    full_price_multiple: Annotated[float, Field(gt=1, le=1000)] = 2.0
    """Price over the reference price at which the cut is the whole ``max_cover_cut`` (it
    rises linearly from 0 at the reference price)."""
    time_constant_days: Annotated[float, Field(gt=0, le=3650)] = 28.0
    """Time constant (days) of the cut's move towards its target, down and back up."""
    buyers: Literal["all", "demand", "facilities"] = "all"
    """Whose cover is cut: demand sectors, facility inputs, or both (``all``)."""


class Market(Model):
    """Prices that form from scarcity, per material and market tier (docs/markets.md).

    A material is priced only if ``prices`` gives its reference price. Prices change final
    demand through ``demand_response`` and buyers' cover through ``destocking`` (default:
    neither)."""

    enabled: bool = True
    """False: the whole market layer is off, the rule-only run: no prices are formed or
    recorded, and no demand responds (thrifting on shortage included) and no buyer
    destocks."""
    home: CountryCode | None = None
    """The country whose domestic market is a tier of its own (the controlling exporter:
    ``CN``); the other countries are export tiers, one per group its export controls tell
    apart (``ex-CN``, ``ex-CN:JP,US``; docs/markets.md, "Tiers"). None: one world tier."""
    elasticity: Annotated[float, Field(gt=0, le=10)] = 1.0
    """How far supply scarcity moves the price: the target price is the reference price
    times ``scarcity ** (-1 / elasticity)`` (a smaller elasticity, a larger move)."""
    surplus_elasticity: Annotated[float, Field(gt=0, le=100)] = 5.0
    """The same when buyers hold more than normal: prices fall more slowly in a surplus than
    they rise in a shortage (producers cut output and hold stock)."""
    adjustment_days: Annotated[float, Field(gt=0, le=3650)] = 8.0
    """Time constant (days) of the price's move towards its target (log-linear)."""
    max_multiple: Annotated[float, Field(gt=1, le=1000)] = 10.0
    """Cap on the target price as a multiple of the reference (and floor as its inverse)."""
    scarcity_window_days: Annotated[float, Field(gt=0, le=365)] = 7.0
    """Days of the buyers' use at their last step's fill that the scarcity counts as supply,
    beside their stock, over the same days of normal use (docs/markets.md). Fixed, not the
    step, so a step of any length reads the same scarcity; 7 (a modelling assumption): the
    weekly window V7 was calibrated at."""
    producer_stock_weight: Annotated[float, Field(ge=0, le=1)] = 0.0
    """Share (0-1) of the producers' stocks that the scarcity counts beside the buyers':
    the stock of the material in the pools of the tier's countries (t, after shipping)
    over their normal output cover (t). 0 (default): buyers' cover only (calibrated on V7);
    1: total stocks over normal stocks, the stocks-to-use driver of commodity prices (a
    modelling assumption, docs/markets.md)."""
    prices: dict[Id, ReferencePrice] = Field(default_factory=dict)
    """Material id -> reference prices (USD/kg)."""
    demand_response: DemandResponses = Field(default_factory=DemandResponses)
    """How final demand responds to its material's price, per sector (default: not at
    all)."""
    destocking: Destocking = Field(default_factory=Destocking)
    """How buyers draw their working stock down while prices are high (default: they
    do not)."""


class WatchDemand(Model):
    """Named demand sectors a stockpile's release trigger watches."""

    demand: list[Id] = Field(min_length=1)
    """Demand ids (any country, any material)."""


class StockpileRelease(Model):
    """When and how fast a stockpile releases into domestic buyers' inventories."""

    trigger: Literal["fill_rate", "days_of_cover"] = "fill_rate"
    """What is watched: the eligible buyers' fill rate in the last step, or their
    inventory in days of use."""
    threshold: Days = 0.95
    """Release when the eligible buyers' fill rate in the last step (a fraction) or their
    inventory in days of cover falls below this."""
    max_release_tpy: Tonnes
    """Release rate cap in tonnes per year."""
    watch: Literal["buyers", "end_users"] | WatchDemand = "buyers"
    """Whose fill rate or cover the trigger watches: ``buyers`` (default), the buyers the
    reserve releases into (for a reserve of oxide, the metal plants that use it);
    ``end_users``, the demand sectors in the holder's and eligible countries that use the
    material or anything made from it (within ``sectors`` if given); or
    ``{demand: [ids]}``, the named demand sectors."""


class Stockpile(Model):
    """A strategic reserve of one material held by one country."""

    country: CountryCode
    """Holder country."""
    material: str
    """Material id held."""
    holdings_t: Tonnes | None = None
    """Initial holdings in tonnes (give this or ``holdings_days``)."""
    holdings_days: Days | None = None
    """Initial holdings in days of the country's use of the material at the start of the
    warm-up: final demand plus facility inputs at full capacity (exclusive with
    ``holdings_t``)."""
    release: StockpileRelease
    """When and how fast the reserve releases."""
    eligible_countries: list[CountryCode] = Field(default_factory=list)
    """Other countries whose buyers may draw (allies); the holder always may."""
    sectors: list[Id] | None = None
    """Demand sectors that may draw; ``None`` means every buyer of the material (facility
    inputs included)."""
    target_t: Tonnes | None = None
    """Refill target in tonnes (default: the initial holdings)."""
    refill_tpy: Tonnes = 0.0
    """Purchases into the reserve, tonnes per year, while holdings are below target and
    no release is under way."""
    note: str | None = None
    """Free text."""


class Scenario(Model):
    """A whole scenario: the world network, its policies and its horizon."""

    name: Id
    """Scenario name; run folders are ``results/<name>/...``."""
    description: str | None = None
    """One paragraph shown by ``critmin list`` and in reports."""
    start_date: Date
    """First recorded day (day 0)."""
    end_date: Date
    """Exclusive end of the recorded horizon; horizon_days = end_date - start_date."""
    simulation: Simulation = Field(default_factory=Simulation)
    """Engine settings."""
    stages: Annotated[list[Id], Field(min_length=1)] = Field(
        default_factory=lambda: list(DEFAULT_STAGES)
    )
    """Ordered chain stages, upstream first."""
    countries: Annotated[dict[CountryCode, Country], Field(min_length=1)]
    """Every country the scenario mentions, by ISO code."""
    materials: Annotated[dict[Id, Material], Field(min_length=1)]
    """Every good, by id."""
    recipes: dict[Id, Recipe] = Field(default_factory=dict)
    """How inputs become outputs, by id."""
    facilities: dict[Id, Facility] = Field(default_factory=dict)
    """Mines and plants, by id."""
    demand: dict[Id, Demand] = Field(default_factory=dict)
    """Final demand sectors, by id."""
    sourcing: dict[Id, Sourcing] = Field(default_factory=dict)
    """Who buys from which countries, by id."""
    lead_times: LeadTimes = Field(default_factory=LeadTimes)
    """Shipping days between countries."""
    allocation: Allocation = Field(default_factory=Allocation)
    """Who is served first when a supplier is short."""
    stockpiles: dict[Id, Stockpile] = Field(default_factory=dict)
    """Strategic reserves, by id."""
    switching: Switching = Field(default_factory=Switching)
    """How buyers move orders between suppliers."""
    market: Market = Field(default_factory=Market)
    """Prices formed from scarcity, and final demand's response to them."""
    events: dict[Id, Event] = Field(default_factory=dict)
    """Dated policy moves and disruptions, by id (see the events page)."""
    uncertainty: dict[str, Distribution] = Field(default_factory=dict)
    """Uncertain parameters: dotted key path (``facilities.au_mine.capacity_tpy``) ->
    distribution. The loader fills it from distributions written in place of numbers and sets
    each parameter to its distribution's central value; the engine draws every one per
    replication (:func:`simulator.scenario.distributions.realize`)."""

    @property
    def horizon_days(self) -> int:
        """Recorded days from ``start_date`` to ``end_date``."""
        return (self.end_date - self.start_date).days

    def day_of(self, date: dt.date) -> int:
        """Integer day of ``date`` counted from ``start_date`` (negative before it)."""
        return (date - self.start_date).days

    def lead_time_days(self, origin: str, destination: str) -> int:
        """Shipping days from ``origin`` to ``destination``."""
        lt = self.lead_times
        if origin == destination:
            return lt.domestic_days
        days = lt.lanes.get(origin, {}).get(destination)
        if days is None and lt.symmetric:
            days = lt.lanes.get(destination, {}).get(origin)
        return lt.default_days if days is None else days
