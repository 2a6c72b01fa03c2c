"""critmin's benchmark suite: every figure of docs/performance.md in one run.

Run from the repository root::

    python benchmarks/run.py            # full: about 15 minutes on 2 cores
    python benchmarks/run.py --quick    # under two minutes, same keys (1,000-replication
                                        # figures extrapolated from 100)
    python benchmarks/run.py --only engine peer
    python benchmarks/run.py --memory --only memory   # peak RSS at 1,000 to 100,000
                                                      # replications (hours on 2 cores)

Sections: (1) one 10-year replication of the baseline and of the US-Japan framework scenario
vs a bare SimPy loop; (2) the engine vs a numpy/Python time-stepped reference of the same
network (totals checked to agree); (3) the peer, SupplyNetPy, on a toy chain (skipped when
not installed: ``pip install -e '.[bench]'``); (4) scaling over synthetic networks; (5) 1,000
replications with -j 1 and -j 2; (6, only with ``--memory`` or ``--only memory``) the parent's
peak RSS against the number of replications (``benchmarks/memory.py``). Tables go to stdout
as they are measured; the last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``simulator`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "benchmarks"

from benchmarks import engine, memory, peer, reference, replications, scaling
from benchmarks.common import machine, say, section, table

SECTIONS = ("engine", "reference", "peer", "scaling", "replications", "memory")
DEFAULT = SECTIONS[:-1]  # memory only when asked for (--memory)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats, smaller scaling grid, 100 replications")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=None)
    parser.add_argument("--memory", action="store_true",
                        help="add section 6: peak RSS against the number of replications")
    parser.add_argument("--memory-n", nargs="*", type=int, default=[1000, 10000],
                        help="baseline replications for section 6 (default 1000 10000; "
                             "none to skip)")
    parser.add_argument("--memory-synthetic-n", nargs="*", type=int,
                        default=[1000, 10_000, 100_000],
                        help="synthetic-network replications on Dask for section 6 "
                             "(default 1000 10000 100000; none to skip)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats per timing (median); default 3 quick, 7 full")
    parser.add_argument("-n", "--replications", type=int, default=None,
                        help="replications for section 5 (default 100 quick, 1000 full)")
    args = parser.parse_args(argv)
    args.only = list(args.only or DEFAULT) + (["memory"] if args.memory else [])
    repeats = args.repeats or (3 if args.quick else 7)
    t0 = time.perf_counter()
    info = machine()
    section("Machine")
    table([(k, v) for k, v in info.items()])

    figures: dict = {"quick": args.quick, "repeats": repeats, **info}
    if "engine" in args.only:
        e = engine.run(repeats)
        base = e["baseline"]
        figures.update(
            baseline_replication_s=round(base["replication_s"], 4),
            baseline_events=base["events"],
            engine_events_per_s=round(base["events_per_s"]),
            bare_simpy_events_per_s=round(base["bare_simpy_events_per_s"]),
            event_rate_vs_bare_simpy=round(base["vs_bare_simpy"], 3),
            us_japan_replication_s=round(e["us_japan_framework"]["replication_s"], 4),
            us_japan_event_rate_vs_bare_simpy=round(e["us_japan_framework"]["vs_bare_simpy"], 3),
            us_japan_28_day_replication_s=round(
                e["us_japan_framework_28_day"]["replication_s"], 4),
            us_japan_28_day_over_weekly=round(
                e["us_japan_framework_28_day"]["replication_s"]
                / e["us_japan_framework"]["replication_s"], 2),
        )
    if "reference" in args.only:
        r = reference.run(repeats)
        figures.update(engine_vs_numpy_reference=round(r["ratio"], 3),
                       numpy_reference_s=round(r["reference_s"], 4),
                       reference_max_relative_difference=float(f"{r['max_relative_difference']:.2e}"))
    if "peer" in args.only:
        p = peer.run(repeats)
        figures.update(toy_critmin_s=round(p["critmin_s"], 4),
                       speedup_vs_supplynetpy=round(p["speedup"], 2) if "speedup" in p else None)
        if "speedup" in p:
            figures["toy_supplynetpy_s"] = round(p["supplynetpy_s"], 4)
    if "scaling" in args.only:
        grid = ([(n, y) for n in scaling.SIZES for y in (1, 10) if (n, y) != (1000, 10)]
                if args.quick else [(n, y) for n in scaling.SIZES for y in scaling.YEARS])
        s = scaling.run(1 if args.quick else 3, grid=grid)
        figures.update(scaling_exponent=round(s["exponent"], 3),
                       scaling_points=[[r["facilities"], r["years"], r["events"],
                                        round(r["wall_s"], 4)] for r in s["rows"]])
    if "replications" in args.only:
        n = args.replications or (100 if args.quick else 1000)
        m = replications.run(n=n)
        figures.update(
            reps1000_j1_s=round(m["reps1000_j1_s"], 1),
            reps1000_j2_s=round(m["reps1000_j2_s"], 1),
            parallel_speedup_j2=round(m["parallel_speedup_j2"], 3),
            cpu_bound_speedup_j2=round(m["cpu_bound_speedup_j2"], 3),
            machine_speedup_j2=[round(m["machine_speedup_j2_before"], 3),
                                round(m["machine_speedup_j2_after"], 3)],
            parallel_efficiency_j2=round(m["parallel_efficiency_j2"], 3),
            peak_rss_mib=round(m["peak_rss_mib"], 1),
            peak_rss_all_workers_mib=round(m["peak_rss_all_workers_mib"], 1),
            replications_run=m["replications_run"],
            replications_extrapolated=m["extrapolated"],
            cpu_s_per_replication_j1=round(m["cpu_s_per_replication_j1"], 4),
            parent_cpu_s_per_replication_j2=round(m["parent_cpu_s_per_replication_j2"], 4),
        )
    if "memory" in args.only:
        figures.update(memory.run(args.memory_n, args.memory_synthetic_n))
    figures["suite_wall_s"] = round(time.perf_counter() - t0, 1)
    section(f"Done in {figures['suite_wall_s']:.0f} s")
    say(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
