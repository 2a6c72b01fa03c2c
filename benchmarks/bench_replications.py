"""Monte Carlo at scale: N replications of a scenario with -j 1 and -j 2, through the CLI.

Run: ``.venv/bin/python benchmarks/bench_replications.py [--quick] [SCENARIO]``.

Each configuration runs ``critmin run SCENARIO -n N -j J`` in a fresh Python process (so its
memory is its own) and records the wall time, the replication phase (the manifest's
``wall_seconds``: first replication started to last one on disk) and peak RSS: of the CLI
process (``RUSAGE_SELF``) and of its largest worker (``RUSAGE_CHILDREN``). ``peak_rss_mib`` is
the largest ``self + children`` over the configurations; ``peak_rss_all_workers_mib`` bounds
the whole process tree (self + J x largest worker).

With ``--quick``, N = 100 and the figures for 1,000 are extrapolated: the fixed cost (start-up,
final KPIs and figures) once plus ten times the replication phase. Prints a table and, on its
last line, one JSON object with ``reps1000_j1_s``, ``reps1000_j2_s``, ``parallel_speedup_j2``
and ``peak_rss_mib`` (targets on a 2-core machine: j2 under 300 s, speed-up >= 1.8, RSS
under 1024 MiB).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "baseline.yaml"))
    parser.add_argument("--quick", action="store_true", help="100 replications, extrapolated")
    parser.add_argument("-n", "--replications", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n = args.replications or (100 if args.quick else 1000)
    scale = 1000 / n

    rows = {}
    with tempfile.TemporaryDirectory(prefix="critmin-bench-") as tmp:
        for workers in (1, 2):
            rows[workers] = f = run_config(args.scenario, n, workers, args.seed, Path(tmp))
            fixed = f["wall_s"] - f["replication_phase_s"]
            f["reps1000_s"] = fixed + scale * f["replication_phase_s"]
            print(f"-j {workers}: {n} replications in {f['wall_s']:.1f} s "
                  f"(replications {f['replication_phase_s']:.1f} s)", file=sys.stderr)

    j1, j2 = rows[1], rows[2]
    figures = {
        "scenario": Path(args.scenario).stem,
        "replications_run": n,
        "extrapolated": n != 1000,
        "engine_s_per_replication": round(j1["engine_s_per_replication"], 4),
        "reps1000_j1_s": round(j1["reps1000_s"], 1),
        "reps1000_j2_s": round(j2["reps1000_s"], 1),
        "parallel_speedup_j2": round(j1["reps1000_s"] / j2["reps1000_s"], 3),
        "replication_phase_speedup_j2": round(
            j1["replication_phase_s"] / j2["replication_phase_s"], 3),
        "peak_rss_mib": round(max(f["self_rss_mib"] + f["children_rss_mib"]
                                  for f in rows.values()), 1),
        "peak_rss_all_workers_mib": round(max(f["self_rss_mib"] + w * f["children_rss_mib"]
                                              for w, f in rows.items()), 1),
        "parent_rss_j2_mib": round(j2["self_rss_mib"], 1),
        # Load-independent view: CPU seconds per replication, and the -j 2 speed-up the CPU
        # times allow on two idle cores (the busier of the parent and the average worker).
        "cpu_s_per_replication_j1": round((j1["self_cpu_s"] + j1["children_cpu_s"]) / n, 4),
        "cpu_s_per_replication_j2": round((j2["self_cpu_s"] + j2["children_cpu_s"]) / n, 4),
        "parent_cpu_s_per_replication_j2": round(j2["self_cpu_s"] / n, 4),
        "cpu_bound_speedup_j2": round(
            (j1["self_cpu_s"] + j1["children_cpu_s"])
            / max((j2["self_cpu_s"] + j2["children_cpu_s"]) / 2, j2["self_cpu_s"]), 3),
        "worker_rss_j2_mib": round(j2["children_rss_mib"], 1),
        "parquet_mib_per_1000": round(j1["parquet_mib"] * scale, 1),
        "j2_executor": j2["executor"],
        "cores": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(f"{'':<28}{'-j 1':>12}{'-j 2':>12}")
    print(f"{'wall, ' + str(n) + ' reps (s)':<28}{j1['wall_s']:>12.1f}{j2['wall_s']:>12.1f}")
    print(f"{'replication phase (s)':<28}{j1['replication_phase_s']:>12.1f}"
          f"{j2['replication_phase_s']:>12.1f}")
    label = "1000 reps (s)" + (" extrapolated" if n != 1000 else "")
    print(f"{label:<28}{j1['reps1000_s']:>12.1f}{j2['reps1000_s']:>12.1f}")
    print(f"{'CPU s, this process':<28}{j1['self_cpu_s']:>12.1f}{j2['self_cpu_s']:>12.1f}")
    print(f"{'CPU s, workers':<28}{j1['children_cpu_s']:>12.1f}{j2['children_cpu_s']:>12.1f}")
    print(f"{'peak RSS self (MiB)':<28}{j1['self_rss_mib']:>12.1f}{j2['self_rss_mib']:>12.1f}")
    print(f"{'peak RSS worker (MiB)':<28}{j1['children_rss_mib']:>12.1f}"
          f"{j2['children_rss_mib']:>12.1f}")
    for key in ("parallel_speedup_j2", "cpu_bound_speedup_j2", "peak_rss_mib",
                "engine_s_per_replication",
                "parquet_mib_per_1000", "load_average_1min"):
        print(f"{key:<28}{figures[key]!s:>24}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
