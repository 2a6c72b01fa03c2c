"""`critmin compare` writes its folder whole or not at all (issue 15, item 8): on a full disk
it exits 74 and leaves no half-written folder (engine v1 left compare.json, kpis.csv and some
figures with no report and nothing marking the folder incomplete)."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.cli import app

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("runs")
    for seed in ("0", "0"):
        done = subprocess.run([sys.executable, "-m", "simulator", "run", str(TINY), "-n", "2",
                               "--seed", seed, "--out", str(out)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    return sorted(p for p in out.glob("*/*") if p.is_dir())


@pytest.mark.slow
def test_full_disk_leaves_no_half_written_folder(runs, tmp_path, monkeypatch) -> None:
    import simulator.viz.curves as curves

    real = curves.save_figure
    calls = []

    def full_disk(fig, path):  # kpis.csv is written; the first figure finds the disk full
        calls.append(path)
        real(fig, path)  # half of it reaches the disk
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(curves, "save_figure", full_disk)
    out = tmp_path / "cmp"
    result = CliRunner().invoke(app, ["compare", str(runs[0]), str(runs[1]), "--out", str(out)])
    assert result.exit_code == 74, result.output
    assert len(calls) == 1
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no hidden temp folder either


def test_a_finished_comparison_appears_whole(runs, tmp_path) -> None:
    out = tmp_path / "cmp"
    out.mkdir()  # an empty --out made beforehand is used
    result = CliRunner().invoke(app, ["compare", str(runs[0]), str(runs[1]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {"report.html", "compare.json", "kpis.csv"} <= {p.name for p in out.iterdir()}
    assert [p.name for p in tmp_path.iterdir()] == ["cmp"]
    again = CliRunner().invoke(app, ["compare", str(runs[0]), str(runs[1]), "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert (tmp_path / "cmp-2" / "report.html").is_file()  # a full --out is never mixed into
