"""Event models: dated, identified policy moves and disruptions (``events: {id: {type: ...}}``).

Exact engine semantics of each type are in docs/events.md. Dates are ISO dates; an event
with ``probability < 1`` happens in a replication with that probability (stream ``event:<id>``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from .base import CountryCode, Fraction, Id, Model, NonNeg, Pos


class AllExcept(Model):
    """Every country except these."""

    all_except: list[CountryCode]


Destinations = Literal["all"] | list[CountryCode] | AllExcept


class EventBase(Model):
    probability: Fraction = 1.0
    """Chance that the event happens at all in a replication."""
    note: str | None = None


class LicenceTerms(Model):
    """How licence applications are decided: each lot waits, then is approved or denied."""

    approval_probability: Fraction = 1.0
    delay_days: Annotated[int, Field(ge=0)] = 45
    """Minimum processing time of an application in days."""
    delay_jitter_days: Annotated[int, Field(ge=0)] = 0
    """Each application waits ``delay_days`` plus a uniform draw from 0..jitter days."""


class LicenceOverride(Model):
    """Licence terms for one destination that differ from the general ones."""

    approval_probability: Fraction | None = None
    delay_days: Annotated[int, Field(ge=0)] | None = None


class Licence(LicenceTerms):
    by_destination: dict[CountryCode, LicenceOverride] = Field(default_factory=dict)


class Extraterritorial(Model):
    """Re-exports from third countries of products containing the exporter's material."""

    min_content: Fraction = 0.001
    """Controlled when the exporter-origin share of the product's controlled content is at
    least this fraction of the product's mass (the 0.1% rule)."""


class ExportControl(EventBase):
    type: Literal["export_control"]
    exporter: CountryCode
    materials: list[Id] = Field(default_factory=list)
    """Controlled material ids."""
    elements: list[str] = Field(default_factory=list)
    """Chemical symbols; every material containing any of them is controlled too."""
    destinations: Destinations = "all"
    mode: Literal["ban", "quota", "licence"]
    announced: dt.date | None = None
    """Announcement date; from here to ``effective`` importers pre-buy."""
    effective: dt.date
    end: dt.date | None = None
    """End or suspension date (exclusive); none = until the horizon ends."""
    quota_tpy: NonNeg | None = None
    """Quota mode: tonnes per year for all controlled lanes together, accruing evenly."""
    licence: Licence | None = None
    prebuy_cover_days: NonNeg = 0.0
    """Extra days of cover importers order from the exporter between announcement and
    effective date."""
    extraterritorial: Extraterritorial | None = None


class OutageSchedule(Model):
    failures_per_year: Pos
    mean_repair_days: Pos


class FacilityOutage(EventBase):
    type: Literal["facility_outage"]
    facilities: list[Id] = Field(default_factory=list)
    country: CountryCode | None = None
    """Select every facility of this country (and ``stage``, if given)."""
    stage: Id | None = None
    start: dt.date | None = None
    """First day of a scheduled outage (or of the window in which random failures occur)."""
    duration_days: Annotated[int, Field(ge=1)] | None = None
    end: dt.date | None = None
    capacity_lost: Fraction = 1.0
    ramp_days: Annotated[int, Field(ge=0)] = 0
    """Days over which the loss builds up linearly to ``capacity_lost``."""
    random: OutageSchedule | None = None
    """Random failures and repairs (a two-state Markov process) instead of a schedule."""


class DemandSelector(Model):
    demand: list[Id] = Field(default_factory=list)
    country: CountryCode | None = None
    sector: Id | None = None
    material: Id | None = None


class DemandShock(EventBase, DemandSelector):
    type: Literal["demand_shock"]
    multiplier: NonNeg
    start: dt.date
    end: dt.date | None = None
    ramp_days: Annotated[int, Field(ge=0)] = 0


class Substitution(EventBase, DemandSelector):
    type: Literal["substitution"]
    start: dt.date
    delay_days: Annotated[int, Field(ge=0)] = 0
    max_share: Fraction
    """Largest share of demand that can move away from the material."""
    rate_pa: Pos
    """Share of demand that moves away per year once substitution has begun."""


class LogisticsDisruption(EventBase):
    type: Literal["logistics_disruption"]
    origin: CountryCode | None = None
    destination: CountryCode | None = None
    materials: list[Id] = Field(default_factory=list)
    start: dt.date
    end: dt.date | None = None
    extra_days: Annotated[int, Field(ge=0)] = 0
    capacity_tpy: NonNeg | None = None
    """Cap on tonnes per year over all matched lanes together."""


class Tariff(EventBase):
    type: Literal["tariff"]
    importers: Annotated[list[CountryCode], Field(min_length=1)]
    exporters: Annotated[list[CountryCode], Field(min_length=1)]
    materials: list[Id] = Field(default_factory=list)
    rate: Annotated[float, Field(ge=-1, le=10)]
    """Ad valorem rate (0.25 = 25%); negative for a barrier reduction."""
    elasticity: NonNeg = 1.0
    """Share multiplier on the taxed route = max(0, 1 - elasticity * rate)."""
    prohibitive_rate: Pos = 1.0
    """At or above this rate the route stops."""
    start: dt.date
    end: dt.date | None = None


class NewFacility(Model):
    country: CountryCode
    recipe: Id
    capacity_tpy: NonNeg
    investment_decision: dt.date
    construction_days: Annotated[int, Field(ge=0)]
    ramp_up_days: Annotated[int, Field(ge=0)] = 365
    input_cover_days: NonNeg = 30
    output_cover_days: NonNeg = 30
    note: str | None = None


class PreferredSourcing(Model):
    materials: list[Id] = Field(default_factory=list)
    share: Fraction
    """Share of members' orders moved to member suppliers once qualified."""
    qualification_days: Annotated[int, Field(ge=0)] = 180


class CooperationAgreement(EventBase):
    type: Literal["cooperation_agreement"]
    members: Annotated[list[CountryCode], Field(min_length=2)]
    signed: dt.date
    end: dt.date | None = None
    facilities: dict[Id, NewFacility] = Field(default_factory=dict)
    preferred_sourcing: PreferredSourcing | None = None
    shared_stockpiles: bool = False
    """Members' stockpiles may release to every member's buyers."""


class StockpilePolicy(EventBase):
    type: Literal["stockpile_policy"]
    stockpile: Id
    start: dt.date
    end: dt.date | None = None
    buy_tpy: NonNeg = 0.0
    """Purchases into the reserve, tonnes per year, while holdings are below ``target_t``."""
    target_t: NonNeg | None = None
    release_threshold: NonNeg | None = None
    max_release_tpy: NonNeg | None = None
    eligible_countries: list[CountryCode] | None = None
    """Countries whose buyers may draw (default: the holder only)."""
    sectors: list[Id] | None = None
    """Demand sectors that may draw (default: all buyers of the material)."""


Event = Annotated[
    ExportControl
    | FacilityOutage
    | DemandShock
    | Substitution
    | LogisticsDisruption
    | Tariff
    | CooperationAgreement
    | StockpilePolicy,
    Field(discriminator="type"),
]
