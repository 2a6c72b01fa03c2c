"""Bounded memory: the parent's peak RSS against the number of replications (issue 14).

Part of ``python benchmarks/run.py --memory`` (not in the default or ``--quick`` runs: the
full case takes hours on 2 cores). Each configuration runs ``critmin run`` in a fresh Python
process and records the peak RSS of that process (the parent: ordering, Parquet, summaries,
figure) and of its largest worker (``RUSAGE_CHILDREN``), as section 5 does:

- ``scenarios/baseline.yaml`` with ``-j 2`` (process pool) at each of ``--memory-n``
  (default 1,000 and 10,000);
- a small synthetic network (:func:`benchmarks.scaling.synthetic`, 10 facilities, 1 year) on
  a Dask ``LocalCluster`` (``--executor dask -j 2``) at each of ``--memory-synthetic-n``
  (default 1,000, 10,000 and 100,000).

The slopes are the least-squares slopes of the parent's and of the largest worker's peak RSS
against replications, in MiB per 1,000 replications (over the baseline sizes, and over the
synthetic sizes if more than one); flat means it does not grow with the number of
replications.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .common import ROOT, say, section, table
from .replications import CHILD

BASELINE = ROOT / "scenarios" / "baseline.yaml"
GOAL_MIB = 768


def synthetic_yaml(folder: Path, facilities: int = 10, years: int = 1) -> Path:
    """The synthetic network as a scenario file (what ``critmin run`` reads)."""
    from simulator.scenario import dump_scenario_yaml

    from .scaling import synthetic

    path = folder / f"synthetic_{facilities}_{years}y.yaml"
    path.write_text(dump_scenario_yaml(synthetic(facilities, years)), encoding="utf-8")
    return path


def run_cli(argv: Sequence[str], work: Path) -> dict:
    """``critmin <argv> --out <work>/out`` in a fresh process: its peak RSS and wall time."""
    out, report = work / "out", work / "report.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps([*argv, "--out", str(out)]),
                           str(report)], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    figures = json.loads(report.read_text()) if report.exists() else {"code": proc.returncode}
    if figures.get("code") != 0:
        sys.exit(f"critmin {' '.join(argv)} failed ({figures.get('code')}):\n{proc.stderr}")
    shutil.rmtree(out, ignore_errors=True)
    report.unlink()
    return figures


def slope(ns: Sequence[int], mib: Sequence[float]) -> float | None:
    """Least-squares slope of ``mib`` against ``ns``, in MiB per 1,000 replications."""
    if len(set(ns)) < 2:
        return None
    mx, my = sum(ns) / len(ns), sum(mib) / len(mib)
    sxx = sum((x - mx) ** 2 for x in ns)
    return 1000 * sum((x - mx) * (y - my) for x, y in zip(ns, mib, strict=True)) / sxx


def run(baseline_ns: Sequence[int] = (1000, 10000),
        synthetic_ns: Sequence[int] = (100_000,), workers: int = 2) -> dict:
    """Peak RSS of the parent and its largest worker for each configuration, and the slopes."""
    section("6. Memory: the parent's peak RSS against the number of replications")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="critmin-mem-") as tmp:
        work = Path(tmp)
        for n in baseline_ns:
            f = run_cli(["run", str(BASELINE), "-n", str(n), "-j", str(workers)], work)
            rows.append({"case": "baseline", "executor": "process pool", "n": n, **f})
            _say(rows[-1])
        if synthetic_ns:
            yaml = synthetic_yaml(work)
            for n in synthetic_ns:
                f = run_cli(["run", str(yaml), "-n", str(n), "--executor", "dask",
                             "-j", str(workers)], work)
                rows.append({"case": "synthetic 10 facilities, 1 y", "executor": "dask", "n": n,
                             **f})
                _say(rows[-1])
    base = [r for r in rows if r["case"] == "baseline"]
    syn = [r for r in rows if r["case"] != "baseline"]
    figures = {
        "memory_rows": [[r["case"], r["executor"], r["n"], round(r["self_rss_mib"], 1),
                         round(r["children_rss_mib"], 1), round(r["wall_s"], 1)]
                        for r in rows],
        "memory_parent_peak_mib": round(max((r["self_rss_mib"] for r in rows), default=0), 1),
        "memory_slope_baseline_mib_per_1000": _round(slope([r["n"] for r in base],
                                                           [r["self_rss_mib"] for r in base])),
        "memory_slope_synthetic_mib_per_1000": _round(slope([r["n"] for r in syn],
                                                            [r["self_rss_mib"] for r in syn])),
        "memory_slope_baseline_worker_mib_per_1000": _round(
            slope([r["n"] for r in base], [r["children_rss_mib"] for r in base])),
        "memory_slope_synthetic_worker_mib_per_1000": _round(
            slope([r["n"] for r in syn], [r["children_rss_mib"] for r in syn])),
        "memory_worker_peak_mib": round(max((r["children_rss_mib"] for r in rows), default=0),
                                        1),
        "memory_goal_met": all(max(r["self_rss_mib"], r["children_rss_mib"]) <= GOAL_MIB
                               for r in rows),
    }
    table([(k, v) for k, v in figures.items() if k != "memory_rows"])
    return figures


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _say(r: dict) -> None:
    say(f"  {r['case']:<30}{r['executor']:>14}{r['n']:>9,} reps  parent {r['self_rss_mib']:7.1f}"
        f" MiB  largest worker {r['children_rss_mib']:7.1f} MiB  {r['wall_s']:8.1f} s")


# ---- the parent alone: payloads replayed, no engine ---------------------------------------

REPLAY = r"""
import dataclasses, json, pickle, resource, sys, tempfile, time
from concurrent.futures import Future
from pathlib import Path
import numpy as np, pyarrow as pa
from simulator.runner import RunWriter, run_scenario
from simulator.runner.executors import SequentialEvaluator
from simulator.runner.replications import run_batch
from simulator.scenario import load_scenario

scenario, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sc = load_scenario(scenario)
pool = run_batch(sc, 0, list(range(8)))


def relabel(p, r):
    # a pickle round trip copies every buffer, as a transfer from a worker does (sharing the
    # 8 originals' buffers would make waiting tables look free)
    tables = {k: pickle.loads(pickle.dumps(
        t.set_column(0, t.schema.field(0), pa.array(np.full(t.num_rows, r, np.int32)))))
        for k, t in p.tables.items()}
    summaries = {k: v.assign(replication=np.int32(r)) for k, v in p.summaries.items()}
    return dataclasses.replace(p, replication=r, tables=tables, summaries=summaries)


class Replay(SequentialEvaluator):
    name = "replay"

    def submit(self, fn, scenario, seed, batch, disruption=None):
        fut = Future()
        fut.set_result([relabel(pool[r % len(pool)], r) for r in batch])
        return fut


t0 = time.perf_counter()
with RunWriter(sc, out_root=out) as writer, Replay() as ev:
    results = run_scenario(sc, n, seed=0, on_done=writer.record, evaluator=ev, sink=writer)
    writer.close(results)
me = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"n": n, "self_rss_mib": me.ru_maxrss / 1024,
                  "wall_s": time.perf_counter() - t0}))
"""


def replay(scenario: Path, n: int, work: Path, code_root: Path = ROOT) -> dict:
    """The parent's path alone (ordering, journal, Parquet, summaries, figure) over ``n``
    replications replayed from 8 real ones of ``scenario``, in a fresh process; its peak RSS.
    ``code_root``: the critmin checkout to measure (another one to compare versions)."""
    env = {**os.environ, "PYTHONPATH": str(code_root)}
    out = work / "replay"
    proc = subprocess.run([sys.executable, "-c", REPLAY, str(scenario), str(n), str(out)],
                          env=env, capture_output=True, text=True, cwd=code_root)
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode != 0:
        sys.exit(f"replay of {n} replications failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
