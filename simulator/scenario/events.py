"""Event models: dated, identified policy moves and disruptions (``events: {id: {type: ...}}``).

Exact engine semantics of each type are in docs/events.md. Dates are ISO dates; an event
with ``probability < 1`` happens in a replication with that probability (stream ``event:<id>``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from .base import (
    MAX_DAYS,
    CountryCode,
    Date,
    DayCount,
    Days,
    Factor,
    Fraction,
    Id,
    Model,
    PosDayCount,
    PosDays,
    PosFactor,
    Price,
    Tonnes,
)


class AllExcept(Model):
    """Every country except these."""

    all_except: list[CountryCode]
    """Countries not controlled."""


Destinations = Literal["all"] | list[CountryCode] | AllExcept


class EventBase(Model):
    probability: Fraction = 1.0
    """Chance that the event happens at all in a replication."""
    note: str | None = None
    """Free text: sources and assumptions."""


class LicenceTerms(Model):
    """How licence applications are decided: each lot waits, then is approved or denied."""

    approval_probability: Fraction = 1.0
    """Chance that each application is approved (a denied lot is cancelled)."""
    delay_days: DayCount = 45
    """Minimum processing time of an application in days."""
    reapply_days: DayCount = 30
    """After a denial, days before the buyer may order the denied tonnes again (modelling
    assumption: about a month to prepare a new contract and end-user documents); until then
    it counts them as coming, and it then orders them from whichever suppliers its shares
    favour (the denial lowered its view of the exporter)."""
    delay_jitter_days: DayCount = 0
    """Each application waits ``delay_days`` plus a uniform draw from 0..jitter days."""
    application_days: PosDayCount = 7
    """Days of a buyer's orders on a lane that one application covers: every lot ordered on
    the lane in the same window of this many days (counted from the start date) shares one
    decision (approval and review time), until that application is denied; a lot ordered
    after the denial is a new application. So the licence decisions do not depend on the
    step. Modelling assumption: a week's shipments per contract (docs/events.md)."""


class LicenceOverride(Model):
    """Licence terms for one destination that differ from the general ones."""

    approval_probability: Fraction | None = None
    """Approval chance for this destination (default: the general one)."""
    delay_days: DayCount | None = None
    """Minimum processing days for this destination (default: the general one)."""
    reapply_days: DayCount | None = None
    """Days before a new application after a denial, for this destination (default: the
    general one)."""


class Licence(LicenceTerms):
    by_destination: dict[CountryCode, LicenceOverride] = Field(default_factory=dict)
    """Destination country -> terms that differ from the general ones."""


class Extraterritorial(Model):
    """Re-exports from third countries of products containing the exporter's material."""

    min_content: Fraction = 0.001
    """Controlled when the exporter-origin share of the product's controlled content is at
    least this fraction of the product's mass (the 0.1% rule)."""


class ExportControl(EventBase):
    type: Literal["export_control"]
    """Event type."""
    exporter: CountryCode
    """The controlling country."""
    materials: list[Id] = Field(default_factory=list)
    """Controlled material ids."""
    elements: list[str] = Field(default_factory=list)
    """Chemical symbols; every material containing any of them is controlled too."""
    destinations: Destinations = "all"
    """Controlled destinations: ``all``, a list of countries, or ``{all_except: [...]}``
    (never the exporter itself)."""
    mode: Literal["ban", "quota", "licence"]
    """``ban`` (nothing ships), ``quota`` (``quota_tpy``) or ``licence`` (``licence`` terms)."""
    announced: Date | None = None
    """Announcement date; from here to ``effective`` importers pre-buy."""
    effective: Date
    """First day the controls apply."""
    end: Date | None = None
    """End or suspension date (exclusive); none = until the horizon ends."""
    quota_tpy: Tonnes | None = None
    """Quota mode: tonnes per year for all controlled lanes together, accruing evenly."""
    licence: Licence | None = None
    """Licence terms (required for ``mode: licence``)."""
    prebuy_cover_days: Days = 0.0
    """Extra days of cover importers order from the exporter between announcement and
    effective date."""
    extraterritorial: Extraterritorial | None = None
    """Also control re-exports from third countries of products containing the
    exporter's material."""

    def destination_set(self, countries: Iterable[str]) -> frozenset[str]:
        """The countries it controls among ``countries`` (never the exporter)."""
        dests = self.destinations
        if dests == "all":
            chosen = set(countries)
        elif isinstance(dests, AllExcept):
            chosen = set(countries) - set(dests.all_except)
        else:
            chosen = set(dests)
        return frozenset(chosen - {self.exporter})

    def selected_materials(self, materials: Mapping[str, Any]) -> set[str]:
        """The material ids it controls: listed, or (of ``materials``, id -> material)
        containing a listed element."""
        return set(self.materials) | {mid for mid, m in materials.items()
                                      if any(m.elements.get(e, 0) > 0 for e in self.elements)}


class OutageSchedule(Model):
    failures_per_year: PosFactor
    """Failure rate while up (per year)."""
    mean_repair_days: PosDays
    """Mean time to repair (days)."""


class FacilityOutage(EventBase):
    type: Literal["facility_outage"]
    """Event type."""
    facilities: list[Id] = Field(default_factory=list)
    """Facility ids hit."""
    country: CountryCode | None = None
    """Select every facility of this country (and ``stage``, if given)."""
    stage: Id | None = None
    """Select every facility of this stage (and ``country``, if given)."""
    start: Date | None = None
    """First day of a scheduled outage (or of the window in which random failures occur)."""
    duration_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None
    """Length of the outage (or give ``end``); neither means to the end of the horizon."""
    end: Date | None = None
    """End of the outage (exclusive)."""
    capacity_lost: Fraction = 1.0
    """Share of capacity lost while out."""
    ramp_days: DayCount = 0
    """Days over which the loss builds up linearly to ``capacity_lost``."""
    random: OutageSchedule | None = None
    """Random failures and repairs (a two-state Markov process) instead of a schedule."""


class DemandSelector(Model):
    demand: list[Id] = Field(default_factory=list)
    """Demand ids hit."""
    country: CountryCode | None = None
    """Select every demand of this country (with ``sector`` / ``material``)."""
    sector: Id | None = None
    """Select every demand of this sector."""
    material: Id | None = None
    """Select every demand for this material."""


class DemandShock(EventBase, DemandSelector):
    type: Literal["demand_shock"]
    """Event type."""
    multiplier: Factor
    """Demand is multiplied by this (0.5 halves it)."""
    start: Date
    """First day of the shock."""
    end: Date | None = None
    """Back to normal from this day (exclusive); none = to the end of the horizon."""
    ramp_days: DayCount = 0
    """The multiplier is reached linearly over this many days."""


class Substitution(EventBase, DemandSelector):
    type: Literal["substitution"]
    """Event type."""
    start: Date
    """Day substitution is decided."""
    delay_days: DayCount = 0
    """Redesign time before demand starts to move."""
    max_share: Fraction
    """Largest share of demand that can move away from the material."""
    rate_pa: PosFactor
    """Share of demand that moves away per year once substitution has begun."""


class LogisticsDisruption(EventBase):
    type: Literal["logistics_disruption"]
    """Event type."""
    origin: CountryCode | None = None
    """Exporting country (none = any)."""
    destination: CountryCode | None = None
    """Importing country (none = any)."""
    materials: list[Id] = Field(default_factory=list)
    """Materials affected (empty = all)."""
    start: Date
    """First day."""
    end: Date | None = None
    """End (exclusive); none = to the end of the horizon."""
    extra_days: DayCount = 0
    """Added to the lead time of lots shipped while it is in effect."""
    capacity_tpy: Tonnes | None = None
    """Cap on tonnes per year over all matched lanes together."""


class Tariff(EventBase):
    type: Literal["tariff"]
    """Event type."""
    importers: Annotated[list[CountryCode], Field(min_length=1)]
    """Importing countries that levy it."""
    exporters: Annotated[list[CountryCode], Field(min_length=1)]
    """Exporting countries taxed."""
    materials: list[Id] = Field(default_factory=list)
    """Materials taxed (empty = all)."""
    rate: Annotated[float, Field(ge=-1, le=10)]
    """Ad valorem rate (0.25 = 25%); negative for a barrier reduction."""
    elasticity: Factor = 1.0
    """Share multiplier on the taxed route = max(0, 1 - elasticity * rate)."""
    prohibitive_rate: PosFactor = 1.0
    """At or above this rate the route stops."""
    start: Date
    """First day."""
    end: Date | None = None
    """End (exclusive); none = to the end of the horizon."""


class NewFacility(Model):
    country: CountryCode
    """Country the plant is built in."""
    recipe: Id
    """Recipe id it runs."""
    capacity_tpy: Tonnes
    """Capacity in runs (tonnes) per year once ramped up."""
    investment_decision: Date
    """Day construction starts."""
    construction_days: DayCount
    """Days from the investment decision to the start of operation."""
    ramp_up_days: DayCount = 365
    """Days over which capacity rises linearly to full after construction."""
    input_cover_days: Days = 30
    """Target input inventory in days of full-capacity use (as for facilities)."""
    output_cover_days: Days = 30
    """Safety stock of each output in days of full-rate output (as for facilities)."""
    note: str | None = None
    """Free text."""


class PreferredSourcing(Model):
    materials: list[Id] = Field(default_factory=list)
    """Materials concerned (empty = every material)."""
    share: Fraction
    """Share of members' orders moved to member suppliers once qualified."""
    qualification_days: DayCount = 180
    """Days from ``signed`` until the orders move."""


class CooperationAgreement(EventBase):
    type: Literal["cooperation_agreement"]
    """Event type."""
    members: Annotated[list[CountryCode], Field(min_length=2)]
    """Member countries (at least two)."""
    signed: Date
    """Day the agreement takes effect."""
    end: Date | None = None
    """End (exclusive); none = to the end of the horizon."""
    facilities: dict[Id, NewFacility] = Field(default_factory=dict)
    """Plants the agreement builds, by id."""
    preferred_sourcing: PreferredSourcing | None = None
    """Members' buyers move a share of their orders to member suppliers."""
    shared_stockpiles: bool = False
    """Members' stockpiles may release to every member's buyers."""


class StockpilePolicy(EventBase):
    type: Literal["stockpile_policy"]
    """Event type."""
    stockpile: Id
    """Stockpile id the policy changes."""
    start: Date
    """First day of the policy."""
    end: Date | None = None
    """End (exclusive); none = to the end of the horizon."""
    buy_tpy: Tonnes = 0.0
    """Purchases into the reserve, tonnes per year, while holdings are below ``target_t``."""
    target_t: Tonnes | None = None
    """New refill target in tonnes."""
    release_threshold: Days | None = None
    """New release threshold (same meaning as ``release.threshold``)."""
    max_release_tpy: Tonnes | None = None
    """New release rate cap, tonnes per year."""
    eligible_countries: list[CountryCode] | None = None
    """Countries whose buyers may draw (default: the holder only)."""
    sectors: list[Id] | None = None
    """Demand sectors that may draw (default: all buyers of the material)."""


class PriceFloor(EventBase):
    type: Literal["price_floor"]
    """Event type."""
    facilities: list[Id] = Field(min_length=1)
    """Plants built on price (facilities with ``invest``) whose output the floor guarantees."""
    floor: Price
    """Guaranteed price (USD/kg) of the plants' ``invest.material``: while the floor is in
    force, their investment decision sees the higher of the market price and the floor."""
    start: Date
    """First day of the guarantee."""
    end: Date | None = None
    """End (exclusive); none = to the end of the horizon."""


class Offtake(EventBase):
    type: Literal["offtake"]
    """Event type."""
    facility: Id
    """The selling plant (a facility, or a plant an agreement builds)."""
    material: Id | None = None
    """Which of its outputs is contracted (default: its recipe's only output)."""
    shares: dict[CountryCode, Fraction] = Field(default_factory=dict)
    """Buyer country -> share of the plant's output in each step (summing to at most 1; the
    rest is sold by the allocation rule). Give ``shares`` or ``volumes_tpy``."""
    volumes_tpy: dict[CountryCode, Tonnes] = Field(default_factory=dict)
    """Buyer country -> contracted tonnes per year of the plant's output (scaled down pro
    rata in a step in which the plant makes less than their sum)."""
    start: Date | None = None
    """First day of the contract (none: from the start of the warm-up)."""
    end: Date | None = None
    """End (exclusive); none = to the end of the horizon."""


class InvestmentSubsidy(EventBase):
    type: Literal["investment_subsidy"]
    """Event type."""
    facilities: list[Id] = Field(default_factory=list)
    """Plants built on price (facilities with ``invest``) it backs."""
    country: CountryCode | None = None
    """Also every plant built on price in this country (and ``stage``, if given)."""
    stage: Id | None = None
    """Also every plant built on price of this stage (and ``country``, if given)."""
    share: Annotated[float, Field(ge=0, lt=1)] = 0.0
    """Share of the incentive price the subsidy or co-financing covers (0.25: the project
    needs only 75% of its incentive price)."""
    usd_per_kg: Annotated[float, Field(ge=0, le=1e5)] = 0.0
    """USD/kg taken off the incentive price (after ``share``)."""
    start: Date
    """First day the subsidy is offered."""
    end: Date | None = None
    """End (exclusive); none = to the end of the horizon."""


Event = Annotated[
    ExportControl
    | FacilityOutage
    | DemandShock
    | Substitution
    | LogisticsDisruption
    | Tariff
    | CooperationAgreement
    | StockpilePolicy
    | PriceFloor
    | Offtake
    | InvestmentSubsidy,
    Field(discriminator="type"),
]
