"""SIGTERM and SIGHUP (kill, timeout, batch schedulers, container stops, a closed terminal)
stop `run` and `sweep` as Ctrl-C does: finished work kept, the signal named, exit 128 + N."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simulator.runner.signals import (
    SigintGuard,
    StopSignal,
    confirm_stop,
    hold_stop_signals,
    stop_signals,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
# ~0.5 s per replication (daily steps over 50 years): each is its own Parquet row group
SLOW = ["--set", "simulation.step_days=1", "--set", "end_date=2074-01-01"]
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("CRITMIN_DEBUG", None)
    return env


def _critmin(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "simulator", *args], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(proc: subprocess.Popen, found, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if found():
            return
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the command made no progress in time")


def _row_group_on_disk(out: Path):
    def found() -> bool:
        return any(f.stat().st_size > 1000
                   for f in out.glob("tiny/.*.tmp-*/timeseries.parquet/part-*.parquet"))
    return found


@pytest.mark.parametrize(("sig", "workers"), [("SIGTERM", "2"), ("SIGHUP", "1")])
def test_run_keeps_finished_replications_on_sigterm_and_sighup(tmp_path, sig, workers):
    signum = getattr(signal, sig)
    proc = _critmin("run", str(TINY), "-n", "20", "-j", workers, "--seed", "2", "--out", "out",
                    *SLOW, cwd=tmp_path)
    _wait_for(proc, _row_group_on_disk(tmp_path / "out"))
    proc.send_signal(signum)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 10
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err
    assert f"critmin: interrupted by {sig} after " in err
    assert "of 20 replication(s); kept in" in err
    (run_dir,) = (tmp_path / "out" / "tiny").iterdir()  # published, no temp folder left
    m = json.loads((run_dir / "manifest.json").read_text())
    assert m["status"] == "interrupted" and 1 <= m["replications_completed"] < 20
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    assert ts["replication"].nunique() == m["replications_completed"]


@pytest.mark.slow
def test_run_on_dask_keeps_finished_replications_on_sigterm(tmp_path):
    pytest.importorskip("distributed")
    proc = _critmin("run", str(TINY), "-n", "20", "-j", "2", "--executor", "dask",
                    "--out", "out", *SLOW, cwd=tmp_path)
    _wait_for(proc, _row_group_on_disk(tmp_path / "out"))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "critmin: interrupted by SIGTERM after " in err and "Traceback" not in err
    (run_dir,) = (tmp_path / "out" / "tiny").iterdir()
    m = json.loads((run_dir / "manifest.json").read_text())
    assert m["status"] == "interrupted" and m["executor"] == "dask"
    assert m["replications_completed"] >= 1


@pytest.mark.slow
def test_sweep_keeps_finished_points_on_sigterm_and_resumes(tmp_path):
    args = ["sweep", str(TINY), "--param", "demand.jp_ev.rate_tpy=500:1200:100", "-j", "2",
            "--out", "swp", *SLOW]
    proc = _critmin(*args, cwd=tmp_path)
    _wait_for(proc, lambda: any((tmp_path / "swp" / "points").glob("*.parquet")))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "critmin: interrupted by SIGTERM after " in err and "Traceback" not in err
    assert "of 8 point(s); finished points kept in swp" in err
    kept = len(list((tmp_path / "swp" / "points").glob("*.parquet")))
    assert 1 <= kept < 8
    assert json.loads((tmp_path / "swp" / "sweep.json").read_text())["status"] == "interrupted"

    again = subprocess.run([sys.executable, "-m", "simulator", *args], cwd=tmp_path,
                           env=_env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{8 - kept} run, {kept} already finished" in again.stdout


def test_signals_are_held_between_runs_and_noted_while_saving():
    """Outside a run the command line holds a stop signal (a run then stops at once); while
    saving, the first one is only noted and a second one abandons."""
    notes: list[int] = []
    with stop_signals(), hold_stop_signals() as held:
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # never kill pytest
        signal.raise_signal(signal.SIGTERM)  # to this thread: handled at once
        time.sleep(0.05)
        assert held.signum == signal.SIGTERM
        with pytest.raises(StopSignal) as info, SigintGuard():
            pytest.fail("a held signal stops the next run before it starts")
        assert info.value.exit_code == 143 and held.signum is None
        with confirm_stop(notes.append):
            signal.raise_signal(signal.SIGHUP)
            time.sleep(0.05)
            assert notes == [signal.SIGHUP]
            with pytest.raises(StopSignal):
                signal.raise_signal(signal.SIGHUP)
                time.sleep(1)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sweep_outputs_on_a_full_disk_leave_status_not_complete(tmp_path, monkeypatch):
    """The disk fills up while the derived outputs are written: exit 74, and sweep.json does
    not claim `complete` while points.csv is missing; the same command finishes them later."""
    import errno

    from typer.testing import CliRunner

    from simulator.cli import app
    from simulator.sweep import outputs

    real = outputs.atomic_write

    def full_disk(path, write):
        if path.name == "points.csv":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, write)

    monkeypatch.setattr(outputs, "atomic_write", full_disk)
    args = ["sweep", str(TINY), "--param", "demand.jp_ev.rate_tpy=800,1200", "-j", "1",
            "--out", str(tmp_path / "swp")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 74, res.output
    assert "No space left on device" in res.output
    assert not (tmp_path / "swp" / "points.csv").exists()
    assert json.loads((tmp_path / "swp" / "sweep.json").read_text())["status"] != "complete"

    monkeypatch.setattr(outputs, "atomic_write", real)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "0 run, 2 already finished" in res.output
    assert (tmp_path / "swp" / "points.csv").exists()
    assert json.loads((tmp_path / "swp" / "sweep.json").read_text())["status"] == "complete"
