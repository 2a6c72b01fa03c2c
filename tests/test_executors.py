"""Evaluators and streamed runs: identical files whatever runs the replications."""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from simulator.report.run_figures import draw_run_figures
from simulator.runner import (
    DaskEvaluator,
    ExecutorUnavailable,
    ProcessPoolEvaluator,
    RunWriter,
    SequentialEvaluator,
    make_evaluator,
    run_batch,
    run_scenario,
    write_run,
)
from simulator.runner import store as store_mod
from simulator.runner.executors import Evaluator
from simulator.runner.replications import ReplicationPayload, format_ids
from simulator.runner.summaries import SectorCurve, curve_frame
from simulator.scenario import load_scenario
from tests.conftest import run_file_digests

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
SHORT = ["demand.jp_ev.rate_tpy=2500",  # short of supply: KPIs and figures have content
         # ... and a reserve that releases into it (stockpiles.parquet has rows)
         "stockpiles.jp_reserve={country: JP, material: oxide, holdings_t: 1000, "
         "release: {threshold: 0.9, max_release_tpy: 500}}",
         # ... and random draws (outages, licence approvals and delays), so identical files
         # across executors mean every replication drew from its own streams
         "events.breakdowns={type: facility_outage, facilities: [my_refinery], "
         "random: {failures_per_year: 6, mean_repair_days: {triangular: [5, 10, 20]}}}",
         "events.licences={type: export_control, exporter: MY, materials: [oxide], "
         "destinations: [JP], mode: licence, effective: 2024-09-01, "
         "licence: {approval_probability: 0.7, delay_days: {triangular: [14, 30, 60]}}}"]
N, SEED = 24, 5


@pytest.fixture(scope="module")
def tiny():
    return load_scenario(TINY, overrides=SHORT)


def digests(run_dir: Path) -> dict[str, str]:
    return run_file_digests(run_dir)


def streamed(scenario, evaluator, out: Path, replications=N, seed=SEED) -> Path:
    with evaluator as ev, RunWriter(scenario, out_root=out, figures=draw_run_figures) as writer:
        results = run_scenario(scenario, replications, seed=seed, evaluator=ev, sink=writer)
        assert results.timeseries is None  # streamed, not kept
        return writer.close(results)


class ShuffledEvaluator(Evaluator):
    """Threads with random delays: batches finish in a scrambled order."""

    name = "shuffled"
    in_process = False
    max_workers = 4

    def __init__(self):
        self._pool = ThreadPoolExecutor(4)
        self._rng = random.Random(1)
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._lock:
            delay = self._rng.random() * 0.05

        def call():
            time.sleep(delay)
            return fn(*args, **kwargs)

        return self._pool.submit(call)

    def shutdown(self, wait=True, *, cancel_futures=False):
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


@pytest.fixture(scope="module")
def reference(tiny, tmp_path_factory):
    """The sequential run, with small row groups so several are written."""
    out = tmp_path_factory.mktemp("seq")
    mp = pytest.MonkeyPatch()
    mp.setattr(store_mod, "ROW_GROUP_MIN_ROWS", 500)
    try:
        run_dir = streamed(tiny, SequentialEvaluator(), out)
    finally:
        mp.undo()
    return run_dir


def test_sequential_run_folder(reference, tiny):
    m = json.loads((reference / "manifest.json").read_text())
    assert m["status"] == "complete" and m["executor"] == "sequential" and m["workers"] == 1
    assert m["replications"] == N and m["replications_completed"] == N
    assert m["replication_ids"] == m["completed_ids"] == f"0-{N - 1}"
    assert m["error"] is None
    # a small run: each table one part file
    assert [p.name for p in (reference / "timeseries.parquet").iterdir()] == \
        ["part-00000.parquet"]
    meta = pq.ParquetFile(reference / "timeseries.parquet" / "part-00000.parquet").metadata
    assert meta.num_row_groups > 1  # streamed in several row groups
    ts = pd.read_parquet(reference / "timeseries.parquet")
    assert sorted(ts["replication"].unique()) == list(range(N))
    # one stockpile, one demand sector: as many stockpile rows, in the same row groups
    sp = pq.ParquetFile(reference / "stockpiles.parquet" / "part-00000.parquet").metadata
    assert sp.num_rows == len(ts) and sp.num_row_groups == meta.num_row_groups
    order = ts.sort_values(["replication", "day", "country", "sector", "demand_id"],
                           key=lambda s: s.astype(str) if s.dtype == "category" else s,
                           kind="stable").index
    assert list(order) == list(ts.index)
    kpis = pd.read_csv(reference / "kpis.csv")
    assert list(kpis["replication"]) == list(range(N))
    # the draws differ by replication (else identical files would prove little)
    assert kpis["cumulative_shortfall_t"].nunique() > N // 2


def test_process_pool_gives_identical_files(reference, tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "ROW_GROUP_MIN_ROWS", 500)
    run_dir = streamed(tiny, ProcessPoolEvaluator(2), tmp_path)
    assert digests(run_dir) == digests(reference)
    m = json.loads((run_dir / "manifest.json").read_text())
    assert m["executor"] == "process-pool" and m["workers"] == 2


def test_completion_order_does_not_matter(reference, tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "ROW_GROUP_MIN_ROWS", 500)
    run_dir = streamed(tiny, ShuffledEvaluator(), tmp_path)
    assert digests(run_dir) == digests(reference)


def test_in_memory_results_write_the_same_files(reference, tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "ROW_GROUP_MIN_ROWS", 500)
    results = run_scenario(tiny, N, seed=SEED)
    assert results.timeseries is not None and results.replications == N
    assert digests(write_run(results, tiny, out_root=tmp_path,
                             figures=draw_run_figures)) == digests(reference)


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_files(reference, tiny, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(store_mod, "ROW_GROUP_MIN_ROWS", 500)
    run_dir = streamed(tiny, DaskEvaluator(workers=2), tmp_path)
    assert digests(run_dir) == digests(reference)
    m = json.loads((run_dir / "manifest.json").read_text())
    assert m["executor"] == "dask" and m["workers"] == 2
    assert m["scheduler"].startswith("LocalCluster")



def _profiling(dask_worker) -> bool:
    return "profile" in dask_worker.periodic_callbacks


def test_dask_local_cluster_workers_do_not_profile():
    """Each Dask worker's statistical profiler keeps a call tree per second for 1,000 s: it
    grew every worker by ~40 MiB per 1,000 synthetic replications. critmin's LocalCluster
    has no dashboard to show it, so its workers run without it (the caller's config stays)."""
    pytest.importorskip("distributed")
    import dask

    before = dask.config.get("distributed.worker.profile.enabled")
    with DaskEvaluator(workers=1) as ev:
        assert ev._client.run(_profiling) == {a: False for a in ev._client.nthreads()}
    assert dask.config.get("distributed.worker.profile.enabled") == before

def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("CRITMIN_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "simulator", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_cli_workers_and_replication_alone(tiny, tmp_path):
    """-j 2 equals the library's sequential run; --replication 3 equals replication 3 of -n 5."""
    common = ["--seed", str(SEED), *[a for s in SHORT for a in ("--set", s)]]
    full = _cli("run", str(TINY), "-n", "5", "-j", "2", *common, "--out", "full", cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    alone = _cli("run", str(TINY), "--replication", "3", *common, "--out", "alone",
                 cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    (full_dir,) = (tmp_path / "full" / "tiny").iterdir()
    (alone_dir,) = (tmp_path / "alone" / "tiny").iterdir()

    lib = streamed(tiny, SequentialEvaluator(), tmp_path / "lib", replications=5)
    assert digests(full_dir) == digests(lib)
    assert json.loads((full_dir / "manifest.json").read_text())["executor"] == "process-pool"

    m = json.loads((alone_dir / "manifest.json").read_text())
    assert m["status"] == "complete" and m["replications"] == 1
    assert m["replication_ids"] == m["completed_ids"] == "3"
    for table in ("timeseries", "flows", "production", "stockpiles"):
        a = pd.read_parquet(alone_dir / f"{table}.parquet")
        f = pd.read_parquet(full_dir / f"{table}.parquet")
        f = f[f["replication"] == 3].reset_index(drop=True)
        assert len(a) > 0 and (a["replication"] == 3).all()
        pd.testing.assert_frame_equal(a, f, check_categorical=False)
    ka = pd.read_csv(alone_dir / "kpis.csv")
    kf = pd.read_csv(full_dir / "kpis.csv")
    pd.testing.assert_frame_equal(ka, kf[kf["replication"] == 3].reset_index(drop=True))


def test_payload_is_compact(tiny):
    (payload,) = run_batch(tiny, SEED, [2])
    assert isinstance(payload, ReplicationPayload) and payload.replication == 2
    for df in (*payload.summaries.values(), payload.sector_stats, payload.balance):
        assert len(df) < 100  # small tables only; the daily series travel as Arrow
    assert payload.curve.fill_rate.dtype == np.float32
    assert pickle.loads(pickle.dumps(payload)).tables["timeseries"].equals(
        payload.tables["timeseries"])


def test_replications_are_independent_of_batching(tiny):
    together = run_batch(tiny, SEED, [0, 1, 2])
    alone = run_batch(tiny, SEED, [1])
    assert together[1].tables["timeseries"].equals(alone[0].tables["timeseries"])
    assert not together[0].tables["timeseries"].equals(together[1].tables["timeseries"])


def test_evaluators_are_executors():
    with SequentialEvaluator() as ev:
        assert list(ev.map(pow, [2, 3], [2, 2])) == [4, 9]
        fut = ev.submit(int, "x")
        assert isinstance(fut.exception(), ValueError)
    with ProcessPoolEvaluator(2) as ev:
        assert not ev.started and ev.describe()["executor"] == "sequential"
        assert list(ev.map(pow, [2, 3], [2, 2])) == [4, 9]
        assert ev.started and ev.describe() == {"executor": "process-pool", "workers": 2}


def test_make_evaluator_choices():
    assert isinstance(make_evaluator("local", 1), SequentialEvaluator)
    pool = make_evaluator("local", 3)
    assert isinstance(pool, ProcessPoolEvaluator) and pool.max_workers == 3
    assert pool.inline_below_s is None
    auto = make_evaluator("local", None)
    assert isinstance(auto, SequentialEvaluator | ProcessPoolEvaluator)
    assert isinstance(make_evaluator("dask", 2), DaskEvaluator)
    with pytest.raises(ValueError, match="--executor dask"):
        make_evaluator("local", None, "tcp://127.0.0.1:8786")


def test_auto_pool_runs_small_runs_in_process(tiny):
    ev = ProcessPoolEvaluator(2, inline_below_s=60.0)
    with ev:
        results = run_scenario(tiny, 3, seed=SEED, evaluator=ev)
    assert not ev.started and results.complete
    assert results.executor == {"executor": "sequential", "workers": 1}


def test_dask_missing_is_reported(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    with pytest.raises(ExecutorUnavailable, match=r"critmin\[dask\]"), DaskEvaluator():
        pass


def test_figure_percentiles_from_many_replications():
    rng = np.random.default_rng(0)
    days = np.arange(0, 70, 7, dtype=np.int32)
    curves = [(r, SectorCurve(days, ("a", "b"), rng.random((10, 2)).astype(np.float32),
                              (rng.random((10, 2)) * 5).astype(np.float32)))
              for r in range(150)]
    start = pd.Timestamp("2024-01-01").date()
    frame = curve_frame(curves, start)
    assert frame["replication"].nunique() == 101  # percentile curves, not 150 replications
    fill = np.stack([c.fill_rate for _, c in curves]).astype(np.float64)
    wide = frame.pivot_table(index=["day", "sector"], columns="replication",
                             values="delivered_t", observed=True).to_numpy()
    for q in (5, 25, 50, 75, 95):
        expect = np.percentile(fill, q, axis=0).ravel()
        np.testing.assert_array_equal(np.percentile(wide, q, axis=1), expect)
    few = curve_frame(curves[:20], start)
    assert sorted(few["replication"].unique()) == list(range(20))
    assert (few["demand_t"] == 1.0).all()


def test_format_ids():
    assert format_ids([]) == ""
    assert format_ids([3]) == "3"
    assert format_ids([5, 0, 1, 2, 7, 8]) == "0-2,5,7-8"


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin",
                    reason="needs a pseudo-terminal")
def test_progress_bar_only_on_a_terminal(tmp_path):
    import pty

    args = [sys.executable, "-m", "simulator", "run", str(TINY), "-n", "4", "-j", "1",
            "--out", str(tmp_path / "tty")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout and stderr are the terminal
        os.execve(sys.executable, args, env)
    output = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, output.decode(errors="replace")
    assert b"replications" in output and b"4/4" in output

    piped = _cli("run", str(TINY), "-n", "4", "-j", "1", "--out", "piped", cwd=tmp_path)
    assert piped.returncode == 0 and piped.stderr == ""
