"""A scenario document (plain data plus key positions) and the model types expected at its paths.

The type navigation follows a data path through :class:`Scenario`'s annotations (unions,
``Optional``, ``Annotated``, dicts, lists and submodels) so that callers can tell what a key may
hold without validating: used to place distributions and to suggest misspelt field names.
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from .errors import Path
from .models import Scenario
from .positions import Positions


@dataclass
class Doc:
    """Plain data of a (merged) scenario document and where each key path was defined."""

    data: dict[str, Any]
    positions: Positions


_ARMS: dict[int, tuple[Any, list[Any]]] = {}
"""union_arms by id of the type: the annotations of the scenario models, a finite set."""


def union_arms(tp: Any) -> list[Any]:
    """The alternatives of a (possibly Annotated / Optional / Union) type (do not modify)."""
    cached = _ARMS.get(id(tp))
    if cached is not None and cached[0] is tp:
        return cached[1]
    inner = tp
    while typing.get_origin(inner) is typing.Annotated:
        inner = typing.get_args(inner)[0]
    arms = [inner]
    if typing.get_origin(inner) in (typing.Union, types.UnionType):
        arms = [a for arg in typing.get_args(inner) for a in union_arms(arg)]
    _ARMS[id(tp)] = (tp, arms)  # keeps tp alive, so its id is not reused
    return arms


@functools.cache
def _fields_of(model: type[BaseModel]) -> dict[str, Any]:
    return {f.alias or name: f.annotation for name, f in model.model_fields.items()}


def model_fields(tp: Any) -> dict[str, Any]:
    """Field annotations of ``tp`` by alias (or name) when it is a pydantic model, else empty
    (do not modify)."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _fields_of(tp)
    return {}


def child_types(types: list[Any], part: str | int, value: Any = None) -> list[Any]:
    """Types expected at key ``part`` of a value of one of ``types`` (``value``, when given,
    picks the arms of a union discriminated by ``type``)."""
    arms = [a for t in types for a in union_arms(t)]
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        tagged = [a for a in arms if "type" in model_fields(a)]
        matching = [a for a in tagged if value["type"] in typing.get_args(model_fields(a)["type"])]
        if matching:
            arms = [a for a in arms if a not in tagged or a in matching]
    nxt: list[Any] = []
    for tp in arms:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if model_fields(tp):
            nxt += [v for k, v in model_fields(tp).items() if k == part]
        elif origin is dict and len(args) == 2:
            nxt.append(args[1])
        elif origin is list and args:
            nxt.append(args[0])
    return nxt


def _types_at(path: Path) -> list[Any]:
    """Types expected at data ``path`` in a Scenario (empty when the path is not part of it)."""
    current: list[Any] = [Scenario]
    for part in path:
        current = child_types(current, part)
    return current


def field_names(path: Path) -> list[str]:
    """Field names of the model(s) found at data ``path`` in a Scenario (for did-you-mean)."""
    return [name for t in _types_at(path) for a in union_arms(t) for name in model_fields(a)]

