"""A scenario's parameters as the workbench shows them, and a tweak of them.

A tweak is an ordered set of ``--set`` overrides (``key.path=value``, the value YAML text,
parsed by the scenario loader exactly as on the command line) on a parent scenario file. It is
validated by the loader (located problems, never a traceback) and saved as a scenario file that
``extends`` the parent and holds only the changed values. Nothing here executes scenario text:
values are YAML data read by the loader's safe YAML 1.2 parser.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from ..scenario import ScenarioError, load_scenario, resolve_scenario_data, scenario_sha256
from ..scenario.distributions import DISTRIBUTIONS
from ..scenario.errors import Problem

__all__ = [
    "Param",
    "Tweak",
    "catalogue",
    "describe_value",
    "format_value",
    "key_paths",
    "tweak_yaml",
]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Param:
    """One scalar parameter of a scenario: its ``--set`` path, kind and value as written."""

    path: str
    kind: str  # "number", "distribution" or "date"
    value: Any

    @property
    def text(self) -> str:
        """The value as ``--set`` YAML text (what the input box shows)."""
        return format_value(self.value)

    @property
    def shown(self) -> str:
        """The value for people: ``triangular(0.2, 0.4, 0.6)``, ``3,656``, ``2026-10-30``."""
        return describe_value(self.value)


def _is_distribution(value: Any) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in DISTRIBUTIONS


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return "number"
    if _is_distribution(value):
        return "distribution"
    if isinstance(value, dt.date) or (isinstance(value, str) and _DATE.match(value)):
        return "date"
    return None


def _flow(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


def format_value(value: Any) -> str:
    """A value as YAML flow text that ``--set`` reads back as the same value."""
    return _flow(value)


def describe_value(value: Any) -> str:
    """A value for display: distributions as ``name(a, b, c)``, numbers with separators."""
    if _is_distribution(value):
        name, args = next(iter(value.items()))
        inner = ", ".join(describe_value(a) for a in args) if isinstance(args, list) \
            else _flow(args)
        return f"{name}({inner})"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) >= 1000 else f"{value:.6g}"
    return _flow(value)


def _walk(data: Any, prefix: tuple[str, ...]) -> Iterator[Param]:
    if not isinstance(data, Mapping):
        return
    for key, value in data.items():
        path = (*prefix, str(key))
        kind = _kind(value)
        if kind is not None:
            yield Param(".".join(path), kind, value)
        elif isinstance(value, Mapping):
            yield from _walk(value, path)


def catalogue(data: Mapping[str, Any]) -> dict[str, Param]:
    """Every number, distribution and date of resolved scenario ``data``
    (:func:`~simulator.scenario.resolve_scenario_data`), by ``--set`` path, in file order."""
    return {p.path: p for p in _walk(data, ()) if not p.path.startswith("uncertainty.")}


#: Parameters shown without being asked for: the horizon, every event's numbers and dates,
#: the strategic stockpiles' sizes and release rates.
_KEY_LEAVES = ("holdings_days", "holdings_t", "max_release_tpy", "threshold")


def key_paths(params: Mapping[str, Param], limit: int = 40) -> list[str]:
    """The parameters the workbench lists by default (any other one can be added): the
    horizon, then the events' numbers and dates, then the stockpiles' sizes and releases."""
    out = [p for p in ("end_date",) if p in params]
    out += [p for p in params if p.startswith("events.")]
    out += [p for p in params if p.startswith("stockpiles.")
            and p.rsplit(".", 1)[-1] in _KEY_LEAVES]
    return out[:limit]


@dataclass
class Tweak:
    """Changed values (``--set`` path -> YAML text) on a parent scenario file, in order."""

    parent: Path
    values: dict[str, str] = field(default_factory=dict)
    name: str = ""

    def overrides(self) -> list[str]:
        """The ``--set`` strings, the new name first (if any)."""
        out = [f"name={self.name.strip()}"] if self.name.strip() else []
        return out + [f"{path}={text.strip()}" for path, text in self.values.items()]

    def problems(self) -> list[Problem]:
        """Problems the loader would not locate well: empty or ``null`` values."""
        out = []
        for i, (path, text) in enumerate(self.values.items(), start=1 + bool(self.name.strip())):
            if text.strip() in ("", "~", "null", "Null", "NULL"):
                out.append(Problem(tuple(path.split(".")), "give a value (null would remove "
                                   "the key in a saved scenario file)", "<--set>", i, 1))
        return out

    def check(self) -> Any:
        """Load the parent with the overrides: the validated Scenario, or ScenarioError with
        every located problem (``<--set>:N:col`` for the N-th override)."""
        problems = self.problems()
        if problems:
            raise ScenarioError(problems)
        return load_scenario(self.parent, overrides=self.overrides())


def _nest(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in pairs:
        cur = out
        *head, last = path.split(".")
        for seg in head:
            nxt = cur.get(seg)
            if not isinstance(nxt, dict):
                nxt = cur[seg] = {}
            cur = nxt
        cur[last] = value
    return out


def _get(data: Mapping[str, Any], path: str) -> Any:
    cur: Any = data
    for seg in path.split("."):
        cur = cur[seg]
    return cur


def _dated(value: Any) -> Any:
    if isinstance(value, str) and _DATE.match(value):
        return dt.date.fromisoformat(value)
    if isinstance(value, dict):
        return {k: _dated(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dated(v) for v in value]
    return value


def tweak_yaml(tweak: Tweak, target: Path, header: str = "") -> str:
    """The tweak as a scenario file saved at ``target``: ``extends`` (relative to it), then
    the new name and the changed values as the loader resolved them."""
    tweak.check()
    data = resolve_scenario_data(tweak.parent, tweak.overrides())
    paths = (["name"] if tweak.name.strip() else []) + list(tweak.values)
    parent = tweak.parent.resolve()
    rel = Path(os.path.relpath(parent, target.resolve().parent))
    body = {"extends": (rel if rel.parts.count("..") < 3 else parent).as_posix(),
            **_nest([(p, _dated(_get(data, p))) for p in paths])}
    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = None
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(body, out)
    lines = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return lines + out.getvalue()


def save_tweak(tweak: Tweak, target: Path, header: str = "", *,
               overwrite: bool = False) -> Path:
    """Write :func:`tweak_yaml` to ``target`` and check that it loads back to the scenario the
    overrides give (same SHA-256); raise ``FileExistsError`` unless ``overwrite``."""
    expected = scenario_sha256(tweak.check())
    text = tweak_yaml(tweak, target, header)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; choose another file name")
    from ..atomic import atomic_write

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")
        if scenario_sha256(load_scenario(tmp)) != expected:
            raise ValueError(f"the saved tweak would not reproduce the run: {target}")

    return atomic_write(target, write)
