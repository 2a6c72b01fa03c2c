"""Load scenario files: YAML 1.2, ``extends`` chains, ``--set`` overrides, located errors.

Pipeline: read and parse each file of the ``extends`` chain (parent first) into plain data plus a
map from key paths to ``(file, line, col)``; deep-merge child onto parent (maps merge, lists and
scalars replace; the child's positions win); apply overrides; replace every distribution written
where a number is expected by its central value and collect it, with the explicit
``uncertainty:`` map, into ``Scenario.uncertainty``; validate with pydantic; then check each
distribution's bounds against its field's constraints and run :func:`check_scenario`. Each stage
reports all of its problems at once in one ``ScenarioError``, every problem located in the file
(or ``<--set>`` override) that defined the offending key.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML

from .checks import check_scenario
from .distributions import (
    DISTRIBUTIONS,
    Distribution,
    Normal,
    check_distribution_data,
    format_number,
    is_distribution_data,
)
from .errors import Path, Problem, ScenarioError, ScenarioFileNotFound, did_you_mean, format_path
from .models import Scenario
from .overrides import apply_overrides, describe
from .positions import Position, Positions, file_pos, load_yaml, locate, located, to_plain

StrPath = str | os.PathLike[str]
EXTENDS = "extends"
UNCERTAINTY = "uncertainty"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass
class _Doc:
    """Plain data of a (merged) scenario document and where each key path was defined."""

    data: dict[str, Any]
    positions: Positions


@dataclass(frozen=True)
class _Source:
    """One link of an extends chain: resolved path (None for text) and display name."""

    resolved: FsPath | None
    display: str


# ---------------------------------------------------------------------------------- public API


def load_scenario(path: StrPath, overrides: Sequence[str] = ()) -> Scenario:
    """Load, merge, override and validate the scenario file at ``path``.

    Raises ScenarioFileNotFound (exit code 66) when the file or a file it extends is missing,
    and ScenarioError (exit code 65) listing every located problem of the first failing stage.
    """
    return _validate(_resolve_file(FsPath(path), os.fspath(path), (), None), overrides)


def load_scenario_text(
    text: str, name: str = "<string>", overrides: Sequence[str] = ()
) -> Scenario:
    """Like :func:`load_scenario` for YAML ``text``; ``extends`` is relative to the cwd.

    Problems are located in ``name``. Raises ScenarioError / ScenarioFileNotFound.
    """
    return _validate(_resolve_text(text, _Source(None, name), FsPath.cwd(), ()), overrides)


def resolve_scenario_data(path: StrPath, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The merged plain data of ``path`` (extends and overrides applied), not yet validated.

    Dates are ISO strings. Raises ScenarioFileNotFound / ScenarioError for unreadable files,
    invalid YAML, extends errors and bad overrides.
    """
    doc = _resolve_file(FsPath(path), os.fspath(path), (), None)
    apply_overrides(doc.data, doc.positions, overrides)
    return doc.data


def dump_scenario_yaml(scenario: Scenario) -> str:
    """The fully resolved scenario (defaults included) as YAML 1.2 text that loads back equal."""
    yaml = YAML(typ="safe", pure=True)
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


def _numbers_may_be_distributions(node: Any, dist_ref: dict[str, str]) -> None:
    """Make every number or integer subschema below ``node`` accept a distribution too."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(
        node, list) else ()
    for key, sub in list(items):
        if isinstance(sub, dict) and sub.get("type") in ("number", "integer"):
            meta = {k: sub.pop(k) for k in _SCHEMA_META if k in sub}
            node[key] = {**meta, "anyOf": [sub, dist_ref]}
        elif isinstance(sub, dict | list) and key != UNCERTAINTY:
            _numbers_may_be_distributions(sub, dist_ref)


# ------------------------------------------------------------------------ reading and extends


def _resolve_file(path: FsPath, display: str, chain: tuple[_Source, ...],
                  origin: Position | None) -> _Doc:
    """Read ``path`` and resolve its extends chain; ``origin`` is where it was referenced."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        what = "extended scenario file" if origin else "scenario file"
        raise ScenarioFileNotFound([_at((EXTENDS,) if origin else (),
                                        f"{what} not found: {display}", origin, display)]) from None
    except (OSError, ValueError) as exc:  # ValueError: embedded NUL in the name
        reason = getattr(exc, "strerror", None) or exc
        raise ScenarioError([_at((EXTENDS,) if origin else (),
                                 f"cannot read {display}: {reason}", origin, display)]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start)
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1)
        raise ScenarioError([Problem((), f"not UTF-8 text: {exc.reason}", display, line + 1,
                                     col + 1)]) from None
    return _resolve_text(text, _Source(path.resolve(), display), path.parent, chain)


def _at(path: Path, message: str, pos: Position | None, file: str) -> Problem:
    return located(path, message, pos) if pos else Problem(path, message, file)


def _resolve_text(text: str, source: _Source, base: FsPath,
                  chain: tuple[_Source, ...]) -> _Doc:
    """Parse ``text`` and merge it onto the file it extends (if any)."""
    mkpos = file_pos(source.display)
    doc = load_yaml(text, source.display, mkpos)
    data, positions = to_plain(doc, mkpos)
    if not isinstance(data, dict):
        msg = ("the scenario is empty; expected a mapping of keys to values" if data is None
               else f"the top level of a scenario must be a mapping, not {describe(data)}")
        raise ScenarioError([located((), msg, positions[()])])
    chain = (*chain, source)
    if EXTENDS not in data:
        return _Doc(data, positions)
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
    return _merge(parent, _Doc(data, positions))


def _merge(parent: _Doc, child: _Doc) -> _Doc:
    """Deep-merge ``child`` onto ``parent``: maps merge, anything else replaces."""
    replaced: list[Path] = []

    def merge(p: dict[str, Any], c: dict[str, Any], path: Path) -> dict[str, Any]:
        out = dict(p)
        for key, value in c.items():
            old = p.get(key)
            if isinstance(old, dict) and isinstance(value, dict):
                out[key] = merge(old, value, (*path, key))
            else:
                if isinstance(old, dict | list):
                    replaced.append((*path, key))
                out[key] = value
        return out

    data = merge(parent.data, child.data, ())
    positions = {p: pos for p, pos in parent.positions.items()
                 if not any(len(p) > len(r) and p[: len(r)] == r for r in replaced)}
    positions.update(child.positions)
    return _Doc(data, positions)


# --------------------------------------------------------------------------------- validation


def _validate(doc: _Doc, overrides: Sequence[str]) -> Scenario:
    """Apply overrides, validate, cross-check. Raises ScenarioError for the first failing stage."""
    apply_overrides(doc.data, doc.positions, overrides)
    found = _collect_uncertainty(doc)
    valid = {path: u.dist for path, u in sorted(found.params.items()) if u.dist is not None}
    problems = list(found.problems)
    try:
        scenario = Scenario.model_validate({**doc.data, UNCERTAINTY: valid})
    except ValidationError as exc:
        problems += _uncertain_problems(
            [_pydantic_problem(err, doc) for err in exc.errors(include_url=False)], found)
        raise ScenarioError(_sorted(_drop_explained_missing(problems))) from None
    problems += _bound_problems(doc, found)
    if not found.problems:  # cross-checks make sense only when every value is what was written
        problems += [located(p.path, p.message, locate(doc.positions, p.path))
                     for p in check_scenario(scenario)]
    if problems:
        raise ScenarioError(_sorted(problems))
    return scenario


# -------------------------------------------------------------------------------- uncertainty


@dataclass
class _Param:
    """An uncertain parameter: its data keys, its distribution (None when invalid, which is
    reported already), where the distribution is written, and whether the field holds ints."""

    keys: Path
    dist: Distribution | None
    pos: Position | None
    integer: bool


@dataclass
class _Uncertainty:
    """Uncertain parameters by dotted path, and the problems found collecting them."""

    params: dict[str, _Param]
    problems: list[Problem]


@dataclass(frozen=True)
class _Place:
    """What is expected at a data path: a scalar (no mapping or list), a number, an int."""

    scalar: bool
    numeric: bool
    integer: bool


_MISSING = object()


def _place(types: list[Any]) -> _Place | None:
    """What ``types`` expect (None when nothing is expected: the path is not in a Scenario)."""
    arms = [a for t in types for a in _arms(t) if a is not type(None)]
    if not arms:
        return None
    container = any(_model_fields(a) or typing.get_origin(a) in (dict, list, tuple)
                    for a in arms)
    return _Place(not container, any(a in (int, float) for a in arms),
                  int in arms and float not in arms)


def _central(dist: Distribution, integer: bool) -> float:
    return round(dist.central()) if integer else dist.central()


def _dist_pos(doc: _Doc, path: Path, value: Any) -> Position | None:
    """Where the distribution ``value`` written at ``path`` is: at its one key, if it has one."""
    if isinstance(value, dict) and len(value) == 1:
        return locate(doc.positions, (*path, next(iter(value))))
    return locate(doc.positions, path)


def _collect_uncertainty(doc: _Doc) -> _Uncertainty:
    """Replace, in ``doc.data``, each distribution written where a number is expected by its
    central value; pop the explicit ``uncertainty`` map; collect both by dotted path."""
    found = _Uncertainty({}, [])

    def inline(value: dict[str, Any], path: Path, place: _Place) -> Any:
        key = ".".join(str(k) for k in path)
        pos = _dist_pos(doc, path, value)
        problems = check_distribution_data(value, "a number or a distribution")
        found.problems += [located(path, msg, locate(doc.positions, (*path, *sub)))
                           for sub, msg in problems]
        dist = None if problems else DISTRIBUTIONS[next(iter(value))].model_validate(value)
        found.params[key] = _Param(path, dist, pos, place.integer)  # type: ignore[arg-type]
        return 0 if dist is None else _central(dist, place.integer)  # type: ignore[arg-type]

    def walk(value: Any, path: Path, types: list[Any]) -> Any:
        if isinstance(value, dict):
            place = _place(types) if path else None
            if place is not None and place.scalar:
                if place.numeric:
                    return inline(value, path, place)
                if is_distribution_data(value):
                    found.problems.append(located(
                        path, f"a {next(iter(value))} distribution is not allowed here: "
                        "only numeric parameters can be uncertain",
                        _dist_pos(doc, path, value)))
                    found.params[".".join(str(k) for k in path)] = _Param(path, None, None, False)
                return value
            for k, v in list(value.items()):
                if path or k != UNCERTAINTY:
                    value[k] = walk(v, (*path, k), _child_types(types, k, value))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                value[i] = walk(v, (*path, i), _child_types(types, i))
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


def _explicit_entry(doc: _Doc, found: _Uncertainty, key: str, spec: Any) -> None:
    """Check one ``uncertainty:`` entry and set its parameter to the central value."""
    epath: Path = (UNCERTAINTY, key)
    pos = _dist_pos(doc, epath, spec)
    problems = check_distribution_data(spec)
    found.problems += [located(epath, msg, locate(doc.positions, (*epath, *sub)))
                       for sub, msg in problems]
    resolved = _resolve_param(doc, key, epath, found)
    if resolved is None or problems:
        return
    keys, integer, current = resolved
    dist: Distribution = DISTRIBUTIONS[next(iter(spec))].model_validate(spec)  # type: ignore
    canonical = ".".join(str(k) for k in keys)
    other = found.params.get(canonical)
    if other is not None:
        if other.dist is not None and other.dist != dist:
            found.problems.append(located(
                epath, f"{dist.describe()} conflicts with the distribution "
                f"{other.dist.describe()} written at {canonical}", pos))
        return
    central = _central(dist, integer)
    if current is _MISSING or current is None:
        cur = doc.data
        for k in keys[:-1]:
            cur = cur.setdefault(k, {}) if isinstance(cur, dict) else cur[k]
        cur[keys[-1]] = central
    elif (isinstance(current, bool) or not isinstance(current, int | float)
          or not math.isclose(current, central, rel_tol=1e-9, abs_tol=1e-12)):
        shown = format_number(current) if isinstance(current, int | float) else repr(current)
        found.problems.append(located(
            keys, f"value {shown} differs from the central value {format_number(central)} of "
            f"its uncertainty entry {dist.describe()}; write the distribution in place of the "
            f"value, or set uncertainty.{canonical} to null", locate(doc.positions, keys)))
        found.params[canonical] = _Param(keys, None, pos, integer)
        return
    found.params[canonical] = _Param(keys, dist, pos, integer)


def _resolve_param(doc: _Doc, key: str, epath: Path,
                   found: _Uncertainty) -> tuple[Path, bool, Any] | None:
    """Data keys of the dotted parameter ``key``, whether it holds ints, and its current value
    (``_MISSING`` for a defaulted field not written); None after reporting an unknown path."""
    cur: Any = doc.data
    types: list[Any] = [Scenario]
    keys: list[str | int] = []

    def fail(msg: str) -> None:
        found.problems.append(located(epath, msg, locate(doc.positions, epath)))

    for seg in key.split("."):
        fields = [n for t in types for a in _arms(t) for n in _model_fields(a)]
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
        types = _child_types(types, k, cur if isinstance(cur, dict) else None)
        keys.append(k)
        if isinstance(cur, dict) and k in cur:
            cur = cur[k]
        elif isinstance(cur, list):
            cur = cur[k]  # type: ignore[index]
        else:
            cur = _MISSING
    place = _place(types)
    if place is None or not (place.scalar and place.numeric):
        what = "" if cur is _MISSING else f" (it is {describe(cur)})"
        fail(f"{key} is not a numeric parameter{what}; only numbers can be uncertain")
        return None
    return tuple(keys), place.integer, cur


def _uncertain_problems(problems: list[Problem], found: _Uncertainty) -> list[Problem]:
    """Pydantic problems with uncertain parameters: those of invalid distributions (reported
    already) are dropped; those of a central value point at its distribution and say so."""
    out = []
    for p in problems:
        param = next((u for u in found.params.values() if p.path[: len(u.keys)] == u.keys), None)
        if param is None or (param.dist is not None and p.path != param.keys):
            out.append(p)
        elif param.dist is not None:
            central = format_number(_central(param.dist, param.integer))
            out.append(located(p.path, f"central value {central} of {param.dist.describe()}: "
                                       f"{p.message}", param.pos))
    return out


def _bound_problems(doc: _Doc, found: _Uncertainty) -> list[Problem]:
    """Validate ``doc.data`` with each uncertain parameter, one at a time, at its lower and at
    its upper bound: a draw must satisfy the field's constraints too."""
    data = doc.data
    invalid = [u.keys for u in found.params.values() if u.dist is None]
    problems: list[Problem] = []
    for _, param in sorted(found.params.items()):
        dist = param.dist
        if dist is None:
            continue
        keys = param.keys
        parent: Any = data
        for k in keys[:-1]:
            parent = parent[k]
        central = parent[keys[-1]]
        for label, bound in zip(("lower", "upper"), dist.bounds(), strict=True):
            value = round(bound) if param.integer else bound
            if value == central:
                continue
            note = ""
            if isinstance(dist, Normal):
                note = " (mean - 4 sd)" if label == "lower" else " (mean + 4 sd)"
            parent[keys[-1]] = value
            try:
                Scenario.model_validate(data)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    path, _ = _clean_loc(tuple(err["loc"]), data, err["type"] == "missing")
                    if any(path[: len(k)] == k for k in invalid):
                        continue  # a placeholder for an invalid distribution, reported already
                    problems.append(located(keys, f"{label} bound {format_number(value)}{note}"
                                            f" of {dist.describe()}: {err['msg']}", param.pos))
            finally:
                parent[keys[-1]] = central
    return problems


def _drop_explained_missing(problems: list[Problem]) -> list[Problem]:
    """Drop "missing required key 'k'" when a misspelt sibling already says "did you mean 'k'"."""
    hints = {(*p.path[:-1], m.group(1)) for p in problems
             if (m := re.match(r"unknown key .* \(did you mean '([^']+)'\?\)$", p.message))}
    return [p for p in problems
            if not (p.message.startswith("missing required key") and p.path in hints)]


def _sorted(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file, p.line, p.col))


def _clean_loc(loc: tuple[int | str, ...], data: Any, missing: bool) -> tuple[Path, bool]:
    """Drop pydantic's union tags and ``[key]`` markers by following ``loc`` through ``data``.

    Returns the data path and whether the error is about a mapping key.
    """
    path: list[str | int] = []
    cur = data
    is_key = False
    for i, part in enumerate(loc):
        if part == "[key]":
            is_key = True
        elif (isinstance(cur, dict) and part in cur) or (
            isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)
        ):
            path.append(part)
            cur = cur[part]
        elif missing and i == len(loc) - 1:
            path.append(part)
    return tuple(path), is_key


def _pydantic_problem(err: Any, doc: _Doc) -> Problem:
    """A readable, located Problem for one pydantic error."""
    kind = err["type"]
    path, is_key = _clean_loc(tuple(err["loc"]), doc.data, kind == "missing")
    msg = str(err["msg"])
    if kind == "extra_forbidden":
        msg = f"unknown key {path[-1]!r}{did_you_mean(str(path[-1]), _field_names(path[:-1]))}"
    elif kind == "missing":
        msg = f"missing required key {path[-1]!r}"
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        msg = f"expected a mapping, not {describe(err.get('input'))}"
    elif kind == "list_type":
        msg = f"expected a list, not {describe(err.get('input'))}"
    elif kind in ("value_error", "assertion_error"):
        msg = msg.split(", ", 1)[-1]
    if is_key and path:
        msg = f"invalid key {path[-1]!r}: {msg}"
    return located(path, msg, locate(doc.positions, path))


def _arms(tp: Any) -> list[Any]:
    """The alternatives of a (possibly Annotated / Optional / Union) type."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [a for arg in typing.get_args(tp) for a in _arms(arg)]
    return [tp]


def _model_fields(tp: Any) -> dict[str, Any]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return {f.alias or name: f.annotation for name, f in tp.model_fields.items()}
    return {}


def _child_types(types: list[Any], part: str | int, value: Any = None) -> list[Any]:
    """Types expected at key ``part`` of a value of one of ``types`` (``value``, when given,
    picks the arms of a union discriminated by ``type``)."""
    arms = [a for t in types for a in _arms(t)]
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        tagged = [a for a in arms if "type" in _model_fields(a)]
        matching = [a for a in tagged if value["type"] in typing.get_args(_model_fields(a)["type"])]
        if matching:
            arms = [a for a in arms if a not in tagged or a in matching]
    nxt: list[Any] = []
    for tp in arms:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if _model_fields(tp):
            nxt += [v for k, v in _model_fields(tp).items() if k == part]
        elif origin is dict and len(args) == 2:
            nxt.append(args[1])
        elif origin is list and args:
            nxt.append(args[0])
    return nxt


def _types_at(path: Path) -> list[Any]:
    """Types expected at data ``path`` in a Scenario (empty when the path is not part of it)."""
    current: list[Any] = [Scenario]
    for part in path:
        current = _child_types(current, part)
    return current


def _field_names(path: Path) -> list[str]:
    """Field names of the model(s) found at data ``path`` in a Scenario (for did-you-mean)."""
    return [name for t in _types_at(path) for a in _arms(t) for name in _model_fields(a)]
