"""A sweep runs on the runner's replication driver (issue 13: one driver): units of
(point, replication) in order, failures named by point, replication and seed, finished
points kept, progress per unit."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd
import pytest

import simulator.engine as engine
from simulator.sweep import SweepFailed, load_sweep, plan_sweep, run_sweep
from tests.test_layering import SIMULATOR, imported
from tests.test_sweep import GRID, write_outage


def test_the_sweep_has_no_driver_of_its_own() -> None:
    """No module of the sweep package submits to an evaluator or waits on futures itself;
    ``run_sweep`` hands its units to the runner's driver."""
    for path in sorted((SIMULATOR / "sweep").glob("*.py")):
        names = imported(path)
        assert not any(n.startswith("concurrent.futures") for n in names), path.name
    assert "simulator.runner.driver.Driver" in imported(SIMULATOR / "sweep" / "run.py")
    tree = ast.parse((SIMULATOR / "sweep" / "run.py").read_text(encoding="utf-8"))
    submits = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "submit"]
    assert submits == []


@pytest.fixture
def failing(monkeypatch):
    """Replication 1 of the point whose outage lasts 30 days raises."""
    real = engine.run_replication

    def run_replication(scenario, seed, replication):
        if scenario.events["mine_outage"].duration_days == 30 and replication == 1:
            raise ValueError("boom\n  at the mine")
        return real(scenario, seed=seed, replication=replication)

    monkeypatch.setattr(engine, "run_replication", run_replication)


def test_a_failing_replication_names_its_point_and_keeps_finished_points(
        tmp_path: Path, failing, monkeypatch) -> None:
    plan = plan_sweep(load_sweep(write_outage(tmp_path, GRID)))
    bad = next(p for p in plan.points
               if p.values["events.mine_outage.duration_days"] == 30)
    out = tmp_path / "out"
    with pytest.raises(SweepFailed) as info:
        run_sweep(plan, out)
    assert str(info.value) == (f"point {bad.hash}: replication 1 (seed 3) failed: "
                               "ValueError: boom at the mine")
    assert "ValueError: boom" in info.value.traceback_text
    before = [p.hash for p in plan.points[:bad.index]]
    kept = sorted(f.stem for f in (out / "points").glob("*.parquet"))
    assert kept == sorted(before)
    assert json.loads((out / "sweep.json").read_text())["status"] == "failed"

    monkeypatch.undo()  # the cause fixed: the rerun computes only what is missing
    again = run_sweep(plan, out)
    assert again.skipped == before
    assert len(again.computed) == len(plan.unique_hashes) - len(before)


def test_progress_counts_every_unit_once(tmp_path: Path) -> None:
    plan = plan_sweep(load_sweep(write_outage(tmp_path, GRID.replace("10:40:10", "[10, 20]"))))
    planned: list[tuple[int, int]] = []
    done: list[int] = []
    run = run_sweep(plan, tmp_path / "out", on_plan=lambda u, s: planned.append((u, s)),
                    on_done=done.append)
    assert planned == [(4 * 2, 0)] and done == [1] * 8 and run.units == 8
    again = run_sweep(plan, tmp_path / "out", on_plan=lambda u, s: planned.append((u, s)),
                      on_done=done.append)
    assert planned[-1] == (0, 4) and len(done) == 8 and again.computed == []


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(),
                    reason="needs the fork start method to patch workers")
def test_a_dead_worker_is_named_like_a_runs(tmp_path: Path, monkeypatch) -> None:
    """A pool worker killed on a point's replication: the sweep says which point and
    replication, in the words ``critmin run`` uses, and keeps the points finished before."""
    import os
    import signal

    from simulator.runner import ProcessPoolEvaluator

    plan = plan_sweep(load_sweep(write_outage(tmp_path, GRID)))
    bad = next(p for p in plan.points if p.values["events.mine_outage.duration_days"] == 30)
    real = engine.run_replication

    def run_replication(scenario, seed, replication):  # forked workers inherit it
        if scenario.events["mine_outage"].duration_days == 30:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(scenario, seed=seed, replication=replication)

    monkeypatch.setattr(engine, "run_replication", run_replication)
    out = tmp_path / "out"
    with ProcessPoolEvaluator(2, mp_context="fork") as ev, pytest.raises(SweepFailed) as info:
        run_sweep(plan, out, evaluator=ev)
    message = str(info.value)
    assert message.startswith("a worker process died while running point "), message
    assert f"point {bad.hash}: replication(s) " in message and "(seed 3)" in message
    assert "killed by signal 9 (SIGKILL)" in message
    assert json.loads((out / "sweep.json").read_text())["status"] == "failed"
    for f in (out / "points").glob("*.parquet"):  # whatever was kept is whole
        assert f.stem != bad.hash
        assert sorted(pd.read_parquet(f)["replication"].unique()) == [0, 1]
