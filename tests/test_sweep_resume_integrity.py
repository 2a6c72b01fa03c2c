"""Resuming a sweep over damaged point files: a truncated, corrupted or foreign point file is
named on standard error, set aside and recomputed, and the sweep's numbers are right."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_sweep import write_outage
from typer.testing import CliRunner

from simulator.cli import app

#: duration 10, 20, 30 days at half capacity: shortfall 50 + 10 * D * 0.5 = 100, 150, 200 t.
ARGS = ["--param", "events.mine_outage.duration_days=10:30:10",
        "--set", "events.mine_outage.capacity_lost=0.5", "-n", "2", "--seed", "1", "-j", "1",
        "--kpi", "fill_rate", "--demand", "jp_ev", "--out", "swp"]
EXPECTED = [100.0, 150.0, 200.0]


def sweep(folder: Path):
    return CliRunner().invoke(app, ["sweep", str(folder / "outage.yaml"), *ARGS])


@pytest.fixture
def swept(tmp_path, monkeypatch) -> tuple[Path, list[Path]]:
    """A finished sweep (cwd = tmp_path) and its point files in design order."""
    write_outage(tmp_path)
    monkeypatch.chdir(tmp_path)
    res = sweep(tmp_path)
    assert res.exit_code == 0, res.output
    hashes = pd.read_csv(tmp_path / "swp" / "points.csv").drop_duplicates("point")["hash"]
    return tmp_path, [Path("swp") / "points" / f"{h}.parquet" for h in hashes]


def _shortfalls(folder: Path) -> list[float]:
    s = pd.read_csv(folder / "swp" / "points.csv")
    rows = s[(s["kpi"] == "cumulative_shortfall_t") & (s["demand_id"] == "jp_ev")]
    return list(rows.sort_values("point")["mean"])


def _resumed(folder: Path, damaged: Path, *words: str) -> str:
    """Rerun the sweep: it names ``damaged``, recomputes that point only, and is right."""
    others = {p: p.stat().st_mtime_ns for p in damaged.parent.glob("*.parquet") if p != damaged}
    res = sweep(folder)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output and "this is a bug" not in res.output
    warning = [line for line in res.output.splitlines() if str(damaged) in line]
    assert warning and warning[0].startswith("critmin: warning: "), res.output
    for w in words:
        assert w in warning[0], warning[0]
    assert "1 run, 2 already finished" in res.output
    assert _shortfalls(folder) == pytest.approx(EXPECTED)
    assert damaged.is_file()  # recomputed
    assert damaged.with_name(damaged.name + ".damaged").is_file()  # the bad one set aside
    assert {p: p.stat().st_mtime_ns for p in others} == others  # the others untouched
    again = sweep(folder)  # and now it is whole
    assert again.exit_code == 0 and "0 run, 3 already finished" in again.output
    assert "warning" not in again.output
    return warning[0]


def test_truncated_point_file_is_recomputed(swept):
    folder, files = swept
    files[2].write_bytes(files[2].read_bytes()[:500])
    _resumed(folder, files[2], "cannot be read")


def test_corrupted_point_file_is_recomputed(swept):
    folder, files = swept
    data = bytearray(files[1].read_bytes())
    data[100:108] = bytes(b ^ 0xFF for b in data[100:108])
    files[1].write_bytes(bytes(data))
    _resumed(folder, files[1])


def test_foreign_point_file_is_recomputed(swept):
    folder, files = swept
    files[2].write_bytes(files[1].read_bytes())  # point 1's valid results under point 2's name
    line = _resumed(folder, files[2], files[1].stem)
    assert "another point" in line


def test_point_file_without_identity_is_recomputed(swept):
    folder, files = swept
    frame = pd.read_parquet(files[0])  # the right numbers, but nothing says whose they are
    frame.to_parquet(files[0], index=False)
    _resumed(folder, files[0], "identity")


def test_points_computed_by_another_model_are_recomputed(swept, monkeypatch):
    """A point file records the model that computed it; after a change to the model, resuming
    recomputes every point and says why."""
    import simulator.sweep.points

    folder, files = swept
    old = simulator.sweep.points.model_fingerprint()
    monkeypatch.setattr(simulator.sweep.points, "model_fingerprint", lambda: "0123456789abcdef")
    res = sweep(folder)
    assert res.exit_code == 0, res.output
    warnings = [line for line in res.output.splitlines() if line.startswith("critmin: warning")]
    assert len(warnings) == 3, res.output
    for f in files:
        assert any(str(f) in w for w in warnings), (f, warnings)
    assert all(f"another model ('{old}', not '0123456789abcdef')" in w for w in warnings)
    assert "3 run, 0 already finished" in res.output
    assert _shortfalls(folder) == pytest.approx(EXPECTED)
