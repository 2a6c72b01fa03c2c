"""The parts of an invalid scenario document that parse, so reference checks can run on them.

Validation errors are reported for every part of a document at once, but reference checks need
a :class:`Scenario`. :func:`partial_scenario` leaves out each *unit* that failed (an item of an
id-keyed collection such as ``facilities.cn_mine`` or ``events.ban``; any other top-level key as
a whole) and validates the rest with the required keys made optional. The :class:`Gaps` it
returns tell the checks what was left out, so that they skip what depends on it: a reference
to an id whose entry did not parse is not "unknown", and a check that needs a whole collection
("no facility produces it", "selects no demand sector") is skipped when an item of it is missing.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import Field, ValidationError, create_model

from .errors import Path, Problem, did_you_mean
from .models import Scenario
from .validation_errors import clean_loc


@dataclass(frozen=True)
class Table:
    """Ids a reference may name: ``parsed`` entries, and ``unparsed`` ones (written, but their
    entry did not parse: naming them is no error, but nothing can be looked up in them)."""

    parsed: Collection[str]
    unparsed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Gaps:
    """What a partial scenario left out of an invalid document."""

    fields: frozenset[str] = frozenset()
    """Top-level keys left out as a whole (invalid or missing; a collection with an invalid
    id counts too: which id was meant is unknown)."""
    items: dict[str, frozenset[str]] = field(default_factory=dict)
    """Collection -> ids whose entry was left out."""
    new_facilities: frozenset[str] = frozenset()
    """Facility ids that events left out would build (``facilities`` maps of their data)."""

    def complete(self, *names: str) -> bool:
        """Whether the top-level keys ``names`` were parsed whole, every item included."""
        return not any(n in self.fields or self.items.get(n) for n in names)

    def table(self, name: str, parsed: Collection[str],
              also: Iterable[str] = ()) -> Table | None:
        """References into top-level key ``name`` (None: it was left out, skip them); ``also``
        adds unparsed ids from elsewhere."""
        if name in self.fields:
            return None
        return Table(parsed, self.items.get(name, frozenset()) | frozenset(also))


NO_GAPS = Gaps()

Ref = Callable[[Path, str, Table | None, str], bool]


def reference_checker(out: list[Problem]) -> Ref:
    """``ref(path, value, table, what)``: True when ``value`` names a parsed entry of ``table``;
    appends "unknown ..." to ``out`` unless it names an unparsed one or ``table`` is None."""

    def ref(path: Path, value: str, table: Table | None, what: str) -> bool:
        if table is None:
            return False
        if value in table.parsed:
            return True
        if value not in table.unparsed:
            choices = [*table.parsed, *sorted(table.unparsed)]
            out.append(Problem(path, f"unknown {what} {value!r}{did_you_mean(value, choices)}"))
        return False

    return ref


def _collections() -> frozenset[str]:
    """Top-level keys of a Scenario holding id-keyed maps, whose items are checked apart."""
    return frozenset(n for n, f in Scenario.model_fields.items()
                     if typing.get_origin(f.annotation) is dict)


COLLECTIONS = _collections()


@cache
def _lenient() -> type[Scenario]:
    """Scenario with its required keys optional (maps default to empty, other keys to None)."""
    fields: dict[str, Any] = {}
    for name, f in Scenario.model_fields.items():
        if f.is_required():
            ann = f.annotation
            fields[name] = ((ann, Field(default_factory=dict)) if typing.get_origin(ann) is dict
                            else (ann | None, None))
    return create_model("PartialScenario", __base__=Scenario, **fields)


def unit_of(path: Path) -> Path:
    """The unit left out for a problem at ``path``: a collection item, else a top-level key."""
    return path[:2] if path[:1] and path[0] in COLLECTIONS and len(path) > 1 else path[:1]


def failed_units(errors: Iterable[dict[str, Any]], data: dict[str, Any],
                 problem_paths: Iterable[Path] = ()) -> tuple[set[Path], set[str]]:
    """Units that failed, from pydantic ``errors`` on ``data`` and other problems' paths; and
    the collections with an invalid id."""
    units = {unit_of(p) for p in problem_paths}
    bad_keys: set[str] = set()
    for err in errors:
        path, is_key = clean_loc(tuple(err["loc"]), data, err["type"] == "missing")
        units.add(unit_of(path))
        if is_key and len(path) == 2:
            bad_keys.add(str(path[0]))
    return units, bad_keys


@dataclass(frozen=True)
class Partial:
    """The parsed parts of a document: their ``data``, as a ``scenario``, and the ``gaps``."""

    scenario: Scenario
    gaps: Gaps
    data: dict[str, Any]


def partial_scenario(data: dict[str, Any], units: set[Path],
                     bad_keys: Collection[str] = ()) -> Partial | None:
    """The scenario of ``data`` without ``units`` (an instance of a subclass of Scenario whose
    required keys are optional); None when nothing useful parses (a problem at the root, or
    the rest still fails)."""
    if () in units:
        return None
    pruned: dict[str, Any] = {}
    items: dict[str, set[str]] = {}
    new_facilities: set[str] = set()
    for key, value in data.items():
        if (key,) in units:
            continue
        if key in COLLECTIONS and isinstance(value, dict):
            dropped = {k for k in value if (key, k) in units}
            if dropped:
                items[key] = {str(k) for k in dropped}
                value = {k: v for k, v in value.items() if k not in dropped}
            if key == "events":
                new_facilities = {str(f) for eid in dropped for f in _built(data[key][eid])}
        pruned[key] = value
    try:
        scenario = _lenient().model_validate(pruned)
    except ValidationError:
        return None
    fields = {str(u[0]) for u in units if len(u) == 1} | set(bad_keys)
    fields |= {n for n, f in Scenario.model_fields.items() if f.is_required() and n not in pruned}
    gaps = Gaps(frozenset(fields), {k: frozenset(v) for k, v in items.items()},
                frozenset(new_facilities))
    return Partial(scenario, gaps, pruned)


def _built(event: Any) -> list[Any]:
    """Facility ids an event's raw data would build (a ``facilities`` mapping)."""
    facilities = event.get("facilities") if isinstance(event, dict) else None
    return list(facilities) if isinstance(facilities, dict) else []
