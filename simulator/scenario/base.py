"""Shared building blocks of the scenario models: the base model and constrained types."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

DEFAULT_STAGES = ["mine", "separation", "metal", "magnet"]

ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*$"
"""Ids and names (scenario names, sweep names) that are also safe folder names."""
ID_MAX_LENGTH = 64
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=ID_MAX_LENGTH)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]

MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2200, 12, 31)
"""Every date of a scenario lies in MIN_DATE..MAX_DATE (a safety limit, not data): results store
dates as pandas/Arrow ``datetime64[ns]``, which holds 1677-09-22..2262-04-11 only, and the range
leaves room for the longest warm-up (10 years) and horizon (50 years) around it."""


def _in_date_range(value: dt.date) -> dt.date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"date {value} is outside the supported range {MIN_DATE}..{MAX_DATE} "
                         "(results store dates as datetime64[ns])")
    return value


Date = Annotated[dt.date, AfterValidator(_in_date_range)]
"""An ISO date in MIN_DATE..MAX_DATE."""

# Safety limits on physical quantities: bounds that keep absurd numbers (1e308 t/yr) from
# overflowing the engine, not data; docs/scenario-language.md, "Limits and safety".
MAX_TONNES = 1e9
"""Tonnes or tonnes per year of any one flow, capacity, demand, quota or stockpile: 2,500 times
world rare-earth mining (about 0.4 Mt/yr)."""
MAX_DAYS = 36_500
"""Any delay, cover, duration or lead time in days: 100 years, twice the longest horizon."""
MAX_COEFFICIENT = 1e6
"""Tonnes of one material per run of a recipe: far beyond any ore grade."""
MAX_FACTOR = 1e3
"""Demand multipliers, tariff elasticities and prohibitive rates, failures and shares per year."""
MAX_PRICE = 1e5
"""USD/kg of any reference price: about the price of gold, 25 times terbium oxide's 2025 peak.
(Each limit must differ from the others: messages look them up by value.)"""
MAX_PRIORITY = 999_999
"""Demand priorities lie in -MAX_PRIORITY..MAX_PRIORITY: the engine ranks stockpile purchases
at -1,000,000, below every demand sector."""
SAFETY_LIMITS: dict[float, str] = {
    MAX_TONNES: "the safety limit of 1e9 t or t/yr on one quantity (world rare-earth mining "
                "is about 4e5 t/yr)",
    MAX_DAYS: "the safety limit of 36500 days (100 years)",
    MAX_COEFFICIENT: "the safety limit of 1e6 t per run of a recipe",
    MAX_FACTOR: "the safety limit of 1000 on multipliers, elasticities and rates per year",
    MAX_PRICE: "the safety limit of 1e5 USD/kg on a price (about the price of gold)",
    MAX_PRIORITY: f"the largest priority, {MAX_PRIORITY} (stockpile purchases rank at "
                  "-1000000, below every demand)",
    -MAX_PRIORITY: f"the smallest priority, -{MAX_PRIORITY} (stockpile purchases rank at "
                   "-1000000, below every demand)",
}
"""What each limit is, for messages (keyed by the bound's value)."""

Tonnes = Annotated[float, Field(ge=0, le=MAX_TONNES)]
"""Tonnes (``_t``) or tonnes per year (``_tpy``)."""
Days = Annotated[float, Field(ge=0, le=MAX_DAYS)]
PosDays = Annotated[float, Field(gt=0, le=MAX_DAYS)]
DayCount = Annotated[int, Field(ge=0, le=MAX_DAYS)]
PosDayCount = Annotated[int, Field(ge=1, le=MAX_DAYS)]
"""Whole days."""
Coefficient = Annotated[float, Field(gt=0, le=MAX_COEFFICIENT)]
Factor = Annotated[float, Field(ge=0, le=MAX_FACTOR)]
PosFactor = Annotated[float, Field(gt=0, le=MAX_FACTOR)]
Priority = Annotated[int, Field(ge=-MAX_PRIORITY, le=MAX_PRIORITY)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Price = Annotated[float, Field(gt=0, le=MAX_PRICE)]
"""USD/kg."""


class Model(BaseModel):
    """Base for every scenario model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False,
        use_attribute_docstrings=True,
    )
