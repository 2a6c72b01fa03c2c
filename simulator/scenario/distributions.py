"""Uncertain parameters: a distribution written where a number is expected.

Any numeric parameter of a scenario may be written as a one-key mapping instead of a number::

    capacity_tpy: {triangular: [3000, 4000, 6000]}   # low, mode, high
    rate_tpy: {uniform: [800, 1200]}                  # low, high
    growth_pa: {normal: [0.05, 0.01]}                 # mean, sd (clipped to mean +- 4 sd)
    default_days: {choice: [21, 28, 35]}              # equally likely values

The loader replaces each one by its :meth:`~Triangular.central` value (the value that is
validated, cross-checked and shown) and records it in ``Scenario.uncertainty`` under its dotted
key path. :func:`realize` draws every uncertain parameter for one replication, each from its own
named random stream ``param:<path>`` so that replications differ while common random numbers
hold across scenarios: every draw is the inverse CDF of one uniform number of that stream, so two
scenarios that give a parameter different distributions still draw it at the same quantile.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import Field, ValidationError, model_validator

from .base import Model
from .errors import did_you_mean
from .overrides import describe

if TYPE_CHECKING:
    from .models import Scenario

NORMAL_CLIP_SD = 4.0
"""Normal draws are clipped to ``mean +- NORMAL_CLIP_SD * sd``."""
STREAM_PREFIX = "param:"
"""Random stream of the parameter at dotted ``path``: ``param:<path>``."""


def format_number(x: float) -> str:
    """``2000.0`` -> ``2000``, ``0.25`` -> ``0.25`` (for messages)."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


class _Distribution(Model):
    """Common behaviour of the distributions; each subclass has one field named after its kind."""

    kind: ClassVar[str]
    arity: ClassVar[int | None]
    """Number of parameters (None: one or more)."""
    signature: ClassVar[str]
    """How the parameters are written, for messages (``[low, mode, high]``)."""

    @property
    def params(self) -> tuple[float, ...]:
        """The parameters as written, e.g. ``(low, mode, high)``."""
        return tuple(getattr(self, self.kind))

    def describe(self) -> str:
        """``triangular [1000, 2000, 3000]``."""
        return f"{self.kind} [{', '.join(format_number(p) for p in self.params)}]"

    def to_data(self) -> dict[str, list[float]]:
        """The mapping this distribution is written as."""
        return {self.kind: list(self.params)}

    def central(self) -> float:
        """The value used when the scenario is validated and shown."""
        raise NotImplementedError

    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value a draw can take."""
        raise NotImplementedError

    def quantile(self, u: float) -> float:
        """Inverse CDF at ``u`` in [0, 1]: a draw is ``quantile(U)`` for U uniform on [0, 1)."""
        raise NotImplementedError

    def draw(self, gen: np.random.Generator) -> float:
        """One draw, using exactly one uniform number of ``gen``."""
        return self.quantile(float(gen.random()))


class Triangular(_Distribution):
    """Triangular distribution ``{triangular: [low, mode, high]}``; central value: the mode."""

    kind: ClassVar[str] = "triangular"
    arity: ClassVar[int | None] = 3
    signature: ClassVar[str] = "[low, mode, high]"

    triangular: tuple[float, float, float]
    """``[low, mode, high]`` with low <= mode <= high."""

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        low, mode, high = self.triangular
        if low > high:
            raise ValueError(f"low {format_number(low)} is above high {format_number(high)}")
        if not low <= mode <= high:
            raise ValueError(f"mode {format_number(mode)} is not between low "
                             f"{format_number(low)} and high {format_number(high)}")
        return self

    def central(self) -> float:
        return self.triangular[1]

    def bounds(self) -> tuple[float, float]:
        return self.triangular[0], self.triangular[2]

    def quantile(self, u: float) -> float:
        low, mode, high = self.triangular
        width = high - low
        if width <= 0:
            return low
        split = (mode - low) / width
        if u < split:
            value = low + math.sqrt(u * width * (mode - low))
        else:
            value = high - math.sqrt((1.0 - u) * width * (high - mode))
        return min(max(value, low), high)


class Uniform(_Distribution):
    """Uniform distribution ``{uniform: [low, high]}``; central value: the midpoint."""

    kind: ClassVar[str] = "uniform"
    arity: ClassVar[int | None] = 2
    signature: ClassVar[str] = "[low, high]"

    uniform: tuple[float, float]
    """``[low, high]`` with low <= high."""

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        low, high = self.uniform
        if low > high:
            raise ValueError(f"low {format_number(low)} is above high {format_number(high)}")
        return self

    def central(self) -> float:
        low, high = self.uniform
        return low + (high - low) / 2

    def bounds(self) -> tuple[float, float]:
        return self.uniform

    def quantile(self, u: float) -> float:
        low, high = self.uniform
        return min(max(low + u * (high - low), low), high)


class Normal(_Distribution):
    """Normal distribution ``{normal: [mean, sd]}`` with draws clipped to mean +- 4 sd;
    central value: the mean."""

    kind: ClassVar[str] = "normal"
    arity: ClassVar[int | None] = 2
    signature: ClassVar[str] = "[mean, sd]"

    normal: tuple[float, float]
    """``[mean, sd]`` with sd >= 0."""

    @model_validator(mode="after")
    def _sd(self) -> Normal:
        if self.normal[1] < 0:
            raise ValueError(f"sd {format_number(self.normal[1])} is negative")
        return self

    def central(self) -> float:
        return self.normal[0]

    def bounds(self) -> tuple[float, float]:
        mean, sd = self.normal
        return mean - NORMAL_CLIP_SD * sd, mean + NORMAL_CLIP_SD * sd

    def quantile(self, u: float) -> float:
        mean, sd = self.normal
        if sd == 0:
            return mean
        low, high = self.bounds()
        if u <= 0.0:
            return low
        if u >= 1.0:
            return high
        return min(max(NormalDist(mean, sd).inv_cdf(u), low), high)


class Choice(_Distribution):
    """Equally likely values ``{choice: [v1, v2, ...]}``; central value: their median."""

    kind: ClassVar[str] = "choice"
    arity: ClassVar[int | None] = None
    signature: ClassVar[str] = "[v1, v2, ...]"

    choice: tuple[float, ...] = Field(min_length=1)
    """One or more values, each drawn with equal probability."""

    def central(self) -> float:
        values = sorted(self.choice)
        n = len(values)
        mid = n // 2
        return values[mid] if n % 2 else values[mid - 1] + (values[mid] - values[mid - 1]) / 2

    def bounds(self) -> tuple[float, float]:
        return min(self.choice), max(self.choice)

    def quantile(self, u: float) -> float:
        values = sorted(self.choice)  # sorted: the draw is monotone in u (common random numbers)
        return values[min(int(u * len(values)), len(values) - 1)]


Distribution = Triangular | Uniform | Normal | Choice
"""Any distribution a numeric parameter may be written as."""

DISTRIBUTIONS: dict[str, type[_Distribution]] = {
    cls.kind: cls for cls in (Triangular, Uniform, Normal, Choice)
}
"""Distribution classes by kind (the key they are written with)."""
KINDS = tuple(DISTRIBUTIONS)


def is_distribution_data(value: Any) -> bool:
    """True for a one-key mapping whose key names a distribution (``{triangular: [...]}``)."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in DISTRIBUTIONS


def check_distribution_data(value: Any, expected: str = "a distribution"
                            ) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems of a distribution written as data, each with its path relative to ``value``.

    Checks the shape (a one-key mapping naming a distribution, its list of numbers) and the
    parameters themselves (low <= mode <= high, sd >= 0...). Empty when
    :func:`parse_distribution` will succeed. ``expected`` names what was expected in messages
    about the shape.
    """
    names = ", ".join(KINDS)
    shape = f"a mapping with one key: {', '.join(KINDS[:-1])} or {KINDS[-1]}"
    if not isinstance(value, dict):
        return [((), f"expected {expected} ({shape}), not {describe(value)}")]
    if len(value) != 1:
        keys = ", ".join(repr(k) for k in value)
        what = f"a mapping with keys {keys}" if keys else "an empty mapping"
        return [((), f"expected {expected} ({shape}), not {what}")]
    kind, params = next(iter(value.items()))
    cls = DISTRIBUTIONS.get(kind)
    if cls is None:
        return [((kind,), f"unknown distribution {kind!r}{did_you_mean(str(kind), KINDS)}; "
                          f"expected one of {names}")]
    if not isinstance(params, list):
        return [((kind,), f"{kind} takes a list {cls.signature}, not {describe(params)}")]
    if cls.arity is not None and len(params) != cls.arity:
        return [((kind,), f"{kind} takes {cls.arity} numbers {cls.signature}, not {len(params)}")]
    if not params:
        return [((kind,), f"{kind} takes at least one value {cls.signature}")]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for i, p in enumerate(params):
        if isinstance(p, bool) or not isinstance(p, int | float):
            problems.append(((kind, i), f"{kind} value {p!r} is not a number"))
        elif not math.isfinite(p):
            problems.append(((kind, i), f"{kind} value {p!r} is not a finite number"))
    if problems:
        return problems
    try:
        cls.model_validate(value)
    except ValidationError as exc:
        shown = ", ".join(format_number(p) for p in params)
        return [((kind,), f"invalid {kind} [{shown}]: {_message(err)}")
                for err in exc.errors(include_url=False)]
    return []


def _message(err: Any) -> str:
    msg = str(err["msg"])
    return msg.split(", ", 1)[1] if err["type"] == "value_error" and ", " in msg else msg


def parse_distribution(value: Any) -> Distribution:
    """The distribution written as ``value`` (e.g. ``{"uniform": [1, 2]}``).

    Raises ValueError with every problem of ``value`` (see :func:`check_distribution_data`).
    """
    problems = check_distribution_data(value)
    if problems:
        raise ValueError("; ".join(msg for _, msg in problems))
    kind = next(iter(value))
    return DISTRIBUTIONS[kind].model_validate(value)  # type: ignore[return-value]


def split_path(data: Any, path: str) -> tuple[str | int, ...]:
    """Dotted ``path`` as keys into ``data``: segments indexing a list become ints.

    Raises KeyError naming the first segment that does not exist.
    """
    parts: list[str | int] = []
    cur = data
    for seg in path.split("."):
        if isinstance(cur, dict) and seg in cur:
            parts.append(seg)
            cur = cur[seg]
        elif isinstance(cur, list) and seg.isdigit() and int(seg) < len(cur):
            parts.append(int(seg))
            cur = cur[int(seg)]
        else:
            raise KeyError(seg)
    return tuple(parts)


def set_number(data: Any, keys: Sequence[str | int], value: float) -> None:
    """Set ``data[k0][k1]...`` to ``value``, rounded to the nearest int if the value there is
    an int (an int field such as a lead time), or to the date of day number ``value``
    (``date.toordinal``) if the value there is a date (an uncertain event date)."""
    cur = data
    for k in keys[:-1]:
        cur = cur[k]
    old = cur[keys[-1]]
    if isinstance(old, dt.date):  # an uncertain date: ``value`` is a day number
        cur[keys[-1]] = dt.date.fromordinal(round(value))
        return
    cur[keys[-1]] = round(value) if isinstance(old, int) and not isinstance(old, bool) else value


def draw_param(scenario: Scenario, path: str,
               get_stream: Callable[[str], np.random.Generator]) -> float:
    """The value of uncertain parameter ``path`` in one replication: one draw from its own
    stream ``param:<path>`` (a day number, ``date.toordinal``, for a date)."""
    return scenario.uncertainty[path].draw(get_stream(STREAM_PREFIX + path))


def realize(scenario: Scenario, get_stream: Callable[[str], np.random.Generator]) -> Scenario:
    """One replication's values of ``scenario``'s uncertain parameters.

    For each path of ``scenario.uncertainty`` in sorted order, draws one value from
    ``get_stream(f"param:{path}")`` (e.g. :meth:`simulator.engine.RandomStreams.get`), sets it in
    the scenario's data (rounded to the nearest int for int fields) and validates the result into
    a new Scenario with no uncertainty. Pure: ``scenario`` is not changed; a scenario without
    uncertainty is returned as is. Raises ValueError for a path that does not exist and pydantic's
    ValidationError if a drawn value breaks a field's constraint (the loader checks the bounds
    of every distribution against the constraints, so it cannot for a loaded scenario).
    """
    if not scenario.uncertainty:
        return scenario
    data = scenario.model_dump()
    data["uncertainty"] = {}
    for path in sorted(scenario.uncertainty):
        try:
            keys = split_path(data, path)
        except KeyError as exc:
            raise ValueError(f"uncertain parameter {path!r} is not in the scenario "
                             f"(no key {exc.args[0]!r})") from None
        set_number(data, keys, draw_param(scenario, path, get_stream))
    return type(scenario).model_validate(data)
