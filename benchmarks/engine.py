"""One replication of a shipped scenario beside a bare SimPy timeout loop, in the same process.

``event_rate_vs_bare_simpy`` is the engine's events per second (one replication end to end:
network, SimPy run, mass balance, tidy frames) over the events per second of one SimPy process
yielding unit timeouts. Engine events are counted as docs/engine.md defines them: one per
entity per step, one per lot, one per policy event. The two are measured alternately, so
both see the same machine load; each figure is the median of the repeats.
"""

from __future__ import annotations

import statistics
import time

import simpy

from simulator.engine import run_replication
from simulator.scenario import load_scenario

from .common import SCENARIOS, section, table, timed

BARE_EVENTS = 200_000


def bare_simpy_rate(n_events: int = BARE_EVENTS) -> float:
    """Events per second of one SimPy process yielding ``n_events`` unit timeouts."""
    env = simpy.Environment()

    def ticker(env: simpy.Environment):
        for _ in range(n_events):
            yield env.timeout(1)

    env.process(ticker(env))
    t0 = time.perf_counter()
    env.run()
    return n_events / (time.perf_counter() - t0)


def measure(name: str, repeats: int, overrides: tuple[str, ...] = ()) -> dict:
    """Median wall time and event rate of one replication of ``scenarios/<name>.yaml``
    (with ``overrides``, ``--set`` assignments)."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml", overrides)
    run_replication(scenario)  # warm caches and imports
    walls, bare = [], []
    events = 0
    for _ in range(repeats):
        wall, result = timed(lambda: run_replication(scenario))
        walls.append(wall)
        events = result.event_count
        bare.append(bare_simpy_rate())
    wall = statistics.median(walls)
    bare_rate = statistics.median(bare)
    return {
        "scenario": name,
        "horizon_days": scenario.horizon_days,
        "replication_s": wall,
        "events": events,
        "events_per_s": events / wall,
        "bare_simpy_events_per_s": bare_rate,
        "vs_bare_simpy": events / wall / bare_rate,
    }


def run(repeats: int) -> dict:
    section("1. One 10-year replication vs a bare SimPy loop")
    out = {}
    for name in ("baseline", "us_japan_framework"):
        m = measure(name, repeats)
        out[name] = m
        table([
            (f"{name}: wall (median of {repeats})", f"{m['replication_s']:.3f} s"),
            ("  engine events", f"{m['events']:,}"),
            ("  engine events/s", f"{m['events_per_s']:,.0f}"),
            ("  bare SimPy events/s", f"{m['bare_simpy_events_per_s']:,.0f}"),
            ("  ratio engine / bare SimPy", f"{m['vs_bare_simpy']:.3f}"),
        ])
    # a longer step has fewer events and should not cost more (lots landing mid-step are
    # served as daily steps would serve them: engine/late.py)
    m = measure("us_japan_framework", repeats, ("simulation.step_days=28",))
    out["us_japan_framework_28_day"] = m
    weekly = out["us_japan_framework"]["replication_s"]
    table([(f"us_japan_framework at 28-day steps: wall (median of {repeats})",
            f"{m['replication_s']:.3f} s"),
           ("  over weekly steps", f"{m['replication_s'] / weekly:.2f}")])
    return out
