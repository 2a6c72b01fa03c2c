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
Fraction = Annotated[float, Field(ge=0, le=1)]


class Model(BaseModel):
    """Base for every scenario model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False,
        use_attribute_docstrings=True,
    )
