"""Uncertain parameters: distributions written in place of numbers, and the ``uncertainty:`` map.

:func:`collect_uncertainty` replaces every distribution written where a number is expected by its
central value and checks each explicit ``uncertainty:`` entry (a dotted parameter path mapped to a
distribution), collecting both by dotted path. After validation, :func:`uncertain_problems`
rewords the problems of central values and :func:`bound_problems` checks that each distribution's
lower and upper bounds satisfy its field's constraints too.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .distributions import (
    DISTRIBUTIONS,
    Distribution,
    Normal,
    check_distribution_data,
    format_number,
    is_distribution_data,
)
from .document import Doc, child_types, model_fields, union_arms
from .errors import Path, Problem, did_you_mean, format_path
from .models import Scenario
from .overrides import describe
from .positions import Position, locate, located
from .validation_errors import clean_loc, constraint_message

UNCERTAINTY = "uncertainty"


@dataclass
class Param:
    """An uncertain parameter: its data keys, its distribution (None when invalid, which is
    reported already), where the distribution is written, whether the field holds ints, and
    whether it holds a date (the distribution is then over day numbers, ``date.toordinal``)."""

    keys: Path
    dist: Distribution | None
    pos: Position | None
    integer: bool
    date: bool = False


@dataclass
class Uncertainty:
    """Uncertain parameters by dotted path, and the problems found collecting them."""

    params: dict[str, Param]
    problems: list[Problem]


@dataclass(frozen=True)
class _Place:
    """What is expected at a data path: a scalar (no mapping or list), a number, an int, a
    date."""

    scalar: bool
    numeric: bool
    integer: bool
    date: bool = False


_MISSING = object()


def _place(types: list[Any]) -> _Place | None:
    """What ``types`` expect (None when nothing is expected: the path is not in a Scenario)."""
    arms = [a for t in types for a in union_arms(t) if a is not type(None)]
    if not arms:
        return None
    container = any(model_fields(a) or typing.get_origin(a) in (dict, list, tuple)
                    for a in arms)
    date = any(_base(a) is dt.date for a in arms)
    return _Place(not container, any(a in (int, float) for a in arms),
                  int in arms and float not in arms, date)


def _base(t: Any) -> Any:
    """``t`` without ``Annotated[...]``."""
    return typing.get_args(t)[0] if typing.get_origin(t) is typing.Annotated else t


def _central(dist: Distribution, integer: bool) -> float:
    """The central value of ``dist``, rounded when the field holds ints."""
    return round(dist.central()) if integer else dist.central()


def day_to_date(day: float) -> str:
    """The ISO date of day number ``day`` (``date.toordinal``), rounded to a whole day."""
    return dt.date.fromordinal(round(day)).isoformat()


def _as_day(value: Any) -> int | None:
    """The day number of a date written as a date or an ISO string; None if it is not one."""
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).toordinal()
        except ValueError:
            return None
    return None


_DATE_KINDS = ("uniform", "triangular", "choice")


def date_distribution_data(value: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[Path, str]]]:
    """``value`` (a distribution written over dates) with its dates as day numbers, and the
    problems of its dates (sub-path, message)."""
    kind, params = next(iter(value.items()))
    if kind not in _DATE_KINDS:
        if kind in DISTRIBUTIONS:
            return value, [((kind,), f"a {kind} distribution is not allowed for a date; use "
                                     f"{', '.join(_DATE_KINDS)}")]
        return value, []  # check_distribution_data names the unknown kind
    if not isinstance(params, list):
        return value, []
    days, problems = [], []
    for i, p in enumerate(params):
        day = _as_day(p)
        if day is None:
            problems.append(((kind, i), f"{kind} value {p!r} is not a date"))
        days.append(day)
    return {kind: days}, problems


def _dates_in(message: str, data: dict[str, Any]) -> str:
    """``message`` about the day-number distribution ``data`` with its day numbers as dates."""
    days = {str(d) for d in next(iter(data.values())) if isinstance(d, int)}
    return re.sub(r"\b\d{6}\b", lambda m: day_to_date(int(m[0])) if m[0] in days else m[0],
                  message)


def describe_param(param: Param) -> str:
    """``uniform [2026-01-01, 2026-12-31]`` for a date parameter, else the distribution's
    own description."""
    assert param.dist is not None
    if not param.date:
        return param.dist.describe()
    return f"{param.dist.kind} [{', '.join(day_to_date(p) for p in param.dist.params)}]"


def _dist_pos(doc: Doc, path: Path, value: Any) -> Position | None:
    """Where the distribution ``value`` written at ``path`` is: at its one key, if it has one."""
    if isinstance(value, dict) and len(value) == 1:
        return locate(doc.positions, (*path, next(iter(value))))
    return locate(doc.positions, path)


#: Numeric keys that cannot be uncertain, with why: they are read after the run from the
#: scenario's written values, so a distribution would silently count as its central value.
FIXED_KEYS = {
    "kg_per_unit": "units not built are counted after the run from the scenario's values, "
                   "not drawn per replication: write a number (docs/metrics.md)",
}


def _fixed(path: Path) -> str | None:
    """Why the parameter at ``path`` cannot be uncertain (None: it can)."""
    return FIXED_KEYS.get(str(path[-1])) if path else None


def collect_uncertainty(doc: Doc) -> Uncertainty:
    """Replace, in ``doc.data``, each distribution written where a number is expected by its
    central value; pop the explicit ``uncertainty`` map; collect both by dotted path."""
    found = Uncertainty({}, [])

    def inline(value: dict[str, Any], path: Path, place: _Place) -> Any:
        key = ".".join(str(k) for k in path)
        pos = _dist_pos(doc, path, value)
        problems: list[tuple[Path, str]] = []
        if place.date:
            value, problems = date_distribution_data(value)
        problems = problems or check_distribution_data(
            value, "a date or a distribution" if place.date else "a number or a distribution")
        if place.date:
            problems = [(sub, _dates_in(msg, value)) for sub, msg in problems]
        found.problems += [located(path, msg, locate(doc.positions, (*path, *sub)))
                           for sub, msg in problems]
        dist = None if problems else DISTRIBUTIONS[next(iter(value))].model_validate(value)
        integer = place.integer or place.date
        found.params[key] = Param(path, dist, pos, integer, place.date)  # type: ignore[arg-type]
        if place.date:
            return None if dist is None else day_to_date(dist.central())  # type: ignore
        return 0 if dist is None else _central(dist, integer)  # type: ignore[arg-type]

    def walk(value: Any, path: Path, types: list[Any]) -> Any:
        if isinstance(value, dict):
            place = _place(types) if path else None
            if place is not None and place.scalar:
                if place.date and len(path) == 1 and is_distribution_data(value):
                    found.problems.append(located(
                        path, "the horizon cannot be uncertain: only numbers and the dates of "
                        "events and facilities can", _dist_pos(doc, path, value)))
                    found.params[path[0]] = Param(path, None, None, False)
                    return value
                why = _fixed(path)
                if why and is_distribution_data(value):
                    found.problems.append(located(
                        path, f"cannot be uncertain: {why}", _dist_pos(doc, path, value)))
                    found.params[".".join(str(k) for k in path)] = Param(path, None, None, False)
                    return value
                if place.numeric or (place.date and is_distribution_data(value)):
                    return inline(value, path, place)
                if is_distribution_data(value):
                    found.problems.append(located(
                        path, f"a {next(iter(value))} distribution is not allowed here: "
                        "only numbers and dates can be uncertain",
                        _dist_pos(doc, path, value)))
                    found.params[".".join(str(k) for k in path)] = Param(path, None, None, False)
                return value
            for k, v in list(value.items()):
                if path or k != UNCERTAINTY:
                    value[k] = walk(v, (*path, k), child_types(types, k, value))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                value[i] = walk(v, (*path, i), child_types(types, i))
        return value

    walk(doc.data, (), [Scenario])
    explicit = doc.data.pop(UNCERTAINTY, None)
    if explicit is not None and not isinstance(explicit, dict):
        found.problems.append(located(
            (UNCERTAINTY,), "expected a mapping of parameter paths to distributions, not "
            f"{describe(explicit)}", locate(doc.positions, (UNCERTAINTY,))))
    for key, spec in (explicit if isinstance(explicit, dict) else {}).items():
        if spec is not None:  # null drops an inherited entry
            _explicit_entry(doc, found, key, spec)
    return found


def _explicit_entry(doc: Doc, found: Uncertainty, key: str, spec: Any) -> None:
    """Check one ``uncertainty:`` entry and set its parameter to the central value."""
    epath: Path = (UNCERTAINTY, key)
    pos = _dist_pos(doc, epath, spec)
    resolved = _resolve_param(doc, key, epath, found)
    date = resolved is not None and resolved[3]
    problems: list[tuple[Path, str]] = []
    if date and is_distribution_data(spec):
        spec, problems = date_distribution_data(spec)
    problems = problems or check_distribution_data(spec)
    if date:
        problems = [(sub, _dates_in(msg, spec)) for sub, msg in problems]
    found.problems += [located(epath, msg, locate(doc.positions, (*epath, *sub)))
                       for sub, msg in problems]
    if resolved is None or problems:
        return
    keys, integer, current, date = resolved
    why = _fixed(keys)
    if why:
        found.problems.append(located(epath, f"cannot be uncertain: {why}", pos))
        return
    integer = integer or date
    dist: Distribution = DISTRIBUTIONS[next(iter(spec))].model_validate(spec)  # type: ignore
    canonical = ".".join(str(k) for k in keys)
    other = found.params.get(canonical)
    if other is not None:
        if other.dist is not None and other.dist != dist:
            found.problems.append(located(
                epath, f"{dist.describe()} conflicts with the distribution "
                f"{other.dist.describe()} written at {canonical}", pos))
        return
    central: Any = _central(dist, integer)
    if date:
        central = day_to_date(central)
        current = str(current) if isinstance(current, dt.date) else current
        if current == central:
            found.params[canonical] = Param(keys, dist, pos, integer, date)
            return
    if current is _MISSING or current is None:
        cur = doc.data
        for k in keys[:-1]:
            cur = cur.setdefault(k, {}) if isinstance(cur, dict) else cur[k]
        cur[keys[-1]] = central
    elif (isinstance(current, bool) or not isinstance(current, int | float)
          or not math.isclose(current, central, rel_tol=1e-9, abs_tol=1e-12)):
        shown = format_number(current) if isinstance(current, int | float) else repr(current)
        param = Param(keys, dist, pos, integer, date)
        found.problems.append(located(
            keys, f"value {shown} differs from the central value "
            f"{central if date else format_number(central)} of its uncertainty entry "
            f"{describe_param(param)}; write the distribution in place of the value, or set "
            f"uncertainty.{canonical} to null", locate(doc.positions, keys)))
        found.params[canonical] = Param(keys, None, pos, integer, date)
        return
    found.params[canonical] = Param(keys, dist, pos, integer, date)


def _resolve_param(doc: Doc, key: str, epath: Path,
                   found: Uncertainty) -> tuple[Path, bool, Any, bool] | None:
    """Data keys of the dotted parameter ``key``, whether it holds ints, its current value
    (``_MISSING`` for a defaulted field not written) and whether it holds a date; None after
    reporting an unknown path."""
    cur: Any = doc.data
    types: list[Any] = [Scenario]
    keys: list[str | int] = []

    def fail(msg: str) -> None:
        found.problems.append(located(epath, msg, locate(doc.positions, epath)))

    for seg in key.split("."):
        fields = [n for t in types for a in union_arms(t) for n in model_fields(a)]
        if isinstance(cur, list) and seg.isdigit() and int(seg) < len(cur):
            k: str | int = int(seg)
        elif (isinstance(cur, dict) and seg in cur) or (
                (cur is _MISSING or isinstance(cur, dict)) and seg in fields):
            k = seg
        else:
            where = f"in {format_path(tuple(keys))}" if keys else "at the top level"
            if cur is not _MISSING and not isinstance(cur, dict | list):
                where += f" ({format_path(tuple(keys))} is {describe(cur)})"
            choices = [*(cur if isinstance(cur, dict) else []), *fields]
            fail(f"unknown parameter {key!r}: no {seg!r} {where}{did_you_mean(seg, choices)}")
            return None
        types = child_types(types, k, cur if isinstance(cur, dict) else None)
        keys.append(k)
        if isinstance(cur, dict) and k in cur:
            cur = cur[k]
        elif isinstance(cur, list):
            cur = cur[k]  # type: ignore[index]
        else:
            cur = _MISSING
    place = _place(types)
    if place is None or not (place.scalar and (place.numeric or place.date)):
        what = "" if cur is _MISSING else f" (it is {describe(cur)})"
        fail(f"{key} is not a numeric parameter or a date{what}; only numbers and dates can "
             "be uncertain")
        return None
    return tuple(keys), place.integer, cur, place.date


def uncertain_problems(problems: list[Problem], found: Uncertainty) -> list[Problem]:
    """Pydantic problems with uncertain parameters: those of invalid distributions (reported
    already) are dropped; those of a central value point at its distribution and say so."""
    out = []
    for p in problems:
        param = next((u for u in found.params.values() if p.path[: len(u.keys)] == u.keys), None)
        if param is None or (param.dist is not None and p.path != param.keys):
            out.append(p)
        elif param.dist is not None:
            central = _shown(param, _central(param.dist, param.integer))
            out.append(located(p.path, f"central value {central} of {describe_param(param)}: "
                                       f"{p.message}", param.pos))
    return out


def bound_problems(doc: Doc, found: Uncertainty, data: dict[str, Any] | None = None,
                   model: type[Scenario] = Scenario) -> list[Problem]:
    """Validate ``doc.data`` (or the parsed part ``data`` of it, as ``model``) with each
    uncertain parameter, one at a time, at its lower and at its upper bound: a draw must
    satisfy the field's constraints too. Parameters not in ``data`` are skipped."""
    data = doc.data if data is None else data
    invalid = [u.keys for u in found.params.values() if u.dist is None]
    problems: list[Problem] = []
    for _, param in sorted(found.params.items()):
        dist = param.dist
        keys = param.keys
        parent = _parent(data, keys)
        if dist is None or parent is None:
            continue
        central = parent[keys[-1]]
        if param.date:
            problems += _horizon_problems(data, param)
        for label, bound in zip(("lower", "upper"), dist.bounds(), strict=True):
            value: Any = round(bound) if param.integer else bound
            if param.date:
                value = day_to_date(value)
            if value == central:
                continue
            note = ""
            if isinstance(dist, Normal):
                note = " (mean - 4 sd)" if label == "lower" else " (mean + 4 sd)"
            parent[keys[-1]] = value
            try:
                model.model_validate(data)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    path, _ = clean_loc(tuple(err["loc"]), data, err["type"] == "missing")
                    if any(path[: len(k)] == k for k in invalid):
                        continue  # a placeholder for an invalid distribution, reported already
                    shown = value if param.date else format_number(value)
                    problems.append(located(
                        keys, f"{label} bound {shown}{note} of "
                        f"{describe_param(param)}: {constraint_message(err)}", param.pos))
            finally:
                parent[keys[-1]] = central
    return problems


def _shown(param: Param, value: float) -> str:
    """``value`` of ``param`` for messages: a date or a number."""
    return day_to_date(value) if param.date else format_number(value)


def _horizon_problems(data: dict[str, Any], param: Param) -> list[Problem]:
    """An uncertain date must be drawn inside the horizon: from ``start_date`` to before
    ``end_date``."""
    assert param.dist is not None
    low, high = (round(b) for b in param.dist.bounds())
    start, end = _as_day(data.get("start_date")), _as_day(data.get("end_date"))
    what = describe_param(param)
    problems = []
    if start is not None and low < start:
        problems.append(located(param.keys, f"lower bound {day_to_date(low)} of {what}: before "
                                f"the start of the horizon (start_date {day_to_date(start)})",
                                param.pos))
    if end is not None and high >= end:
        problems.append(located(param.keys, f"upper bound {day_to_date(high)} of {what}: "
                                f"outside the horizon (end_date {day_to_date(end)})",
                                param.pos))
    return problems


def _parent(data: dict[str, Any], keys: Path) -> Any:
    """The mapping or list holding the value at ``keys`` in ``data`` (None if it is not there)."""
    parent: Any = data
    for k in keys:
        holder = parent
        if not ((isinstance(parent, dict) and k in parent) or (
                isinstance(parent, list) and isinstance(k, int) and 0 <= k < len(parent))):
            return None
        parent = parent[k]
    return holder if keys else None
