"""Fuzzing the loader: any mutation of a valid scenario either loads or fails with located problems.

Never any exception other than ScenarioError; every problem has a message, and problems in the
fuzzed text or in ``<--set>`` have a 1-based position. Valid outcomes must round-trip through
``dump_scenario_yaml`` with the same hash. Sweep files and ``--set`` values are mutated too,
with hostile values among the snippets (huge numbers, dates outside the supported range,
aliases, tags, paths to devices).
"""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from simulator.scenario import (
    Scenario,
    ScenarioError,
    dump_scenario_yaml,
    load_scenario_text,
    resolve_scenario_data,
    scenario_sha256,
)

VALID = Path(__file__).parent / "fixtures" / "loader_valid.yaml"
SWEEP_TEXT = f"""\
sweep:
  name: fuzz_sweep
  scenario: {VALID}
  design: grid
  replications: 2
  set: {{lead_times.domestic_days: 6}}
  params:
    facilities.cn_mine.capacity_tpy: 800:1000:200
    demand.jp_magnets.rate_tpy: [400, 500]
  output: {{kpi: fill_rate, demand: jp_magnets}}
"""
VALID_TEXT = VALID.read_text()
VALID_DATA = resolve_scenario_data(VALID)
NAME = "fuzz.yaml"
FUZZ = settings(deadline=None, max_examples=150, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])

YAML_CHARS = list(":-[]{},&*!|>'\"%@#?~=.\n\t 0123456789abcNOyes")
HOSTILE = ["1e308", "-1e308", ".inf", ".nan", "1e9", "1000000001", "36501", "0001-01-01",
           "9999-12-31", "2262-04-12", "1677-09-21", "&a [1, *a]", "*undefined",
           "{triangular: [1, 2, 1e309]}", "{uniform: [0, 1e12]}", "!!python/object:os.system",
           "/dev/zero", "../../../escape", "99999999999999999999999"]
snippets = st.one_of(st.text(st.sampled_from(YAML_CHARS), max_size=10), st.text(max_size=8),
                     st.sampled_from(HOSTILE))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=10),
                    st.dates(), st.sampled_from(["CN", "JP", "NO", "ore", "oxide", "mine"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


def all_paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += all_paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += all_paths(v, (*prefix, i))
    return out


PATHS = all_paths(VALID_DATA)


def to_yaml(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def check_outcome(text: str, overrides: tuple[str, ...] = ()) -> None:
    try:
        scenario = load_scenario_text(text, name=NAME, overrides=overrides)
    except ScenarioError as exc:
        assert exc.problems
        event(f"{type(exc).__name__}: {exc.problems[0].message.split(':')[0][:40]}")
        for p in exc.problems:
            assert p.message.strip(), p
            if p.file in (NAME, "<--set>"):
                assert p.line >= 1 and p.col >= 1, p
        return
    assert isinstance(scenario, Scenario)
    event("valid")
    again = load_scenario_text(dump_scenario_yaml(scenario))
    assert again == scenario
    assert scenario_sha256(again) == scenario_sha256(scenario)


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    text = VALID_TEXT
    lines = text.splitlines(keepends=True)
    op = draw(st.sampled_from(["truncate", "insert", "replace", "digit", "drop_line",
                               "dup_line", "indent", "extends"]))
    if op == "extends":  # a parent that is not a scenario file
        parent = draw(st.sampled_from(["/dev/zero", "/dev/null", "/", "/etc/hostname", "x.yaml"]))
        return f"extends: {parent}\n{text}"
    if op == "digit":  # e.g. impossible dates such as 2025-01-91
        at = draw(st.sampled_from([i for i, c in enumerate(text) if c.isdigit()]))
        return text[:at] + draw(st.sampled_from("0123456789")) + text[at + 1:]
    if op == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if op in ("insert", "replace"):
        at = draw(st.integers(0, len(text) - 1))
        end = at + (draw(st.integers(1, 6)) if op == "replace" else 0)
        return text[:at] + draw(snippets) + text[end:]
    i = draw(st.integers(0, len(lines) - 1))
    if op == "drop_line":
        del lines[i]
    elif op == "dup_line":
        lines.insert(i, lines[i])
    else:
        lines[i] = draw(st.sampled_from([" ", "  ", "\t", "- "])) + lines[i]
    return "".join(lines)


@st.composite
def mutated_data(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(VALID_DATA)
    path = draw(st.sampled_from(PATHS))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    op = draw(st.sampled_from(["drop", "swap", "add"]))
    if op == "drop":
        del parent[path[-1]]
    elif op == "swap":
        parent[path[-1]] = draw(values)
    else:
        target = parent[path[-1]]
        if isinstance(target, dict):
            target[draw(st.text(max_size=8))] = draw(values)
        else:
            data[draw(st.text(max_size=8))] = draw(values)
    return data


@pytest.mark.slow
@FUZZ
@given(mutated_text())
def test_mutated_text_loads_or_fails_located(text: str) -> None:
    check_outcome(text)


@FUZZ
@given(mutated_data())
def test_mutated_data_loads_or_fails_located(data: Any) -> None:
    check_outcome(to_yaml(data))


@FUZZ
@given(st.lists(st.tuples(
    st.one_of(st.sampled_from([".".join(map(str, p)) for p in PATHS]), snippets),
    st.one_of(snippets, st.sampled_from(["0.5", "-1", "[a, b]", "{x: 1}", "2026-01-01", "NO",
                                         *HOSTILE])),
    st.booleans()), max_size=3))
def test_random_overrides_load_or_fail_located(parts: list[tuple[str, str, bool]]) -> None:
    overrides = tuple(f"{key}={value}" if eq else key + value for key, value, eq in parts)
    check_outcome(VALID_TEXT, overrides)


SWEEP_FUZZ = settings(FUZZ, max_examples=60)


def check_sweep_outcome(text: str, tmp: Path) -> None:
    """A mutated sweep file plans (every point validated) or fails with located problems."""
    from simulator.sweep import load_sweep, plan_sweep

    path = tmp / "fuzz_sweep.yaml"
    path.write_text(text)
    try:
        plan = plan_sweep(load_sweep(path))
    except ScenarioError as exc:
        assert exc.problems
        event(f"sweep {type(exc).__name__}: {exc.problems[0].message.split(':')[0][:40]}")
        for p in exc.problems:
            assert p.message.strip(), p
            if p.file == str(path):
                assert p.line >= 1 and p.col >= 1, p
        return
    event("sweep valid")
    assert plan.points
    assert "/" not in plan.spec.name and plan.spec.name not in (".", "..")


@st.composite
def mutated_sweep(draw: st.DrawFn) -> str:
    text = SWEEP_TEXT
    lines = text.splitlines(keepends=True)
    op = draw(st.sampled_from(["insert", "replace", "drop_line", "value"]))
    if op in ("insert", "replace"):
        at = draw(st.integers(0, len(text) - 1))
        end = at + (draw(st.integers(1, 6)) if op == "replace" else 0)
        return text[:at] + draw(snippets) + text[end:]
    i = draw(st.integers(0, len(lines) - 1))
    if op == "drop_line":
        del lines[i]
    else:  # a key's value replaced by a hostile or random one
        key, colon, _ = lines[i].partition(":")
        if colon:
            lines[i] = f"{key}: {draw(st.one_of(snippets, st.sampled_from(HOSTILE)))}\n"
    return "".join(lines)


@SWEEP_FUZZ
@given(mutated_sweep())
def test_mutated_sweep_files_plan_or_fail_located(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        check_sweep_outcome(text, Path(tmp))
