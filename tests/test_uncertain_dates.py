"""Uncertain event dates and durations (issue 13 item 4): ``start: {uniform: [date, date]}``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from simulator.engine.rng import RandomStreams
from simulator.scenario import ScenarioError, dump_scenario_yaml, load_scenario
from simulator.scenario.distributions import realize

TINY = (Path(__file__).parent / "fixtures" / "tiny.yaml").read_text()
STOP = """
events:
  stop:
    type: facility_outage
    facilities: [au_mine]
    start: {start}
    duration_days: {duration}
"""


def _scenario(tmp_path: Path, start: str, duration: str = "60", rate: str = "1000",
              name: str = "s.yaml"):
    text = TINY.replace("rate_tpy: 1000", f"rate_tpy: {rate}") + STOP.format(
        start=start, duration=duration)
    path = tmp_path / name
    path.write_text(text)
    return path


def test_uncertain_start_and_duration_are_drawn_per_replication(tmp_path) -> None:
    """An uncertain event date was refused: 'only numeric parameters can be uncertain'."""
    sc = load_scenario(_scenario(tmp_path, "{uniform: [2025-01-01, 2025-06-30]}",
                                 "{uniform: [30, 90]}"))
    ev = sc.events["stop"]
    assert ev.start == dt.date(2025, 4, 1)  # the central value: the midpoint
    assert set(sc.uncertainty) == {"events.stop.start", "events.stop.duration_days"}
    starts, durations = set(), set()
    for rep in range(40):
        drawn = realize(sc, RandomStreams(0, rep).get).events["stop"]
        assert isinstance(drawn.start, dt.date)
        assert dt.date(2025, 1, 1) <= drawn.start <= dt.date(2025, 6, 30)
        assert 30 <= drawn.duration_days <= 90 and isinstance(drawn.duration_days, int)
        starts.add(drawn.start)
        durations.add(drawn.duration_days)
    assert len(starts) > 20 and len(durations) > 15
    again = realize(sc, RandomStreams(0, 7).get).events["stop"]
    assert again == realize(sc, RandomStreams(0, 7).get).events["stop"]


def test_an_uncertain_date_does_not_shift_other_draws(tmp_path) -> None:
    """Common random numbers: each uncertain date draws on its own stream."""
    fixed = load_scenario(_scenario(tmp_path, "2025-03-01", rate="{uniform: [800, 1200]}",
                                    name="a.yaml"))
    uncertain = load_scenario(_scenario(tmp_path, "{uniform: [2025-01-01, 2025-06-30]}",
                                        rate="{uniform: [800, 1200]}", name="b.yaml"))
    for rep in range(10):
        a = realize(fixed, RandomStreams(3, rep).get)
        b = realize(uncertain, RandomStreams(3, rep).get)
        assert a.demand["jp_ev"].rate_tpy == b.demand["jp_ev"].rate_tpy


def test_uncertain_date_outside_the_horizon_is_located(tmp_path) -> None:
    path = _scenario(tmp_path, "{uniform: [2025-01-01, 2026-06-30]}")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:31:13: events.stop.start: upper bound 2026-06-30 of uniform "
        "[2025-01-01, 2026-06-30]: outside the horizon (end_date 2026-01-01)"]


def test_bad_uncertain_dates_are_located(tmp_path) -> None:
    path = _scenario(tmp_path, "{uniform: [2025-06-30, banana]}")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:31:35: events.stop.start: uniform value 'banana' is not a date"]
    path = _scenario(tmp_path, "{uniform: [2025-06-30, 2025-01-01]}")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:31:13: events.stop.start: invalid uniform [2025-06-30, 2025-01-01]: "
        "low 2025-06-30 is above high 2025-01-01"]


def test_uncertain_date_round_trips_through_the_resolved_yaml(tmp_path) -> None:
    sc = load_scenario(_scenario(tmp_path, "{uniform: [2025-01-01, 2025-06-30]}"))
    text = dump_scenario_yaml(sc)
    assert "uniform:\n    - '2025-01-01'\n    - '2025-06-30'" in text
    again = tmp_path / "resolved.yaml"
    again.write_text(text)
    assert load_scenario(again) == sc


def test_engine_runs_an_uncertain_stop(tmp_path) -> None:
    from simulator.engine import run_replication

    sc = load_scenario(_scenario(tmp_path, "{uniform: [2025-01-01, 2025-06-30]}",
                                 "{uniform: [30, 90]}"))
    results = [run_replication(sc, seed=0, replication=r) for r in range(3)]
    assert all(r is not None for r in results)


def test_causality_an_uncertain_stop_changes_nothing_before_its_drawn_date(tmp_path) -> None:
    """Each replication's run matches the run without the event on every step that ends
    before that replication's drawn start (and differs after it: the stop bites)."""
    import pandas as pd

    from simulator.engine import run_replication

    sc = load_scenario(_scenario(tmp_path, "{uniform: [2024-09-01, 2025-06-30]}",
                                 "{uniform: [30, 90]}"))
    without = sc.model_copy(update={"events": {}, "uncertainty": {}})
    step = sc.simulation.step_days
    for rep in range(4):
        start = realize(sc, RandomStreams(0, rep).get).events["stop"].start
        t = sc.day_of(start)
        ra = run_replication(sc, seed=0, replication=rep)
        rb = run_replication(without, seed=0, replication=rep)
        for name in ("timeseries", "production", "flows"):
            a, b = getattr(ra, name), getattr(rb, name)
            pd.testing.assert_frame_equal(a[a["day"] + step <= t].reset_index(drop=True),
                                          b[b["day"] + step <= t].reset_index(drop=True))
        mine = ra.production[ra.production["facility"] == "au_mine"]
        assert not (mine["day"] == -(-t // step) * step).any()  # none in the first full step
