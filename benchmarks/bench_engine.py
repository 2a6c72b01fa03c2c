"""Engine speed: one replication of a scenario beside a bare SimPy timeout loop.

Run: ``.venv/bin/python benchmarks/bench_engine.py [SCENARIO] [--repeats N]``.
Prints a table and, on its last line, one JSON object with the figures so that runs can be
compared: ``baseline_replication_s`` (median wall time of one replication),
``engine_events_per_s``, ``bare_simpy_events_per_s`` and ``event_rate_vs_bare_simpy`` (the
ratio; 1.0 means the engine adds nothing to SimPy's own cost per event).
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import time
from pathlib import Path

import simpy

from simulator.engine import run_replication
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def bare_simpy_rate(n_events: int = 200_000) -> float:
    """Events per second of one SimPy process yielding ``n_events`` unit timeouts."""
    env = simpy.Environment()

    def ticker(env: simpy.Environment):
        for _ in range(n_events):
            yield env.timeout(1)

    env.process(ticker(env))
    t0 = time.perf_counter()
    env.run()
    return n_events / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "baseline.yaml"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    scenario = load_scenario(args.scenario)
    run_replication(scenario)  # warm caches and imports
    walls, events = [], 0
    bare = []
    for _ in range(args.repeats):
        gc.collect()
        t0 = time.perf_counter()
        r = run_replication(scenario)
        walls.append(time.perf_counter() - t0)
        events = r.event_count
        bare.append(bare_simpy_rate())
    wall = statistics.median(walls)
    bare_rate = statistics.median(bare)
    rate = events / wall
    figures = {
        "scenario": scenario.name,
        "horizon_days": scenario.horizon_days,
        "baseline_replication_s": round(wall, 4),
        "events_per_replication": events,
        "engine_events_per_s": round(rate),
        "bare_simpy_events_per_s": round(bare_rate),
        "event_rate_vs_bare_simpy": round(rate / bare_rate, 3),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
