"""Resolve a sweep against its base scenario: check every path, build the design, validate
every point up front, and identify each point by a hash.

Each point is the base scenario with the sweep's fixed ``set`` overrides and then one
``path=value`` override per parameter, loaded by the scenario loader itself (the same
``extends``, ``--set`` and validation pipeline as ``critmin run --set``). The base file chain
is parsed once and copied per point. A point's problems are reported at the sweep parameter
that caused them (``sweep.params.<path>`` in a sweep file, ``<--param>:N`` on the command line)
with the point and value named; problems elsewhere keep their scenario location.

A finished point is kept as ``points/<hash>.parquet`` (:func:`write_point`), whose Parquet
metadata records what identifies the point (its hash, the resolved scenario's sha256, the
seed, the replications, the ``--disruption`` event) and a checksum of its rows;
:func:`read_point` refuses a file that is unreadable, foreign or altered.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..fingerprint import model_fingerprint
from ..scenario.document import child_types, model_fields, union_arms
from ..scenario.errors import Problem, ScenarioError, did_you_mean, format_path
from ..scenario.loader import ParsedScenario, scenario_sha256
from ..scenario.models import Scenario
from ..scenario.overrides import SET_FILE, describe
from ..scenario.positions import located
from .designs import Design, build_design
from .spec import KPIS, ParamSpec, SweepSpec

__all__ = ["FORMAT", "Plan", "PlannedPoint", "PointFileError", "finished_point",
           "format_value", "plan_sweep", "point_hash", "read_point", "write_point"]

#: Version of the per-point result files; part of every point hash.
FORMAT = "critmin-sweep-1"
#: Key of a point file's identity record in its Parquet (schema) metadata.
POINT_METADATA_KEY = b"critmin.point"


@dataclass(frozen=True)
class PlannedPoint:
    """One design point: index, parameter values, validated scenario and its hash."""

    index: int
    values: dict[str, Any]
    scenario: Scenario
    hash: str
    scenario_sha256: str = field(default="", compare=False)


@dataclass
class Plan:
    """A validated sweep: the spec, the base scenario, the design and every point."""

    spec: SweepSpec
    base: Scenario
    design: Design
    points: list[PlannedPoint]

    @property
    def unique_hashes(self) -> list[str]:
        """Hashes of the distinct points, in first-appearance order."""
        return list(dict.fromkeys(p.hash for p in self.points))

    @cached_property
    def _by_hash(self) -> dict[str, PlannedPoint]:
        return {p.hash: p for p in reversed(self.points)}

    def identity(self, point: str) -> dict[str, Any]:
        """What the file of the point with hash ``point`` must record (:func:`read_point`)."""
        p = self._by_hash[point]
        return {"format": FORMAT, "point": point,
                "scenario_sha256": p.scenario_sha256 or scenario_sha256(p.scenario),
                "seed": self.spec.seed, "replications": self.spec.replications,
                "disruption": self.spec.disruption, "model": model_fingerprint()}


def format_value(value: Any) -> str:
    """A value as an override writes it (JSON is valid YAML 1.2 flow)."""
    return json.dumps(value)


def point_hash(scenario: Scenario, seed: int, replications: int,
               disruption: str | None = None, *, scenario_sha: str | None = None) -> str:
    """First 16 hex digits of SHA-256 over the resolved scenario (``scenario_sha``, its
    :func:`scenario_sha256` when known), seed, replications, the ``--disruption`` event (when
    given) and :data:`FORMAT`: equal points share results, any change makes a new point."""
    key = {"format": FORMAT, "scenario": scenario_sha or scenario_sha256(scenario),
           "seed": seed, "replications": replications}
    if disruption is not None:
        key["disruption"] = disruption
    text = json.dumps(key, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_path(p: ParamSpec, dump: dict[str, Any]) -> tuple[Problem | None, Any, bool]:
    """(problem, base value, integer field) of parameter ``p`` in the base scenario's data."""
    cur: Any = dump
    types: list[Any] = [Scenario]
    done: list[str] = []
    for seg in p.keys:
        fields = [n for t in types for a in union_arms(t) for n in model_fields(a)]
        if isinstance(cur, dict) and seg in cur:
            nxt = cur[seg]
        elif isinstance(cur, list) and seg.isdigit() and int(seg) < len(cur):
            nxt = cur[int(seg)]
        else:
            where = f"in {format_path(tuple(done))}" if done else "at the top level"
            if cur is None:
                msg = f"{format_path(tuple(done))} is not set in the base scenario"
            elif not isinstance(cur, dict | list):
                msg = f"{format_path(tuple(done))} is {describe(cur)}, not a mapping"
            else:
                choices = [*(cur if isinstance(cur, dict) else []), *fields]
                msg = f"no {seg!r} {where}{did_you_mean(seg, choices)}"
            pos = p.pos
            if p.path_pos is not None:  # the command line: point at the segment
                offset = sum(len(s) + 1 for s in done)
                pos = (p.path_pos[0], p.path_pos[1], p.path_pos[2] + offset)
            return located(p.key, f"unknown parameter {p.path!r}: {msg}", pos), None, False
        types = child_types(types, seg, cur if isinstance(cur, dict) else None)
        done.append(seg)
        cur = nxt
    if isinstance(cur, dict | list):
        return located(p.key, f"{p.path} is {describe(cur)}, not a single value; sweep one of "
                       "its fields", p.path_pos or p.pos), None, False
    arms = [a for t in types for a in union_arms(t) if a is not type(None)]
    integer = int in arms and float not in arms
    return None, cur, integer


def _relocate(problem: Problem, spec: SweepSpec, point: int, values: dict[str, Any],
              n_fixed: int) -> Problem:
    """Point a loader problem at the sweep parameter (or fixed ``set`` entry) behind it."""
    if problem.file == SET_FILE:
        i = problem.line - 1
        if i >= n_fixed:
            p = spec.params[i - n_fixed]
            msg = f"value {format_value(values[p.path])} (point {point}): {problem.message}"
            return located(p.key, msg, p.pos)
        key = spec.overrides[i].partition("=")[0]
        pos = spec.where("set", key)
        if pos is not None:
            return located(("sweep", "set", key), problem.message, pos)
        return problem
    shown = ", ".join(f"{k}={format_value(v)}" for k, v in values.items())
    return replace(problem, message=f"at sweep point {point} ({shown}): {problem.message}")


def _check_output(spec: SweepSpec, base: Scenario) -> list[Problem]:
    out = spec.output
    key = ("sweep", "output") if out.pos is not None else ()
    problems = []
    if out.kpi not in KPIS:
        problems.append(located((*key, "kpi"), f"unknown KPI {out.kpi!r}"
                                f"{did_you_mean(out.kpi, KPIS)}; expected one of "
                                f"{', '.join(KPIS)}", out.pos or ("<--kpi>", 1, 1)))
    if out.demand != "all" and out.demand not in base.demand:
        problems.append(located((*key, "demand"), f"unknown demand sector {out.demand!r}"
                                f"{did_you_mean(out.demand, base.demand)}; expected 'all' or "
                                "a demand id of the base scenario",
                                out.pos or ("<--demand>", 1, 1)))
    return problems


def plan_sweep(spec: SweepSpec, *, max_problems: int = 50) -> Plan:
    """Load the base scenario, check every parameter path, build the design and validate
    every point.

    Raises ScenarioFileNotFound (exit 66) for a missing base scenario and ScenarioError
    (exit 65) listing the problems: unknown or non-scalar paths, empty or malformed ranges,
    points that fail validation (at most ``max_problems`` distinct ones), an unknown KPI or
    demand sector. Raises SensitivityUnavailable for morris/sobol without SALib."""
    base_doc = ParsedScenario(spec.scenario)
    base = base_doc.load(spec.overrides)
    dump = base.model_dump(mode="json", by_alias=True)
    problems: list[Problem] = _check_output(spec, base)
    base_values: dict[str, Any] = {}
    integer: dict[str, bool] = {}
    for p in spec.params:
        problem, value, is_int = _check_path(p, dump)
        if problem is not None:
            problems.append(problem)
        base_values[p.path], integer[p.path] = value, is_int
    if spec.design == "sobol" and spec.samples and spec.samples & (spec.samples - 1):
        problems.append(located(("sweep", "samples") if spec.source else ("samples",),
                                f"design sobol needs a power of 2 samples, not {spec.samples}",
                                spec.where("samples") or ("<--samples>", 1, 1)))
    if problems:
        raise ScenarioError(problems)
    design = build_design(spec, base_values, integer)
    points: list[PlannedPoint] = []
    seen: dict[tuple[str, ...], Scenario | ScenarioError] = {}
    found: dict[str, Problem] = {}
    n_fixed = len(spec.overrides)
    for i, values in enumerate(design.points):
        sets = tuple(f"{k}={format_value(v)}" for k, v in values.items())
        if sets not in seen:
            try:
                seen[sets] = base_doc.load([*spec.overrides, *sets])
            except ScenarioError as exc:
                seen[sets] = exc
                for prob in exc.problems:
                    moved = _relocate(prob, spec, i, values, n_fixed)
                    found.setdefault(f"{moved.file}:{moved.line}:{prob.message}", moved)
        result = seen[sets]
        if isinstance(result, Scenario) and not found:
            sha = scenario_sha256(result)
            points.append(PlannedPoint(i, values, result,
                                       point_hash(result, spec.seed, spec.replications,
                                                  spec.disruption, scenario_sha=sha), sha))
    if found:
        listed = sorted(found.values(), key=lambda p: (p.file, p.line, p.col))
        if len(listed) > max_problems:
            extra = len(listed) - max_problems
            listed = [*listed[:max_problems],
                      Problem((), f"... and {extra} more problem(s) at other points",
                              listed[0].file, listed[0].line, listed[0].col)]
        raise ScenarioError(listed)
    return Plan(spec, base, design, points)


class PointFileError(ValueError):
    """A point file that cannot be used: unreadable, foreign, or not what was written."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = path, problem


def _rows_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of a point's rows: column names, numbers as little-endian 8-byte values (NaN
    canonical), text joined with unit separators. Independent of the Parquet encoding."""
    h = hashlib.sha256()
    for name in frame.columns:
        col = frame[name]
        h.update(f"\x1e{name}\x1f{col.dtype.kind}".encode())
        if col.dtype.kind == "f":
            values = col.to_numpy(dtype="<f8")
            h.update(np.where(np.isnan(values), np.nan, values).tobytes())
        elif col.dtype.kind in "iub":
            h.update(col.to_numpy(dtype="<i8").tobytes())
        else:
            h.update("\x1f".join(col.astype(str)).encode())
    return h.hexdigest()


def write_point(path: Path, frame: pd.DataFrame, identity: dict[str, Any]) -> None:
    """Write a point's rows to ``path`` (Parquet) with ``identity`` (:meth:`Plan.identity`),
    the row count and the rows' checksum in the file's metadata. Deterministic bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    record = {**identity, "rows": len(frame), "rows_sha256": _rows_sha256(frame)}
    meta = {**(table.schema.metadata or {}),
            POINT_METADATA_KEY: json.dumps(record, sort_keys=True).encode()}
    pq.write_table(table.replace_schema_metadata(meta), path)


def read_point(path: Path, identity: dict[str, Any]) -> pd.DataFrame:
    """The rows of the point file ``path``, which must record ``identity``
    (:meth:`Plan.identity`) and rows matching its checksum; else :class:`PointFileError`
    saying what is wrong."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
        frame = pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise PointFileError(path, f"cannot be read ({detail}): truncated or damaged"
                             ) from None
    if POINT_METADATA_KEY not in meta:
        raise PointFileError(path, "has no identity record (not written by this version of "
                                   "critmin's sweep, or not a point file)")
    try:
        record = json.loads(meta[POINT_METADATA_KEY])
        assert isinstance(record, dict)
    except (ValueError, AssertionError):
        raise PointFileError(path, "its identity record is damaged") from None
    if record.get("point") != identity["point"]:
        raise PointFileError(path, f"holds the results of another point ({record.get('point')}"
                                   f"), not of point {identity['point']}")
    differ = [k for k in identity if record.get(k) != identity[k]]
    if differ:
        raise PointFileError(path, "was computed with another " + ", ".join(
            f"{k} ({record.get(k)!r}, not {identity[k]!r})" for k in differ))
    if record.get("rows") != len(frame) or record.get("rows_sha256") != _rows_sha256(frame):
        raise PointFileError(path, "its rows differ from the checksum they were written with "
                                   "(damaged)")
    return frame


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def finished_point(path: Path, identity: dict[str, Any],
                   warn: Callable[[str], None] = _stderr) -> bool:
    """Whether ``path`` holds the finished point ``identity``. A file that fails
    :func:`read_point` is renamed to ``<name>.damaged`` (so it is never read again and the
    point is recomputed) and ``warn`` is called with a ``critmin: warning:`` line naming it."""
    if not path.exists():
        return False
    try:
        read_point(path, identity)
    except PointFileError as exc:
        aside = path.with_name(path.name + ".damaged")
        os.replace(path, aside)
        warn(f"critmin: warning: {exc.path}: {exc.problem}; recomputing the point (the file "
             f"is kept as {aside.name})")
        return False
    return True
