"""Parameter sweeps: known answers, designs, resume after a kill, the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.sweep import (
    SweepInterrupted,
    load_sweep,
    plan_sweep,
    run_sweep,
    write_outputs,
)
from simulator.sweep import run as sweep_run

# One mine (AU) selling ore straight to Japan: capacity = demand = 10 t/day, no safety stock
# anywhere, 5-day lead time, daily steps, no warm-up. The buyer is short 10 t/day for the
# first 5 days (first order in transit), and then, for an outage of D days losing a share c
# of capacity, short exactly 10 * c t on each of D days: shortfall = 50 + 10 * D * c tonnes.
OUTAGE = """\
name: outage
start_date: 2024-01-01
end_date: 2025-01-01
simulation: {step_days: 1, warmup_days: 0}
stages: [mine]
countries: {AU: {name: Australia}, JP: {name: Japan}}
materials: {ore: {}}
recipes: {mining: {stage: mine, outputs: {ore: 1.0}}}
facilities:
  au_mine: {country: AU, recipe: mining, capacity_tpy: 3650, output_cover_days: 0}
demand:
  jp_ev: {country: JP, sector: ev, material: ore, rate_tpy: 3650, cover_days: 0}
sourcing:
  jp_ore: {country: JP, material: ore, suppliers: {AU: 1.0}}
lead_times: {default_days: 5}
events:
  mine_outage:
    type: facility_outage
    facilities: [au_mine]
    start: 2024-04-10
    duration_days: 10
    capacity_lost: 1.0
"""

GRID = """\
sweep:
  name: outage_grid
  scenario: outage.yaml
  design: grid
  replications: 2
  seed: 3
  params:
    events.mine_outage.duration_days: 10:40:10
    events.mine_outage.capacity_lost: [0.5, 1.0]
"""


def write_outage(folder: Path, sweep_text: str | None = None) -> Path:
    """Write the outage scenario (and a sweep file, returned, when given) into ``folder``."""
    (folder / "outage.yaml").write_text(OUTAGE, encoding="utf-8")
    if sweep_text is None:
        return folder / "outage.yaml"
    (folder / "sweep.yaml").write_text(sweep_text, encoding="utf-8")
    return folder / "sweep.yaml"


def _shortfall(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[(summary["kpi"] == "cumulative_shortfall_t")
                   & (summary["demand_id"] == "all")]


def test_grid_shortfall_is_known_function_of_outage(tmp_path):
    plan = plan_sweep(load_sweep(write_outage(tmp_path, GRID)))
    assert len(plan.points) == 8
    run_sweep(plan, tmp_path / "out")
    res = write_outputs(plan, tmp_path / "out")
    rows = _shortfall(res.summary)
    d = rows["events.mine_outage.duration_days"].to_numpy()
    c = rows["events.mine_outage.capacity_lost"].to_numpy()
    np.testing.assert_allclose(rows["mean"], 50 + 10 * d * c, rtol=1e-12)
    np.testing.assert_allclose(rows["p5"], rows["p95"])  # deterministic network
    # fill rate of the one sector: 1 - shortfall / demand (366 days of 10 t)
    fill = res.summary[(res.summary["kpi"] == "fill_rate")
                       & (res.summary["demand_id"] == "jp_ev")]
    np.testing.assert_allclose(fill["mean"], 1 - (50 + 10 * d * c) / 3660, rtol=1e-12)

    table = pd.read_parquet(tmp_path / "out" / "sweep.parquet")
    assert {"point", "replication", "demand_id", "country", "sector", "kpi", "value",
            "events.mine_outage.duration_days"} <= set(table.columns)
    assert len(table) == 8 * 2 * table.groupby(["point", "replication"]).size().iloc[0]
    assert sorted(table["replication"].unique()) == [0, 1]
    points = pd.read_csv(tmp_path / "out" / "points.csv")
    assert {"p5", "p10", "p50", "p90", "p95", "mean", "ci95_low", "ci95_high"} <= set(points)
    for name in ("response_events.mine_outage.duration_days",
                 "response_events.mine_outage.capacity_lost"):
        assert (tmp_path / "out" / f"{name}.png").stat().st_size > 0
        assert (tmp_path / "out" / f"{name}.svg").stat().st_size > 0
    manifest = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert manifest["status"] == "complete" and manifest["n_points"] == 8
    assert all(p["finished"] for p in manifest["points"])


def test_common_random_numbers_and_deterministic_hashes(tmp_path):
    """Noisy demand: replication r draws the same demand at every point, so a point whose
    outage does not reach demand reproduces the other point's deliveries exactly."""
    text = GRID.replace("10:40:10", "[1, 2]").replace("[0.5, 1.0]", "[0.0]")
    spec = load_sweep(write_outage(tmp_path, text))
    import dataclasses

    spec = dataclasses.replace(spec, overrides=("demand.jp_ev.cv=0.3",))
    plan = plan_sweep(spec)
    assert len(set(plan.unique_hashes)) == 2
    assert [p.hash for p in plan_sweep(spec).points] == [p.hash for p in plan.points]
    run_sweep(plan, tmp_path / "out")
    table = write_outputs(plan, tmp_path / "out", figures=False).table
    demand = table[(table["kpi"] == "demand_t") & (table["demand_id"] == "jp_ev")]
    wide = demand.pivot(index="replication", columns="point", values="value")
    np.testing.assert_array_equal(wide[0], wide[1])  # same draws at both points
    assert wide[0].iloc[0] != wide[0].iloc[1]  # replications differ


def test_resume_after_kill_skips_finished_points(tmp_path, monkeypatch):
    plan = plan_sweep(load_sweep(write_outage(tmp_path, GRID)))
    out = tmp_path / "out"
    done = []

    def kill_after_five(_n: int) -> None:
        done.append(1)
        if len(done) == 5:  # 2 points (4 units) written, the 3rd point half done
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as info:
        run_sweep(plan, out, on_done=kill_after_five)
    assert info.value.done == 2
    files = sorted((out / "points").glob("*.parquet"))
    assert [f.stem for f in files] == sorted(plan.unique_hashes[:2])
    assert json.loads((out / "sweep.json").read_text())["status"] == "interrupted"
    before = {f.name: (f.stat().st_mtime_ns, f.stat().st_ino, f.read_bytes()) for f in files}

    calls: list[tuple[str, int]] = []
    real = sweep_run.run_unit

    def counting(scenario, seed, replication, disruption=None):
        calls.append((scenario.events["mine_outage"].duration_days, replication))
        return real(scenario, seed, replication, disruption)

    monkeypatch.setattr(sweep_run, "run_unit", counting)
    run = run_sweep(plan, out)
    assert run.skipped == plan.unique_hashes[:2] and len(run.computed) == 6
    assert len(calls) == 6 * 2  # the 6 unfinished points x 2 replications, nothing else
    for f in files:
        assert (f.stat().st_mtime_ns, f.stat().st_ino, f.read_bytes()) == before[f.name]
    assert not list((out / "points").glob(".*tmp*"))
    res = write_outputs(plan, out, figures=False)
    rows = _shortfall(res.summary)
    d, c = rows["events.mine_outage.duration_days"], rows["events.mine_outage.capacity_lost"]
    np.testing.assert_allclose(rows["mean"], 50 + 10 * d * c)

    calls.clear()
    again = run_sweep(plan, out)  # a complete sweep reruns nothing
    assert calls == [] and again.computed == []


def test_oat_tornado_orders_by_swing(tmp_path):
    text = """\
sweep:
  scenario: outage.yaml
  design: oat
  params:
    events.mine_outage.duration_days: 1:60
    events.mine_outage.capacity_lost: {low: 0.5, high: 1.0}
    demand.jp_ev.priority: 0:5
"""
    plan = plan_sweep(load_sweep(write_outage(tmp_path, text)))
    assert len(plan.points) == 7  # base + 3 x (low, high)
    run_sweep(plan, tmp_path / "out")
    res = write_outputs(plan, tmp_path / "out")
    t = res.indices
    assert list(t["param"]) == ["events.mine_outage.duration_days",
                                "events.mine_outage.capacity_lost", "demand.jp_ev.priority"]
    # base: duration 10 (the scenario's), capacity_lost 1.0, priority 0
    assert t["output_base"].iloc[0] == pytest.approx(50 + 10 * 10 * 1.0)
    row = t.set_index("param").loc["events.mine_outage.duration_days"]
    assert (row["output_low"], row["output_high"]) == pytest.approx((60.0, 650.0))
    assert t["swing"].iloc[-1] == 0
    assert (tmp_path / "out" / "tornado.png").exists()
    assert (tmp_path / "out" / "tornado.csv").exists()


def test_lhs_is_seeded_and_stratified(tmp_path):
    text = """\
sweep:
  scenario: outage.yaml
  design: lhs
  samples: 8
  seed: 5
  params:
    events.mine_outage.capacity_lost: 0:1
    demand.jp_ev.cover_days: 0:8
"""
    spec = load_sweep(write_outage(tmp_path, text))
    a, b = plan_sweep(spec).design, plan_sweep(spec).design
    assert a.points == b.points
    lost = np.array([p["events.mine_outage.capacity_lost"] for p in a.points])
    assert sorted(np.floor(lost * 8).astype(int)) == list(range(8))  # one per stratum
    import dataclasses

    other = plan_sweep(dataclasses.replace(spec, seed=6)).design
    assert other.points != a.points


def test_cli_end_to_end_and_resume(tmp_path, monkeypatch):
    scenario = write_outage(tmp_path)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    args = ["sweep", str(scenario), "--param", "events.mine_outage.duration_days=10:30:10",
            "--set", "events.mine_outage.capacity_lost=0.5", "-n", "2", "--seed", "1",
            "-j", "1", "--kpi", "fill_rate", "--demand", "jp_ev", "--out", "swp"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "Sweep folder: swp" in res.output
    assert "3 run, 0 already finished" in res.output
    summary = pd.read_csv(tmp_path / "swp" / "points.csv")
    rows = summary[(summary["kpi"] == "cumulative_shortfall_t")
                   & (summary["demand_id"] == "jp_ev")]
    assert list(rows["mean"]) == pytest.approx([100.0, 150.0, 200.0])
    stamp = {p: p.stat().st_mtime_ns for p in (tmp_path / "swp" / "points").iterdir()}
    res = runner.invoke(app, args)
    assert res.exit_code == 0 and "0 run, 3 already finished" in res.output
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "swp" / "points").iterdir()} == stamp

    check = runner.invoke(app, [*args, "--check"])
    assert check.exit_code == 0 and check.output.startswith("OK 3 point(s)")


def test_cli_runs_on_a_process_pool(tmp_path):
    sweep_file = write_outage(tmp_path, GRID.replace("10:40:10", "[10, 20]"))
    res = CliRunner().invoke(app, ["sweep", str(sweep_file), "-j", "2",
                                   "--out", str(tmp_path / "pool")])
    assert res.exit_code == 0, res.output
    serial = tmp_path / "serial"
    res = CliRunner().invoke(app, ["sweep", str(sweep_file), "-j", "1", "--out", str(serial)])
    assert res.exit_code == 0, res.output
    for f in (tmp_path / "pool" / "points").iterdir():
        assert f.read_bytes() == (serial / "points" / f.name).read_bytes()
    assert not os.path.exists(tmp_path / "pool" / ".sweep.parquet.tmp")
