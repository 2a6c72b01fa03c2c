"""Load scenario files: YAML 1.2, ``extends`` chains, ``--set`` overrides, located errors.

Pipeline: read and parse each file of the ``extends`` chain (parent first) into plain data plus a
map from key paths to ``(file, line, col)``; deep-merge child onto parent (maps merge, lists and
scalars replace; the child's positions win); apply overrides; validate with pydantic; then run
:func:`check_scenario`. Each stage reports all of its problems at once in one ``ScenarioError``,
every problem located in the file (or ``<--set>`` override) that defined the offending key.
"""

from __future__ import annotations

import hashlib
import io
import json
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
from .errors import Path, Problem, ScenarioError, ScenarioFileNotFound, did_you_mean
from .models import Scenario
from .overrides import apply_overrides, describe
from .positions import Position, Positions, file_pos, load_yaml, locate, located, to_plain

StrPath = str | os.PathLike[str]
EXTENDS = "extends"
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
    yaml.dump(scenario.model_dump(mode="json", exclude_defaults=False), out)
    return out.getvalue()


def scenario_sha256(scenario: Scenario) -> str:
    """Hex SHA-256 of the scenario's canonical JSON (sorted keys); equal scenarios hash equal."""
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a scenario file, ``extends`` included, for editors."""
    schema = Scenario.model_json_schema()
    schema["properties"] = {
        EXTENDS: {"type": "string", "title": "Extends",
                  "description": "Parent scenario file (relative to this one) that this file "
                                 "deep-merges onto: maps merge, lists and scalars replace."},
        **schema.get("properties", {}),
    }
    return {"$schema": JSON_SCHEMA_DIALECT, **schema, "title": "critmin scenario"}


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
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as exc:
        problems = [_pydantic_problem(err, doc) for err in exc.errors(include_url=False)]
        raise ScenarioError(_sorted(_drop_explained_missing(problems))) from None
    problems = [located(p.path, p.message, locate(doc.positions, p.path))
                for p in check_scenario(scenario)]
    if problems:
        raise ScenarioError(_sorted(problems))
    return scenario


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


def _field_names(path: Path) -> list[str]:
    """Field names of the model(s) found at data ``path`` in a Scenario (for did-you-mean)."""
    current: list[Any] = [Scenario]
    for part in path:
        nxt: list[Any] = []
        for tp in (a for t in current for a in _arms(t)):
            origin, args = typing.get_origin(tp), typing.get_args(tp)
            if _model_fields(tp):
                nxt += [v for k, v in _model_fields(tp).items() if k == part]
            elif origin is dict and len(args) == 2:
                nxt.append(args[1])
            elif origin is list and args:
                nxt.append(args[0])
        current = nxt
    return [name for t in current for a in _arms(t) for name in _model_fields(a)]
