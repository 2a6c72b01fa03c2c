"""SIGKILL of ``critmin run`` at seeded random moments, then ``--resume``: the same files,
byte for byte, as a run that was never killed (issue 14)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simulator.runner.tables import TABLES

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
# Daily steps over 25 years: ~0.3 s per replication, so kills land mid-run.
SLOW = ["--set", "simulation.step_days=1", "--set", "end_date=2049-01-01"]
N = 8


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("CRITMIN_DEBUG", None)
    return env


def _critmin(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "simulator", *args], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _journaled(out: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in out.glob("tiny/.*.tmp-*/journal.jsonl"))


def _kill_after(proc: subprocess.Popen, out: Path, lines: int, delay: float) -> bool:
    """SIGKILL ``proc`` ``delay`` seconds after the journal holds ``lines`` lines; whether
    it was killed (False: it had finished first, on a fast machine)."""
    deadline = time.monotonic() + 60
    while _journaled(out) < lines and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(delay)
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return alive and proc.returncode == -signal.SIGKILL


def _staging(out: Path) -> Path:
    (staging,) = out.glob("tiny/.*.tmp-*")
    return staging


@pytest.fixture(scope="module")
def never_killed(tmp_path_factory) -> Path:
    """The run never killed, shared by both worker counts: its files are the same with -j 1
    and -j 2 (only the manifest's executor and timings differ, and the manifest's list of
    checksums leaves the manifest out)."""
    folder = tmp_path_factory.mktemp("ref")
    ref = _critmin("run", str(TINY), "-n", str(N), "--seed", "5", "-j", "1", *SLOW,
                   "--out", "ref", cwd=folder)
    _, ref_err = ref.communicate(timeout=120)
    assert ref.returncode == 0, ref_err
    (theirs,) = (folder / "ref").glob("tiny/*")
    return theirs


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigkilled_runs_resume_bit_identical(tmp_path, workers, never_killed):
    rng = random.Random(14 + int(workers))
    out = tmp_path / "out"
    proc = _critmin("run", str(TINY), "-n", str(N), "--seed", "5", "-j", workers, *SLOW,
                    "--out", "out", cwd=tmp_path)
    killed = _kill_after(proc, out, rng.randint(1, 2), rng.uniform(0, 0.5))
    assert killed, "the first run finished before its kill: make SLOW slower"
    for _ in range(2):  # kill the resumed run too, at another random moment
        before = _journaled(out)
        if before >= N or not killed:
            break
        proc = _critmin("run", "--resume", str(_staging(out)), "-j", workers, cwd=tmp_path)
        killed = _kill_after(proc, out, before + rng.randint(1, 2), rng.uniform(0, 0.5))
    if killed:  # (a resumed run may finish before its kill: then it is already published)
        assert not list(out.glob("tiny/2*")), "a killed run published a folder"
        proc = _critmin("run", "--resume", str(_staging(out)), "-j", workers, cwd=tmp_path)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "Traceback" not in err

    (mine,) = out.glob("tiny/*")  # published; no staging folder left
    theirs = never_killed
    assert mine.name == theirs.name or mine.name.split("-")[1] == theirs.name.split("-")[1]
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(mine / f"{name}.parquet"),
                                      pd.read_parquet(theirs / f"{name}.parquet"))
    files = [json.loads((d / "manifest.json").read_text())["files"] for d in (mine, theirs)]
    assert ({f["name"]: f["sha256"] for f in files[0]}
            == {f["name"]: f["sha256"] for f in files[1]})
    manifest = json.loads((mine / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["replications_completed"] == N


def _points(out: Path) -> list[Path]:
    return sorted((out / "points").glob("*.parquet")) if (out / "points").is_dir() else []


@pytest.mark.slow
def test_sigkilled_sweep_resumes_to_the_same_result(tmp_path):
    """SIGKILL `critmin sweep` once a point file is on disk; rerunning the same command
    skips the finished points (their files untouched) and gives the same tables as a sweep
    that was never killed."""
    args = ["sweep", str(TINY), "--param", "demand.jp_ev.rate_tpy=500:1500:200", "-n", "2",
            "--seed", "2", "-j", "1", *SLOW]
    ref = _critmin(*args, "--out", "ref", cwd=tmp_path)
    out = tmp_path / "swp"
    proc = _critmin(*args, "--out", "swp", cwd=tmp_path)
    deadline = time.monotonic() + 60
    while len(_points(out)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    finished = {p: p.read_bytes() for p in _points(out)}
    assert 2 <= len(finished) < 6
    for p in finished:  # every point file on disk is whole
        assert len(pd.read_parquet(p)) > 0

    again = _critmin(*args, "--out", "swp", cwd=tmp_path)
    stdout, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert f"{6 - len(finished)} run, {len(finished)} already finished" in stdout + err
    assert {p: p.read_bytes() for p in finished} == finished
    _, ref_err = ref.communicate(timeout=120)
    assert ref.returncode == 0, ref_err
    for name in ("sweep.parquet",):
        pd.testing.assert_frame_equal(pd.read_parquet(out / name),
                                      pd.read_parquet(tmp_path / "ref" / name))
    assert ([p.read_bytes() for p in _points(out)]
            == [p.read_bytes() for p in _points(tmp_path / "ref")])
