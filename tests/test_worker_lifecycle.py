"""Pool workers: a dead worker is named with its replications, a dead parent takes its
workers with it, and the pool stops cleanly (public multiprocessing API only)."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.runner import ProcessPoolEvaluator, RunFailed, run_scenario
from simulator.runner import replications as reps_mod
from simulator.scenario import load_scenario

psutil = pytest.importorskip("psutil")

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
# ~0.5 s per replication (daily steps over 50 years)
SLOW = ["--set", "simulation.step_days=1", "--set", "end_date=2074-01-01"]
HAS_FORK = "fork" in multiprocessing.get_all_start_methods()
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="process-tree checks written for Linux")


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("CRITMIN_DEBUG", None)
    return env


def _critmin(*args: str, cwd: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "simulator", *args], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _workers(proc: subprocess.Popen, n: int, timeout: float = 60) -> list:
    """Wait until ``proc`` has ``n`` child processes that have started computing."""
    deadline = time.monotonic() + timeout
    parent = psutil.Process(proc.pid)
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        kids = parent.children()
        if len(kids) >= n and all(k.cpu_times().user > 0.2 for k in kids):
            return kids
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"{n} busy workers did not show up in time")


def _gone(p) -> bool:
    try:
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _die_at(replication: int, slow: int | None = None):
    real = reps_mod.run_one

    def run_one(scenario, seed, r):
        if r == slow:
            time.sleep(2)
        if r == replication:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(scenario, seed, r)

    return run_one


@pytest.mark.skipif(not HAS_FORK, reason="needs the fork start method to patch workers")
def test_dead_worker_names_its_own_replications(monkeypatch):
    """Replication 2's worker is SIGKILLed while the other worker is still on replication 1:
    the error names replication 2 (it used to name the first unfinished one, 1)."""
    tiny = load_scenario(TINY)
    monkeypatch.setattr(reps_mod, "run_one", _die_at(2, slow=1))
    ev = ProcessPoolEvaluator(2, mp_context="fork")
    with ev, pytest.raises(RunFailed) as info:
        run_scenario(tiny, 4, seed=0, evaluator=ev)
    assert re.search(r"a worker process died while running replication\(s\) 2 \(seed 0\): "
                     r"worker process \d+ was killed by signal 9 \(SIGKILL\)",
                     str(info.value)), str(info.value)
    assert info.value.partial.replication_ids == [0]


@pytest.mark.slow
def test_cli_sigkilled_worker_is_named(tmp_path):
    """`critmin run -j 2`; one pool worker is SIGKILLed mid-run: exit 70 naming that worker
    (pid, signal) and the replications it was running; the finished ones are kept in the
    staging folder, and `critmin run --resume` completes the run."""
    proc = _critmin("run", str(TINY), "-n", "20", "-j", "2", "--out", "out", *SLOW,
                    cwd=tmp_path)
    victim = _workers(proc, 2)[0]
    deadline = time.monotonic() + 60  # until a replication is saved
    while not any(p.stat().st_size for p in tmp_path.glob("out/tiny/.*/journal.jsonl")):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 70, err
    assert "Traceback" not in err
    m = re.search(r"critmin: a worker process died while running replication\(s\) ([\d,-]+) "
                  rf"\(seed 0\): worker process {victim.pid} was killed by signal 9 "
                  r"\(SIGKILL\)", err)
    assert m, err
    (staging,) = (tmp_path / "out" / "tiny").iterdir()
    assert f"resume with: critmin run --resume {Path('out') / 'tiny' / staging.name}" in err
    journal = (staging / "journal.jsonl").read_text().splitlines()
    saved = {json.loads(line)["replication"] for line in journal}
    assert _ids(m.group(1)) and saved and not _ids(m.group(1)) & saved

    resumed = _critmin("run", "--resume", str(staging), "-j", "2", cwd=tmp_path)
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    (run_dir,) = (tmp_path / "out" / "tiny").iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["completed_ids"] == "0-19"


def _ids(text: str) -> set[int]:
    """``"0-2,5"`` -> ``{0, 1, 2, 5}``."""
    out: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        out.update(range(int(low), int(high or low) + 1))
    return out


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_workers_exit_when_the_parent_is_sigkilled(tmp_path, command):
    """SIGKILL the parent of a -j 2 pool: its workers exit within seconds (they used to run
    on, re-parented to PID 1)."""
    args = (["run", str(TINY), "-n", "200"] if command == "run" else
            ["sweep", str(TINY), "--param", "demand.jp_ev.rate_tpy=500:1500:10"])
    proc = subprocess.Popen([sys.executable, "-m", "simulator", *args, "-j", "2", "--out",
                             "out", *SLOW], cwd=tmp_path, env=_env(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = _workers(proc, 2)
    try:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10 and not all(_gone(w) for w in workers):
            time.sleep(0.1)
        alive = [w.pid for w in workers if not _gone(w)]
        assert not alive, f"workers {alive} still running 10 s after their parent died"
    finally:
        for w in workers:
            if not _gone(w):
                w.kill()


_HALF_RESULT = r'''
import os, struct, sys, time
from simulator.runner import ProcessPoolEvaluator

def send_half_a_result():
    # the worker loop's result pipe (a multiprocessing Connection) is a local of a caller
    frame = sys._getframe()
    while "results" not in frame.f_locals:
        frame = frame.f_back
    fd = frame.f_locals["results"].fileno()
    os.write(fd, struct.pack("!i", 1_000_000) + b"partial")  # 1 MB announced
    time.sleep(600)

if __name__ == "__main__":
    ev = ProcessPoolEvaluator(1, mp_context="fork")
    fut = ev.submit(send_half_a_result)
    time.sleep(1.0)  # the pool is now waiting for the rest of the message
    ev.abort()
    print("aborted", type(fut.exception(timeout=10)).__name__, flush=True)
'''


@pytest.mark.skipif(not HAS_FORK, reason="needs the fork start method")
def test_abort_does_not_hang_on_a_half_sent_result(tmp_path):
    """A worker killed while sending a result leaves a truncated message in its pipe; abort()
    returns and the process exits."""
    script = tmp_path / "half.py"
    script.write_text(_HALF_RESULT)
    proc = subprocess.Popen([sys.executable, str(script)], env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the process hung after abort()")
    assert proc.returncode == 0, err
    assert out.split() == ["aborted", "BrokenProcessPool"]

