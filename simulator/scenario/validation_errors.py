"""Translate pydantic validation errors into readable, located scenario problems."""

from __future__ import annotations

import re
from typing import Any

from .base import SAFETY_LIMITS
from .distributions import format_number
from .document import Doc, field_names
from .errors import Path, Problem, did_you_mean
from .overrides import describe
from .positions import locate, located


def drop_explained_missing(problems: list[Problem]) -> list[Problem]:
    """Drop "missing required key 'k'" when a misspelt sibling already says "did you mean 'k'"."""
    hints = {(*p.path[:-1], m.group(1)) for p in problems
             if (m := re.match(r"unknown key .* \(did you mean '([^']+)'\?\)$", p.message))}
    return [p for p in problems
            if not (p.message.startswith("missing required key") and p.path in hints)]


def sorted_problems(problems: list[Problem]) -> list[Problem]:
    """``problems`` without duplicates, in file order (file, line, column)."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file, p.line, p.col))


def clean_loc(loc: tuple[int | str, ...], data: Any, missing: bool) -> tuple[Path, bool]:
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


def constraint_message(err: Any) -> str:
    """pydantic's message for ``err``, saying which safety limit a value is beyond, if any."""
    ctx = err.get("ctx") or {}
    for kind, key, word in (("less_than_equal", "le", "above"),
                            ("greater_than_equal", "ge", "below")):
        note = SAFETY_LIMITS.get(float(ctx[key])) if err["type"] == kind else None
        if note and isinstance(err.get("input"), int | float):
            return f"{format_number(err['input'])} is {word} {note}"
    return str(err["msg"])


def pydantic_problem(err: Any, doc: Doc) -> Problem:
    """A readable, located Problem for one pydantic error."""
    kind = err["type"]
    path, is_key = clean_loc(tuple(err["loc"]), doc.data, kind == "missing")
    msg = constraint_message(err)
    if kind == "extra_forbidden":
        msg = f"unknown key {path[-1]!r}{did_you_mean(str(path[-1]), field_names(path[:-1]))}"
    elif kind == "missing":
        msg = f"missing required key {path[-1]!r}"
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        msg = f"expected a mapping, not {describe(err.get('input'))}"
    elif kind == "list_type":
        msg = f"expected a list, not {describe(err.get('input'))}"
    elif kind in ("value_error", "assertion_error"):
        msg = msg.split(", ", 1)[-1]
    elif kind == "union_tag_invalid":
        ctx = err.get("ctx") or {}
        tag, field = str(ctx.get("tag", "")), str(ctx.get("discriminator", "")).strip("'")
        expected = re.findall(r"'([^']+)'", str(ctx.get("expected_tags", "")))
        path = (*path, field) if field else path
        msg = f"unknown {field or 'type'} {tag!r}{did_you_mean(tag, expected)}; expected one " \
              f"of {', '.join(expected)}"
    elif kind == "union_tag_not_found":
        field = str((err.get("ctx") or {}).get("discriminator", "type")).strip("'")
        msg = f"missing required key {field!r}"
    if is_key and path:
        msg = f"invalid key {path[-1]!r}: {msg}"
    return located(path, msg, locate(doc.positions, path))
