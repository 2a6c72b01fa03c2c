"""``--set key.path=value`` overrides applied to resolved scenario data.

The value is parsed as a YAML 1.2 scalar or flow value (``0.8``, ``2026-01-01``, ``[a, b]``,
``{x: 1}``); text that YAML reads as a block mapping or sequence (``Risk: high``) is kept as
the string it was written as. Missing maps along the path are created; a path through a value
that is not a mapping is an error. Positions of overrides read ``<--set>:N:col`` where N counts
the overrides from 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .errors import Path, Problem, ScenarioError, format_path
from .positions import Position, Positions, load_yaml, to_plain

SET_FILE = "<--set>"


def describe(value: Any) -> str:
    """A YAML-ish name for a value's type: ``a mapping``, ``a list``, ``a string``..."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    return "a string" if isinstance(value, str) else f"a {type(value).__name__}"


def apply_overrides(data: dict[str, Any], positions: Positions, overrides: Sequence[str]) -> None:
    """Apply overrides in order to ``data`` and ``positions`` in place.

    Raises ScenarioError listing every malformed override, bad path and unparsable value.
    """
    problems: list[Problem] = []
    for line, text in enumerate(overrides, start=1):
        try:
            _apply_one(data, positions, text, line)
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)


def _fail(path: Path, message: str, line: int, col: int) -> ScenarioError:
    return ScenarioError([Problem(path, message, SET_FILE, line, col)])


def _apply_one(data: dict[str, Any], positions: Positions, text: str, line: int) -> None:
    key, eq, raw = text.partition("=")
    if not eq:
        raise _fail((), f"malformed override {text!r}: expected key.path=value", line, 1)
    lead = len(key) - len(key.lstrip())
    segments = key.strip().split(".")
    cols: list[int] = []
    col = lead + 1
    for seg in segments:
        cols.append(col)
        col += len(seg) + 1
    for i, seg in enumerate(segments):
        if not seg:
            raise _fail(tuple(segments[:i]), f"empty key in override path {key.strip()!r}",
                        line, cols[i])
    path: Path = tuple(segments)

    # Check the whole path before changing anything.
    cur: Any = data
    for i, seg in enumerate(segments[:-1]):
        cur = cur.get(seg) if isinstance(cur, dict) else None
        if cur is None:
            break
        if not isinstance(cur, dict):
            raise _fail(path[: i + 2], f"cannot set {segments[i + 1]!r}: "
                        f"{format_path(path[: i + 1])} is {describe(cur)}, not a mapping",
                        line, cols[i + 1])

    value_col = len(key) + 1  # 0-based column just after '='

    def mkpos(ln: int, c: int) -> Position:
        return (SET_FILE, line, value_col + c + 1) if ln == 0 else (SET_FILE, line, c + 1)

    try:
        doc = load_yaml(raw, SET_FILE, mkpos)
    except ScenarioError as exc:  # paths of value problems are relative to the value
        raise ScenarioError([replace(p, path=path + p.path) for p in exc.problems]) from None
    # ``[]`` and ``{}`` carry no flow style in ruamel, but only flow style can be empty
    if isinstance(doc, CommentedMap | CommentedSeq) and doc and not doc.fa.flow_style():
        value: Any = raw.strip()
        new_positions: Positions = {path: mkpos(0, len(raw) - len(raw.lstrip()))}
    else:
        value, new_positions = to_plain(doc, mkpos, root=path)

    cur = data
    for i, seg in enumerate(segments[:-1]):
        if seg not in cur or cur[seg] is None:
            cur[seg] = {}
            positions[path[: i + 1]] = (SET_FILE, line, cols[i])
        cur = cur[seg]
    cur[segments[-1]] = value
    n = len(path)
    for old in [p for p in positions if len(p) > n and p[:n] == path]:
        del positions[old]
    positions.update(new_positions)
