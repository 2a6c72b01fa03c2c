"""Loading cost grows linearly with the file, comments included; limits say what they are.

Timings are ratios of the best of three runs on inputs 8x (comments) or 2x (events) apart,
with generous margins over linear, so they hold on a busy machine and still catch quadratic
costs (the comment case was 7x for 4x the size before, 28x expected for 8x). Best of two
once read 3.6x for the events (0.45 s and 1.61 s) in a clean-clone run with the other core
busy, 2x when measured alone (2026-12-06).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from simulator.scenario import ScenarioError, load_scenario_text
from simulator.scenario import loader as loader_module
from simulator.scenario import positions as positions_module

TINY = (Path(__file__).parent / "fixtures" / "tiny.yaml").read_text()
ALIAS_LIMIT = ("aliases expand the document by more than 100,000 values (a safety limit against "
               "alias bombs); write fewer aliases")


def best_time(text: str, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        loader_module._parse_cached.cache_clear()  # time the parse, not the per-process cache
        start = time.perf_counter()
        load_scenario_text(text, "scaling.yaml")
        best = min(best, time.perf_counter() - start)
    return best


def with_comments(kilobytes: int) -> str:
    """``tiny.yaml`` with that many kB of one-character comment lines after a scalar value."""
    head, rest = TINY.split("start_date:", 1)
    return head + "#c\n" * (kilobytes * 1000 // 3) + "start_date:" + rest


def with_events(n: int) -> str:
    events = "".join(f"  shock_{i}: {{type: demand_shock, demand: [jp_ev], multiplier: 1.01, "
                     f"start: 2025-01-01, end: 2025-02-01, note: event {i}}}\n" for i in range(n))
    return TINY + "events:\n" + events


def test_comments_load_in_linear_time() -> None:
    small, large = best_time(with_comments(100)), best_time(with_comments(800))
    assert large < 12 * small + 0.2, (small, large)  # linear is 8x


def test_events_load_in_linear_time() -> None:
    small, large = best_time(with_events(400)), best_time(with_events(800))
    assert large < 3 * small + 0.2, (small, large)  # linear is 2x


def test_alias_bomb_names_the_limit() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        load_scenario_text("name: bomb\n" + "\n".join(levels) + "\n", "bomb.yaml")
    assert time.perf_counter() - start < 10
    [problem] = info.value.problems
    assert problem.file == "bomb.yaml" and problem.line == 2
    assert problem.message == ALIAS_LIMIT


def test_only_alias_expansion_is_limited(monkeypatch) -> None:
    """Values written out count against the file size limit only; aliases also against theirs."""
    monkeypatch.setattr(positions_module, "MAX_ALIAS_VALUES", 30, raising=False)
    monkeypatch.setattr(positions_module, "MAX_VALUES", 30, raising=False)  # the old name
    loader_module._parse_cached.cache_clear()  # no text parsed under the real limit
    s = load_scenario_text(with_events(10))  # some 150 values, no aliases
    assert len(s.events) == 10
    line = next(x for x in TINY.splitlines(keepends=True) if x.startswith("  jp_ev: {"))

    def aliased(n: int) -> str:
        return TINY.replace(line, line.replace("{", "&ev {", 1) + "".join(
            f"  jp_ev{i}: *ev\n" for i in range(n)))

    assert len(load_scenario_text(aliased(2)).demand) == 3  # 2 x 6 values repeated
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(aliased(10))
    assert info.value.problems[0].message.startswith("aliases expand the document by more "
                                                     "than 30 values")
