"""Resolve a sweep against its base scenario: check every path, build the design, validate
every point up front, and identify each point by a hash.

Each point is the base scenario with the sweep's fixed ``set`` overrides and then one
``path=value`` override per parameter, loaded by the scenario loader itself (the same
``extends``, ``--set`` and validation pipeline as ``critmin run --set``). The base file chain
is parsed once and copied per point. A point's problems are reported at the sweep parameter
that caused them (``sweep.params.<path>`` in a sweep file, ``<--param>:N`` on the command line)
with the point and value named; problems elsewhere keep their scenario location.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from ..scenario.document import child_types, model_fields, union_arms
from ..scenario.errors import Problem, ScenarioError, did_you_mean, format_path
from ..scenario.loader import ParsedScenario, scenario_sha256
from ..scenario.models import Scenario
from ..scenario.overrides import SET_FILE, describe
from ..scenario.positions import located
from .designs import Design, build_design
from .spec import KPIS, ParamSpec, SweepSpec

__all__ = ["FORMAT", "Plan", "PlannedPoint", "format_value", "plan_sweep", "point_hash"]

#: Version of the per-point result files; part of every point hash.
FORMAT = "critmin-sweep-1"


@dataclass(frozen=True)
class PlannedPoint:
    """One design point: index, parameter values, validated scenario and its hash."""

    index: int
    values: dict[str, Any]
    scenario: Scenario
    hash: str


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


def format_value(value: Any) -> str:
    """A value as an override writes it (JSON is valid YAML 1.2 flow)."""
    return json.dumps(value)


def point_hash(scenario: Scenario, seed: int, replications: int,
               disruption: str | None = None) -> str:
    """First 16 hex digits of SHA-256 over the resolved scenario, seed, replications, the
    ``--disruption`` event (when given) and :data:`FORMAT`: equal points share results, any
    change makes a new point."""
    key = {"format": FORMAT, "scenario": scenario_sha256(scenario), "seed": seed,
           "replications": replications}
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
            points.append(PlannedPoint(i, values, result,
                                       point_hash(result, spec.seed, spec.replications,
                                                  spec.disruption)))
    if found:
        listed = sorted(found.values(), key=lambda p: (p.file, p.line, p.col))
        if len(listed) > max_problems:
            extra = len(listed) - max_problems
            listed = [*listed[:max_problems],
                      Problem((), f"... and {extra} more problem(s) at other points",
                              listed[0].file, listed[0].line, listed[0].col)]
        raise ScenarioError(listed)
    return Plan(spec, base, design, points)
