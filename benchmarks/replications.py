"""Monte Carlo at scale: N replications of a scenario with -j 1 and -j 2, through the CLI.

Part of ``python benchmarks/run.py`` (section 5; ``--only replications`` to run it alone).

Each configuration runs ``critmin run SCENARIO -n N -j J`` in a fresh Python process (so its
memory is its own) and records the wall time, the replication phase (the manifest's
``wall_seconds``: first replication started to last one on disk) and peak RSS: of the CLI
process (``RUSAGE_SELF``) and of its largest worker (``RUSAGE_CHILDREN``). ``peak_rss_mib`` is
the largest ``self + children`` over the configurations; ``peak_rss_all_workers_mib`` bounds
the whole process tree (self + J x largest worker).

With ``--quick``, N = 100 and the figures for 1,000 are extrapolated: the fixed cost (start-up,
final KPIs and figures) once plus ten times the replication phase.

The machine's own ceiling is measured around the ``-j 2`` run: the same engine replications in
one process alone, then in two processes at once (``machine_speedup_j2`` = 2 x alone / together;
2.0 on two idle, independent cores, less when the two vCPUs share a physical core or the host is
busy). ``parallel_efficiency_j2`` = ``parallel_speedup_j2`` / that ceiling is the part critmin
controls.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, say, section, table

# Runs in the child process: the CLI in-process, then its own and its workers' peak RSS.
CHILD = r"""
import json, resource, sys, time
from simulator import cli
argv, report = json.loads(sys.argv[1]), sys.argv[2]
t0 = time.perf_counter()
try:
    cli.main(argv)
    code = 0
except SystemExit as exc:
    code = exc.code
wall = time.perf_counter() - t0
kib = 1024 if sys.platform != "darwin" else 1024 * 1024  # ru_maxrss: KiB (Linux), B (macOS)
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(report, "w") as f:
    json.dump({"code": code, "wall_s": wall,
               "self_rss_mib": me.ru_maxrss / kib, "children_rss_mib": kids.ru_maxrss / kib,
               "self_cpu_s": me.ru_utime + me.ru_stime,
               "children_cpu_s": kids.ru_utime + kids.ru_stime}, f)
"""


def _engine_work(scenario: str, reps: int, barrier, out) -> None:
    from simulator.engine import run_replication
    from simulator.scenario import load_scenario

    sc = load_scenario(scenario)
    run_replication(sc, seed=0, replication=0)  # warm caches
    barrier.wait()
    t0 = time.perf_counter()
    for r in range(reps):
        run_replication(sc, seed=0, replication=r)
    out.put(time.perf_counter() - t0)


def machine_speedup(scenario: str, reps: int = 6) -> float:
    """2 x (seconds for ``reps`` replications alone) / (mean seconds, two processes at once)."""
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                      else "spawn")
    walls = {}
    for k in (1, 2):
        barrier, out = ctx.Barrier(k), ctx.Queue()
        procs = [ctx.Process(target=_engine_work, args=(scenario, reps, barrier, out))
                 for _ in range(k)]
        for p in procs:
            p.start()
        walls[k] = sum(out.get() for _ in procs) / k
        for p in procs:
            p.join()
    return 2 * walls[1] / walls[2]


def run_config(scenario: str, n: int, workers: int, seed: int, work: Path) -> dict:
    out = work / f"j{workers}"
    report = work / f"j{workers}.json"
    argv = ["run", scenario, "-n", str(n), "-j", str(workers), "--seed", str(seed),
            "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(argv), str(report)],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    figures = json.loads(report.read_text()) if report.exists() else {"code": proc.returncode}
    if figures.get("code") != 0:
        sys.exit(f"critmin run -j {workers} failed ({figures.get('code')}):\n{proc.stderr}")
    (run_dir,) = [p for p in out.glob("*/*") if p.is_dir() and not p.name.startswith(".")]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    figures.update(
        replication_phase_s=manifest["wall_seconds"],
        executor=manifest["executor"], workers=manifest["workers"],
        engine_s_per_replication=sum(manifest["replication_wall_seconds"]) / n,
        parquet_mib=sum(f["bytes"] for f in manifest["files"]
                        if f["name"].endswith(".parquet")) / 2**20,
    )
    shutil.rmtree(out)
    return figures


def run(scenario: str = str(ROOT / "scenarios" / "baseline.yaml"), n: int = 1000,
        seed: int = 0) -> dict:
    """Run ``n`` replications with -j 1 and -j 2; figures for 1,000 (extrapolated if n < 1000)."""
    section(f"5. Monte Carlo: {n} replications of {Path(scenario).stem}, -j 1 and -j 2"
            + (" (extrapolated to 1,000)" if n != 1000 else ""))
    scale = 1000 / n
    rows = {}
    with tempfile.TemporaryDirectory(prefix="critmin-bench-") as tmp:
        ceilings = []
        for workers in (1, 2):
            if workers == 2:
                ceilings.append(machine_speedup(scenario))
            rows[workers] = f = run_config(scenario, n, workers, seed, Path(tmp))
            fixed = f["wall_s"] - f["replication_phase_s"]
            f["reps1000_s"] = fixed + scale * f["replication_phase_s"]
        ceilings.append(machine_speedup(scenario))

    j1, j2 = rows[1], rows[2]
    figures = {
        "replications_run": n,
        "extrapolated": n != 1000,
        "engine_s_per_replication": j1["engine_s_per_replication"],
        "reps1000_j1_s": j1["reps1000_s"],
        "reps1000_j2_s": j2["reps1000_s"],
        "parallel_speedup_j2": j1["reps1000_s"] / j2["reps1000_s"],
        "replication_phase_speedup_j2": j1["replication_phase_s"] / j2["replication_phase_s"],
        "machine_speedup_j2_before": ceilings[0],
        "machine_speedup_j2_after": ceilings[1],
        "parallel_efficiency_j2": (j1["reps1000_s"] / j2["reps1000_s"])
        / (sum(ceilings) / len(ceilings)),
        "peak_rss_mib": max(f["self_rss_mib"] + f["children_rss_mib"] for f in rows.values()),
        "peak_rss_all_workers_mib": max(f["self_rss_mib"] + w * f["children_rss_mib"]
                                        for w, f in rows.items()),
        "parent_rss_j2_mib": j2["self_rss_mib"],
        # Load-independent view: CPU seconds per replication, and the -j 2 speed-up the CPU
        # times allow on two idle cores (the busier of the parent and the average worker).
        "cpu_s_per_replication_j1": (j1["self_cpu_s"] + j1["children_cpu_s"]) / n,
        "cpu_s_per_replication_j2": (j2["self_cpu_s"] + j2["children_cpu_s"]) / n,
        "parent_cpu_s_per_replication_j2": j2["self_cpu_s"] / n,
        "cpu_bound_speedup_j2": (j1["self_cpu_s"] + j1["children_cpu_s"])
        / max((j2["self_cpu_s"] + j2["children_cpu_s"]) / 2, j2["self_cpu_s"]),
        "worker_rss_j2_mib": j2["children_rss_mib"],
        "parquet_mib_per_1000": j1["parquet_mib"] * scale,
        "j2_executor": j2["executor"],
    }
    say(f"  {'':<30}{'-j 1':>12}{'-j 2':>12}")
    say(f"  {'wall, ' + str(n) + ' reps (s)':<30}{j1['wall_s']:>12.1f}{j2['wall_s']:>12.1f}")
    say(f"  {'replication phase (s)':<30}{j1['replication_phase_s']:>12.1f}"
        f"{j2['replication_phase_s']:>12.1f}")
    label = "1000 reps (s)" + (" extrapolated" if n != 1000 else "")
    say(f"  {label:<30}{j1['reps1000_s']:>12.1f}{j2['reps1000_s']:>12.1f}")
    say(f"  {'CPU s, this process':<30}{j1['self_cpu_s']:>12.1f}{j2['self_cpu_s']:>12.1f}")
    say(f"  {'CPU s, workers':<30}{j1['children_cpu_s']:>12.1f}{j2['children_cpu_s']:>12.1f}")
    say(f"  {'peak RSS self (MiB)':<30}{j1['self_rss_mib']:>12.1f}{j2['self_rss_mib']:>12.1f}")
    say(f"  {'peak RSS worker (MiB)':<30}{j1['children_rss_mib']:>12.1f}"
        f"{j2['children_rss_mib']:>12.1f}")
    table([(key, f"{figures[key]:.3f}" if isinstance(figures[key], float) else figures[key])
           for key in ("parallel_speedup_j2", "machine_speedup_j2_before",
                       "machine_speedup_j2_after", "parallel_efficiency_j2",
                       "cpu_bound_speedup_j2", "peak_rss_mib",
                       "engine_s_per_replication", "parent_cpu_s_per_replication_j2",
                       "parquet_mib_per_1000")])
    return figures
