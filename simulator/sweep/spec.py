"""Sweep specifications: a ``sweep:`` YAML file or ``--param`` options, with located errors.

A sweep names a base scenario, the parameters to vary (dotted scenario paths, as ``--set``
takes) with their values or ranges, a design, replications and a seed. Problems are reported
like the rest of the language, ``file:line:col: key.path: message`` (a
:class:`~simulator.scenario.errors.ScenarioError`, exit code 65; 66 for a missing file).
Paths are checked against the base scenario in :mod:`simulator.sweep.points`.

Value syntax (a string in the file, or after ``=`` in ``--param PATH=VALUES``):

- ``start:stop:step``: ``start, start+step, ...`` up to and including ``stop``; also the bounds
  ``[start, stop]`` for sampling designs;
- ``low:high``: bounds only (``lhs``, ``oat``, ``morris``, ``sobol``);
- ``a,b,c``: these values (each read as YAML, e.g. ``0.5`` or ``2026-01-01``);
- a single value.

In a file a parameter may also be a list (values) or a mapping ``{values: [...]}``,
``{low: L, high: H}``, ``{low: L, high: H, step: S}``, with an optional ``base`` (the
``oat`` centre; default: the base scenario's value).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from ..analysis.long_kpis import KPIS
from ..scenario.base import ID_MAX_LENGTH, ID_PATTERN
from ..scenario.errors import Path, Problem, ScenarioError, ScenarioFileNotFound, did_you_mean
from ..scenario.files import InputError, read_input
from ..scenario.overrides import describe
from ..scenario.positions import Position, file_pos, load_yaml, locate, located, to_plain

__all__ = [
    "DESIGNS",
    "KPIS",
    "PARAM_FILE",
    "Output",
    "ParamSpec",
    "SweepSpec",
    "is_sweep_file",
    "load_sweep",
    "parse_param_option",
]

#: Designs: full grid, Latin hypercube, one-at-a-time, Morris screening, Sobol indices.
DESIGNS = ("grid", "lhs", "oat", "morris", "sobol")
PARAM_FILE = "<--param>"
_SWEEP_KEYS = ("name", "scenario", "design", "replications", "seed", "samples", "levels",
               "set", "params", "output")
_PARAM_KEYS = ("values", "low", "high", "step", "base")


@dataclass(frozen=True)
class ParamSpec:
    """One swept parameter: dotted ``path``; discrete ``values`` and/or continuous bounds
    ``low``..``high``; an optional ``base`` for ``oat``; where its values (``pos``) and, on
    the command line, its path (``path_pos``) were written; ``key`` is the key path its
    problems are reported under."""

    path: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    base: Any = None
    pos: Position | None = None
    key: Path = ()
    path_pos: Position | None = None

    def __post_init__(self) -> None:
        if not self.key:  # built in Python: report problems under the parameter's path
            object.__setattr__(self, "key", (self.path,))

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    @property
    def bounded(self) -> bool:
        return self.low is not None and self.high is not None


@dataclass(frozen=True)
class Output:
    """The KPI that figures and sensitivity indices are about: ``kpi`` of demand sector
    ``demand`` (a ``demand_id``, or ``all`` for the whole scenario)."""

    kpi: str = "cumulative_shortfall_t"
    demand: str = "all"
    pos: Position | None = None


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep: base ``scenario`` file, parameters, design and run settings."""

    name: str
    scenario: FsPath
    params: tuple[ParamSpec, ...]
    design: str = "grid"
    replications: int = 1
    seed: int = 0
    samples: int | None = None
    levels: int = 4
    overrides: tuple[str, ...] = ()
    output: Output = field(default_factory=Output)
    source: str | None = None
    disruption: str | None = None
    """Event the time to survive counts from (``--disruption``; default: per sector)."""
    positions: dict[Path, Position] = field(default_factory=dict, compare=False, repr=False)

    def where(self, *key: str | int) -> Position | None:
        """Where ``sweep.<key>`` was written (nearest ancestor), or None."""
        return locate(self.positions, ("sweep", *key)) if self.positions else None

    def record(self) -> dict[str, Any]:
        """JSON-able description for ``sweep.json``."""
        return {
            "name": self.name, "scenario": os.fspath(self.scenario), "design": self.design,
            "replications": self.replications, "seed": self.seed, "samples": self.samples,
            "levels": self.levels, "set": list(self.overrides),
            "output": {"kpi": self.output.kpi, "demand": self.output.demand},
            "disruption": self.disruption,
            "params": {p.path: {k: v for k, v in (
                ("values", list(p.values) if p.values is not None else None),
                ("low", p.low), ("high", p.high), ("base", p.base)) if v is not None}
                for p in self.params},
        }


# ------------------------------------------------------------------------------- value syntax

def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _yaml_scalar(text: str) -> Any:
    """``text`` read as a YAML 1.2 scalar (``0.5`` -> 0.5, ``true`` -> True, else a string)."""
    num = _number(text.strip())
    if num is not None:
        return num
    try:
        plain, _ = to_plain(load_yaml(text, "<value>", file_pos("<value>")), file_pos("<value>"))
    except ScenarioError:
        return text.strip()
    return plain if not isinstance(plain, dict | list) else text.strip()


def range_values(start: float, stop: float, step: float) -> list[float]:
    """``start, start+step, ...`` up to ``stop`` inclusive (to a rounding tolerance); ints when
    all three are ints. Raises ValueError for a step <= 0 or an empty range."""
    if step <= 0:
        raise ValueError(f"step must be > 0, not {step:g}")
    if stop < start:
        raise ValueError(f"range {start:g}:{stop:g}:{step:g} has no values (stop < start)")
    n = math.floor((stop - start) / step + 1e-9) + 1
    if n > 100_000:
        raise ValueError(f"range {start:g}:{stop:g}:{step:g} has {n} values (at most 100000)")
    ints = all(isinstance(x, int) for x in (start, stop, step))
    return [start + i * step if ints else round(start + i * step, 12) for i in range(n)]


def parse_values(text: str) -> dict[str, Any]:
    """Parse the value syntax into ParamSpec fields (``values``, ``low``, ``high``).

    Raises ValueError with a message for malformed ranges and empty ranges."""
    text = text.strip()
    if not text:
        raise ValueError("no values: expected start:stop:step, low:high or a,b,c")
    if ":" in text and "," not in text:
        parts = text.split(":")
        nums = [_number(p) for p in parts]
        if len(parts) not in (2, 3) or any(n is None for n in nums):
            raise ValueError(f"malformed range {text!r}: expected start:stop:step or low:high "
                             "with numbers")
        if len(parts) == 2:
            low, high = nums
            if high < low:  # type: ignore[operator]
                raise ValueError(f"range {text} is empty: high {high} < low {low}")
            return {"low": low, "high": high}
        start, stop, step = nums
        return {"values": tuple(range_values(start, stop, step)),  # type: ignore[arg-type]
                "low": start, "high": stop}
    return {"values": tuple(_yaml_scalar(v) for v in text.split(","))}


def parse_param_option(text: str, index: int) -> ParamSpec:
    """One ``--param PATH=VALUES`` option (``index`` counts options from 1).

    Raises ScenarioError located at ``<--param>:index:col``."""
    key, eq, raw = text.partition("=")
    path = key.strip()
    if not eq or not path:
        raise ScenarioError([Problem((), f"malformed --param {text!r}: expected "
                                     "key.path=VALUES (start:stop:step, low:high or a,b,c)",
                                     PARAM_FILE, index, 1)])
    if any(not seg for seg in path.split(".")):
        raise ScenarioError([Problem((path,), f"empty key in parameter path {path!r}",
                                     PARAM_FILE, index, 1)])
    col = len(key) + 2
    try:
        fields = parse_values(raw)
    except ValueError as exc:
        raise ScenarioError([Problem((path,), str(exc), PARAM_FILE, index, col)]) from None
    lead = len(key) - len(key.lstrip())
    return ParamSpec(path, pos=(PARAM_FILE, index, col), key=(path,),
                     path_pos=(PARAM_FILE, index, lead + 1), **fields)


# --------------------------------------------------------------------------------- sweep files

def is_sweep_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a sweep file (a YAML mapping with a top-level ``sweep`` key). A file
    that cannot be read or parsed is not one (the scenario loader reports it)."""
    try:
        text = read_input(path).decode("utf-8-sig")
    except (InputError, UnicodeDecodeError):
        return False
    if "sweep" not in text:
        return False
    try:
        data = load_yaml(text, os.fspath(path), file_pos(os.fspath(path)))
    except ScenarioError:
        return False
    return isinstance(data, dict) and "sweep" in data


def load_sweep(path: str | os.PathLike[str]) -> SweepSpec:
    """Read a sweep file. Raises ScenarioFileNotFound when it is missing, ScenarioError
    (every problem, located) when it is malformed. The base scenario path is relative to the
    sweep file and is not loaded here."""
    display = os.fspath(path)
    try:
        text = read_input(path).decode("utf-8-sig")
    except InputError as exc:
        if exc.missing:
            raise ScenarioFileNotFound([Problem((), "no such file", display)]) from None
        raise ScenarioError([Problem((), f"cannot read: {exc}", display)]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem((), "cannot read: not UTF-8 text: "
                                     f"{exc.reason}", display)]) from None
    mkpos = file_pos(display)
    data, positions = to_plain(load_yaml(text, display, mkpos), mkpos)
    problems: list[Problem] = []

    def bad(key: Path, message: str) -> None:
        problems.append(located(key, message, locate(positions, key)))

    if not isinstance(data, dict) or not isinstance(data.get("sweep"), dict):
        raise ScenarioError([located(("sweep",), "expected a top-level mapping 'sweep:'",
                                     locate(positions, ("sweep",)))])
    for k in data:
        if k != "sweep":
            bad((k,), f"unknown key {k!r} next to sweep")
    sw: dict[str, Any] = data["sweep"]
    for k in sw:
        if k not in _SWEEP_KEYS:
            bad(("sweep", k), f"unknown key {k!r}{did_you_mean(str(k), _SWEEP_KEYS)}")

    def get_int(key: str, default: int | None, low: int) -> int | None:
        v = sw.get(key, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            bad(("sweep", key), f"expected an integer >= {low}, not {v!r}")
            return default
        return v

    scenario = sw.get("scenario")
    if not isinstance(scenario, str) or not scenario.strip():
        bad(("sweep", "scenario"), "missing required key 'scenario' (the base scenario file, "
            "relative to this file)" if scenario is None else
            f"scenario must name a file, not {describe(scenario)}")
        scenario = ""
    base_path = FsPath(os.path.normpath(os.path.join(os.path.dirname(display), scenario)))
    design = sw.get("design", "grid")
    if design not in DESIGNS:
        bad(("sweep", "design"), f"unknown design {design!r}{did_you_mean(str(design), DESIGNS)}"
            f"; expected one of {', '.join(DESIGNS)}")
    overrides = _overrides(sw.get("set"), positions, bad)
    params = _file_params(sw.get("params"), positions, bad, problems)
    out = sw.get("output") or {}
    output = Output()
    if not isinstance(out, dict) or set(out) - {"kpi", "demand"}:
        bad(("sweep", "output"), "expected a mapping with keys kpi and demand")
    else:
        output = Output(str(out.get("kpi", output.kpi)), str(out.get("demand", output.demand)),
                        locate(positions, ("sweep", "output")))
    spec = SweepSpec(
        name=_sweep_name(sw.get("name"), display, bad), scenario=base_path,
        params=tuple(params), design=str(design),
        replications=get_int("replications", 1, 1) or 1, seed=get_int("seed", 0, 0) or 0,
        samples=get_int("samples", None, 1), levels=get_int("levels", 4, 2) or 4,
        overrides=tuple(overrides), output=output, source=display, positions=positions)
    problems += check_spec(spec)
    if problems:
        raise ScenarioError(sorted(dict.fromkeys(problems), key=lambda p: (p.line, p.col)))
    return spec


def _sweep_name(value: Any, display: str, bad: Any) -> str:
    """``sweep.name`` (default: the file name), checked like a scenario name: it names the
    folder ``results/sweeps/<name>``, so it must not be a path."""
    rule = (f"a name starts with a letter or _ and has only letters, digits, _ and - (at most "
            f"{ID_MAX_LENGTH} characters): it names the folder results/sweeps/<name>")
    if value is None:
        stem = FsPath(display).stem
        if not _valid_name(stem):
            bad(("sweep",), f"the file name gives the sweep name {stem!r}, which is not valid "
                f"({rule}); set sweep.name")
        return stem
    if not isinstance(value, str) or not _valid_name(value):
        shown = repr(value) if isinstance(value, str) else describe(value)
        bad(("sweep", "name"), f"invalid sweep name {shown}: {rule}")
    return str(value)


def _valid_name(name: str) -> bool:
    return len(name) <= ID_MAX_LENGTH and re.fullmatch(ID_PATTERN, name) is not None


def _overrides(value: Any, positions: dict[Path, Position], bad: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, dict):
        bad(("sweep", "set"), f"expected a mapping of key.path: value, not {describe(value)}")
        return []
    import json

    return [f"{k}={json.dumps(v)}" for k, v in value.items()]


def _file_params(value: Any, positions: dict[Path, Position], bad: Any,
                 problems: list[Problem]) -> list[ParamSpec]:
    if not isinstance(value, dict) or not value:
        bad(("sweep", "params"), "missing required key 'params' (a mapping of scenario paths "
            "to values)" if value is None else "params must be a non-empty mapping of "
            "scenario paths to values")
        return []
    out = []
    for path, spec in value.items():
        key: Path = ("sweep", "params", str(path))
        pos = locate(positions, key)
        try:
            fields = _param_fields(spec)
        except ValueError as exc:
            bad(key, str(exc))
            continue
        out.append(ParamSpec(str(path), pos=pos, key=key, **fields))
    return out


def _param_fields(spec: Any) -> dict[str, Any]:
    if isinstance(spec, str):
        return parse_values(spec)
    if isinstance(spec, list):
        if not spec:
            raise ValueError("an empty list has no values")
        return {"values": tuple(spec)}
    if isinstance(spec, bool | int | float):
        return {"values": (spec,)}
    if not isinstance(spec, dict):
        raise ValueError(f"expected values, a range or a mapping, not {describe(spec)}")
    extra = [k for k in spec if k not in _PARAM_KEYS]
    if extra:
        raise ValueError(f"unknown key {extra[0]!r}{did_you_mean(str(extra[0]), _PARAM_KEYS)}")
    fields: dict[str, Any] = {"base": spec.get("base")}
    if "values" in spec:
        if not isinstance(spec["values"], list) or not spec["values"]:
            raise ValueError("values must be a non-empty list")
        fields["values"] = tuple(spec["values"])
    low, high, step = spec.get("low"), spec.get("high"), spec.get("step")
    if low is not None or high is not None:
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in (low, high)):
            raise ValueError("low and high must both be numbers")
        if high < low:
            raise ValueError(f"range is empty: high {high} < low {low}")
        fields["low"], fields["high"] = low, high
        if step is not None:
            if "values" in spec:
                raise ValueError("give values or low/high/step, not both")
            fields["values"] = tuple(range_values(low, high, step))
    elif step is not None:
        raise ValueError("step needs low and high")
    if "values" not in fields and "low" not in fields:
        raise ValueError("expected values or low and high")
    return fields


def check_spec(spec: SweepSpec) -> list[Problem]:
    """Problems of a spec that need no scenario: each design's needs of its parameters."""
    problems = []
    seen: set[str] = set()
    for p in spec.params:
        if p.path in seen:
            problems.append(located(p.key, f"parameter {p.path} is swept twice", p.pos))
        seen.add(p.path)
        if spec.design == "grid" and p.values is None:
            problems.append(located(p.key, f"design grid needs values: give "
                                    f"{p.low:g}:{p.high:g}:STEP or a list", p.pos))
        if spec.design in ("morris", "sobol") and not p.bounded and p.values is not None and \
                len(p.values) < 2:
            problems.append(located(p.key, f"design {spec.design} needs a range or at least "
                                    "two values", p.pos))
    if spec.design in ("morris", "sobol") and len(spec.params) < 2 and spec.params:
        problems.append(located(("sweep", "params") if spec.source else ("params",),
                                f"design {spec.design} needs at least two parameters",
                                spec.where("params") or spec.params[0].pos))
    return problems
