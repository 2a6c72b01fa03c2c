"""Load scenario files: YAML 1.2, ``extends`` chains, ``--set`` overrides, located errors.

Pipeline: read and parse each file of the ``extends`` chain (parent first) into plain data plus a
map from key paths to ``(file, line, col)``; deep-merge child onto parent (maps merge, lists and
scalars replace; the child's positions win); apply overrides; replace every distribution written
where a number is expected by its central value and collect it, with the explicit
``uncertainty:`` map, into ``Scenario.uncertainty``; validate with pydantic; then check each
distribution's bounds against its field's constraints and run :func:`check_scenario` on every
part that validated (:mod:`.partial`). Reading, YAML, ``extends`` and override problems stop
the pipeline; the problems of the later stages are reported together in one ``ScenarioError``,
every problem located in the file (or ``<--set>`` override) that defined the offending key.
The uncertainty stages live in :mod:`.uncertain_params`, the translation of pydantic errors in
:mod:`.validation_errors`.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import json
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.resolver import VersionedResolver

from .checks import check_scenario
from .distributions import DISTRIBUTIONS
from .document import Doc
from .errors import (
    Path,
    Problem,
    ScenarioError,
    ScenarioFileNotFound,
    ScenarioWarning,
    did_you_mean,
)
from .event_warnings import event_warnings
from .files import InputError, read_input
from .models import Scenario
from .overrides import apply_overrides, describe
from .partial import NO_GAPS, Partial, failed_units, partial_scenario
from .positions import Position, Positions, file_pos, load_yaml, locate, located, to_plain
from .uncertain_params import (
    UNCERTAINTY,
    bound_problems,
    collect_uncertainty,
    day_to_date,
    uncertain_problems,
)
from .validation_errors import drop_explained_missing, pydantic_problem, sorted_problems

StrPath = str | os.PathLike[str]
EXTENDS = "extends"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class _Source:
    """One link of an extends chain: resolved path (None for text) and display name."""

    resolved: FsPath | None
    display: str


# ---------------------------------------------------------------------------------- public API


def load_scenario(path: StrPath, overrides: Sequence[str] = ()) -> Scenario:
    """Load, merge, override and validate the scenario file at ``path``.

    Raises ScenarioFileNotFound (exit code 66) when the file or a file it extends is missing,
    and ScenarioError (exit code 65) listing every located problem: all of them in one pass,
    unless the file is unreadable, not YAML, or its ``extends`` or ``overrides`` cannot be
    applied (then those alone).
    """
    return _emit(*load_scenario_with_warnings(path, overrides))


def load_scenario_with_warnings(path: StrPath, overrides: Sequence[str] = ()
                                ) -> tuple[Scenario, list[Problem]]:
    """:func:`load_scenario` that returns the scenario's warnings (located ``warning:``
    problems: contradictory or no-op events) instead of issuing them as ScenarioWarning."""
    return _validate(_resolve_file(FsPath(path), os.fspath(path), (), None), overrides)


def _emit(scenario: Scenario, found: list[Problem]) -> Scenario:
    """Issue each warning as a ScenarioWarning (the CLI prints them on standard error)."""
    for problem in found:
        warnings.warn(ScenarioWarning(problem), stacklevel=3)
    return scenario


class ParsedScenario:
    """A scenario file read and its ``extends`` chain merged once, to validate many times with
    different overrides (sweeps): :meth:`load` is :func:`load_scenario` without re-reading.

    Raises ScenarioFileNotFound / ScenarioError as :func:`load_scenario` when created."""

    def __init__(self, path: StrPath):
        self._doc = _resolve_file(FsPath(path), os.fspath(path), (), None)

    def load(self, overrides: Sequence[str] = ()) -> Scenario:
        """Validate a copy with ``overrides`` applied. Raises ScenarioError."""
        return _emit(*_validate(copy.deepcopy(self._doc), overrides))


def load_scenario_text(
    text: str, name: str = "<string>", overrides: Sequence[str] = ()
) -> Scenario:
    """Like :func:`load_scenario` for YAML ``text``; ``extends`` is relative to the cwd.

    Problems are located in ``name``. Raises ScenarioError / ScenarioFileNotFound.
    """
    return _emit(*_validate(_resolve_text(text, _Source(None, name), FsPath.cwd(), ()),
                            overrides))


def resolve_scenario_data(path: StrPath, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The merged plain data of ``path`` (extends and overrides applied), not yet validated.

    Dates are ISO strings. Raises ScenarioFileNotFound / ScenarioError for unreadable files,
    invalid YAML, extends errors and bad overrides.
    """
    doc = _resolve_file(FsPath(path), os.fspath(path), (), None)
    apply_overrides(doc.data, doc.positions, overrides)
    return doc.data


_YAML11 = VersionedResolver(version=(1, 1))


def _represent_str(representer: SafeRepresenter, value: str) -> ScalarNode:
    """A string, quoted when a YAML 1.1 reader (PyYAML) would read it as something else: Norway's
    ``NO`` as False, ``on``/``yes``/``y`` as True, ``~`` as null, ``1_000`` or ``12:30`` as a
    number. YAML 1.2 readers load it equal either way."""
    tag = _YAML11.resolve(ScalarNode, value, (True, False))
    if tag != "tag:yaml.org,2002:str":
        return representer.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return representer.represent_str(value)


class _Representer(SafeRepresenter):
    """The safe representer with :func:`_represent_str` (a subclass: the registry is per class)."""


_Representer.add_representer(str, _represent_str)


def dump_scenario_yaml(scenario: Scenario) -> str:
    """The fully resolved scenario (defaults included) as YAML 1.2 text that loads back equal,
    in YAML 1.1 readers too (strings such as ``NO`` are quoted)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.Representer = _Representer
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 4096
    yaml.version = (1, 2)
    out = io.StringIO()
    yaml.dump(_canonical_data(scenario), out)
    return out.getvalue()


def scenario_sha256(scenario: Scenario) -> str:
    """Hex SHA-256 of the scenario's canonical JSON (sorted keys); equal scenarios hash equal."""
    canonical = json.dumps(_canonical_data(scenario), sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _canonical_data(scenario: Scenario) -> dict[str, Any]:
    """JSON data of the scenario; an empty ``uncertainty`` is left out (dumps and hashes of
    scenarios without uncertainty are what they were before the field existed)."""
    data = scenario.model_dump(mode="json", exclude_defaults=False)
    if not data.get(UNCERTAINTY):
        data.pop(UNCERTAINTY, None)
    for path, spec in data.get(UNCERTAINTY, {}).items():
        if isinstance(_value_at(data, path), str):  # a date: day numbers written as dates
            kind, params = next(iter(spec.items()))
            spec[kind] = [day_to_date(p) for p in params]
    return data


def _value_at(data: Any, path: str) -> Any:
    """The value at dotted ``path`` in ``data`` (None if there is none)."""
    for seg in path.split("."):
        if isinstance(data, dict):
            data = data.get(seg)
        elif isinstance(data, list) and seg.isdigit() and int(seg) < len(data):
            data = data[int(seg)]
        else:
            return None
    return data


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a scenario file, ``extends`` included, for editors.

    Every number may also be written as a distribution (``#/$defs/Distribution``).
    """
    schema = Scenario.model_json_schema()
    defs = schema.setdefault("$defs", {})
    dist_ref = {"$ref": "#/$defs/Distribution"}
    for name, sub in defs.items():
        if name not in {cls.__name__ for cls in DISTRIBUTIONS.values()}:
            _numbers_may_be_distributions(sub, dist_ref)
    _numbers_may_be_distributions(schema["properties"], dist_ref)
    defs["Distribution"] = {
        "description": "A distribution written in place of a number: a mapping with one key, "
                       + ", ".join(DISTRIBUTIONS) + ".",
        "anyOf": [{"$ref": f"#/$defs/{cls.__name__}"} for cls in DISTRIBUTIONS.values()],
    }
    if UNCERTAINTY in schema["properties"]:
        schema["properties"][UNCERTAINTY]["additionalProperties"] = dist_ref
    schema["properties"] = {
        EXTENDS: {"type": "string", "title": "Extends",
                  "description": "Parent scenario file (relative to this one) that this file "
                                 "deep-merges onto: maps merge, lists and scalars replace."},
        **schema.get("properties", {}),
    }
    return {"$schema": JSON_SCHEMA_DIALECT, **schema, "title": "critmin scenario"}


_SCHEMA_META = ("title", "description", "default")
_DATES = {"type": "array", "items": {"type": "string", "format": "date"}}
_DATE_DISTRIBUTION = {
    "description": "An uncertain date: {uniform: [low, high]}, {triangular: [low, mode, high]} "
                   "or {choice: [date, ...]}, drawn per replication.",
    "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
    "properties": {"uniform": {**_DATES, "minItems": 2, "maxItems": 2},
                   "triangular": {**_DATES, "minItems": 3, "maxItems": 3},
                   "choice": {**_DATES, "minItems": 1}},
}


def _numbers_may_be_distributions(node: Any, dist_ref: dict[str, str]) -> None:
    """Make every number or integer subschema below ``node`` accept a distribution too."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(
        node, list) else ()
    for key, sub in list(items):
        if isinstance(sub, dict) and sub.get("type") in ("number", "integer"):
            meta = {k: sub.pop(k) for k in _SCHEMA_META if k in sub}
            node[key] = {**meta, "anyOf": [sub, dist_ref]}
        elif (isinstance(sub, dict) and sub.get("format") == "date"
              and key not in ("start_date", "end_date")):
            node[key] = {"anyOf": [sub, _DATE_DISTRIBUTION]}
        elif isinstance(sub, dict | list) and key != UNCERTAINTY:
            _numbers_may_be_distributions(sub, dist_ref)


# ------------------------------------------------------------------------ reading and extends


def _resolve_file(path: FsPath, display: str, chain: tuple[_Source, ...],
                  origin: Position | None) -> Doc:
    """Read ``path`` and resolve its extends chain; ``origin`` is where it was referenced."""
    try:
        raw = read_input(path)
    except InputError as exc:
        key = (EXTENDS,) if origin else ()
        if exc.missing:
            msg = f"extended scenario file not found: {display}" if origin else "no such file"
            raise ScenarioFileNotFound([_at(key, msg, origin, display)]) from None
        msg = f"cannot read {display}: {exc}" if origin else f"cannot read: {exc}"
        raise ScenarioError([_at(key, msg, origin, display)]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start)
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1)
        raise ScenarioError([Problem((), f"not UTF-8 text: {exc.reason}", display, line + 1,
                                     col + 1)]) from None
    return _resolve_text(text, _Source(path.resolve(), display), path.parent, chain, origin)


def _at(path: Path, message: str, pos: Position | None, file: str) -> Problem:
    return located(path, message, pos) if pos else Problem(path, message, file)


_SCENARIO_KEYS = (EXTENDS, *Scenario.model_fields)
_KEY_MENTION = re.compile(r"(?:^|\{[ \t]*)(?:" + "|".join(_SCENARIO_KEYS) + r")[ \t]*:", re.M)
"""A scenario key at the start of a line or of a flow mapping."""


def _not_a_scenario(source: _Source, reason: str, origin: Position | None) -> ScenarioError:
    """One problem naming a file that is not a scenario at all, and none of its contents."""
    msg = (f"not a scenario file: {reason}; expected a YAML mapping with keys such as "
           "name, start_date, end_date, countries and materials")
    if origin is not None:
        return ScenarioError([located((EXTENDS,), f"{source.display} is {msg}", origin)])
    return ScenarioError([Problem((), msg, source.display, 1, 1)])


_PARSE_CACHE_MAX_CHARS = 100_000
"""Texts up to this size (three times the largest shipped scenario) are parsed once per process
and kept: some 0.5 MB each for the baseline, 16 of them at most."""


def _parse(text: str, display: str) -> tuple[Any, Positions]:
    """``text`` as plain data and the positions of its keys in ``display``: a fresh copy each
    call (callers change it), parsed once per process for a given text and display name. A
    base scenario that several scenarios extend (a compare, a sweep, the tests) is parsed once;
    the pure-Python YAML parse is most of loading a scenario, the copy a few percent of it."""
    if len(text) > _PARSE_CACHE_MAX_CHARS:
        return _parse_uncached(text, display)
    data, positions = _parse_cached(text, display)
    return copy.deepcopy(data), dict(positions)  # positions hold immutable tuples


def _parse_uncached(text: str, display: str) -> tuple[Any, Positions]:
    mkpos = file_pos(display)
    return to_plain(load_yaml(text, display, mkpos), mkpos)


# keyed by the text itself, not by file name and time stamp: an edited file is parsed anew,
# and problems raised while parsing are not cached (they are raised on every call)
_parse_cached = functools.lru_cache(maxsize=16)(_parse_uncached)


def _is_scenario_key(key: str) -> bool:
    return key in _SCENARIO_KEYS or bool(did_you_mean(key, _SCENARIO_KEYS))


def _resolve_text(text: str, source: _Source, base: FsPath, chain: tuple[_Source, ...],
                  origin: Position | None = None) -> Doc:
    """Parse ``text`` and merge it onto the file it extends (if any); ``origin`` is where it
    was extended from. A file that is not YAML and mentions no scenario key, or a mapping with
    no scenario key, gets one problem that names it without echoing its contents."""
    try:
        data, positions = _parse(text, source.display)
    except ScenarioError:
        if _KEY_MENTION.search(text):
            raise
        raise _not_a_scenario(source, "it is not valid YAML and no line starts with a scenario key",
                              origin) from None
    if not isinstance(data, dict):
        msg = ("the scenario is empty; expected a mapping of keys to values" if data is None
               else f"the top level of a scenario must be a mapping, not {describe(data)}")
        raise ScenarioError([located((), msg, positions[()])])
    if data and not any(_is_scenario_key(k) for k in data):
        raise _not_a_scenario(source, "a sweep file (check it with critmin sweep FILE --check)"
                              if "sweep" in data else "a mapping with none of the scenario "
                              "keys", origin)
    chain = (*chain, source)
    if EXTENDS not in data:
        return Doc(data, positions)
    target = data.pop(EXTENDS)
    pos = positions[(EXTENDS,)]
    for p in [p for p in positions if p[:1] == (EXTENDS,)]:
        del positions[p]
    if not isinstance(target, str) or not target.strip():
        what = "an empty string" if isinstance(target, str) else describe(target)
        raise ScenarioError([located((EXTENDS,), f"extends must name a scenario file, not {what}",
                                     pos)])
    target_path = base / target
    try:
        resolved = target_path.resolve()
    except (OSError, ValueError) as exc:
        raise ScenarioError([located((EXTENDS,), f"invalid file name {target!r}: {exc}",
                                     pos)]) from None
    if any(s.resolved == resolved for s in chain):
        names = [s.display for s in chain]
        start = next(i for i, s in enumerate(chain) if s.resolved == resolved)
        cycle = " -> ".join([*names[start:], names[start]])
        raise ScenarioError([located((EXTENDS,), f"extends cycle: {cycle}", pos)])
    if source.resolved is None:
        display = os.path.normpath(target)
    else:
        display = os.path.normpath(os.path.join(os.path.dirname(source.display), target))
    parent = _resolve_file(target_path, display, chain, pos)
    return _merge(parent, Doc(data, positions))


def _merge(parent: Doc, child: Doc) -> Doc:
    """Deep-merge ``child`` onto ``parent``: maps merge, anything else replaces, and ``null``
    removes an inherited key (an event, a facility, an optional field back to its default)."""
    replaced: list[Path] = []
    deleted: list[Path] = []

    def merge(p: dict[str, Any], c: dict[str, Any], path: Path) -> dict[str, Any]:
        out = dict(p)
        for key, value in c.items():
            old = p.get(key)
            if value is None and key in p:
                del out[key]
                deleted.append((*path, key))
            elif isinstance(old, dict) and isinstance(value, dict):
                out[key] = merge(old, value, (*path, key))
            else:
                if isinstance(old, dict | list):
                    replaced.append((*path, key))
                out[key] = value
        return out

    data = merge(parent.data, child.data, ())
    gone, below = set(deleted), set(replaced)  # prefix lookups: linear in the positions

    def kept(p: Path) -> bool:
        return not any(p[:n] in below for n in range(len(p))) and \
            not any(p[:n] in gone for n in range(len(p) + 1))

    positions = {p: pos for p, pos in parent.positions.items() if kept(p)}
    positions.update({p: pos for p, pos in child.positions.items() if p not in gone})
    return Doc(data, positions)


# --------------------------------------------------------------------------------- validation


def _validate(doc: Doc, overrides: Sequence[str]) -> tuple[Scenario, list[Problem]]:
    """Apply overrides, validate, cross-check; the scenario and its located warnings. Raises
    ScenarioError listing every problem.

    Parts that fail validation are reported and left out of the bound and reference checks,
    which run on the rest (:mod:`.partial`); a failing override or YAML error stops earlier.
    """
    apply_overrides(doc.data, doc.positions, overrides)
    found = collect_uncertainty(doc)
    valid = {path: u.dist for path, u in sorted(found.params.items()) if u.dist is not None}
    data = {**doc.data, UNCERTAINTY: valid}
    problems = list(found.problems)
    errors: list[Any] = []
    try:
        scenario: Scenario | None = Scenario.model_validate(data)
    except ValidationError as exc:
        scenario = None
        errors = exc.errors(include_url=False)
        problems += uncertain_problems([pydantic_problem(err, doc) for err in errors], found)
    units, bad_keys = failed_units(errors, data, [p.path for p in found.problems])
    if scenario is not None and not units:
        parsed: Partial | None = Partial(scenario, NO_GAPS, doc.data)
    else:
        parsed = partial_scenario(data, units, bad_keys)
    if parsed is not None:
        problems += bound_problems(doc, found, parsed.data, type(parsed.scenario))
        problems += [located(p.path, p.message, locate(doc.positions, p.path))
                     for p in check_scenario(parsed.scenario, parsed.gaps)]
    if problems or scenario is None:
        raise ScenarioError(sorted_problems(drop_explained_missing(problems)))
    return scenario, sorted_problems([located(p.path, p.message, locate(doc.positions, p.path))
                                      for p in event_warnings(scenario)])
