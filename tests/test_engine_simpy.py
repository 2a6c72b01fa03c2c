"""The engine is a SimPy model used through SimPy's public API only."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest
import simpy

from simulator.engine import run_replication
from simulator.engine.balance import check_mass_balance
from simulator.engine.builder import build_network
from simulator.engine.rng import RandomStreams
from simulator.engine.world import World
from simulator.scenario import load_scenario
from simulator.scenario.distributions import realize

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "simulator" / "engine"


def _simpy_private_names() -> set[str]:
    """Private attribute names of SimPy's environment, events and processes."""
    def idle(env: simpy.Environment):
        yield env.timeout(1)

    env = simpy.Environment()
    names: set[str] = set()
    for obj in (env, env.event(), env.timeout(1), env.process(idle(env))):
        names |= {n for n in dir(obj) if n.startswith("_") and not n.startswith("__")}
        names |= {n for n in vars(obj) if n.startswith("_") and not n.startswith("__")}
    return names


def test_engine_reads_no_private_simpy_attribute() -> None:
    """No ``x._queue``, ``x._eid``, ``x._now``, ``x._value``... anywhere in the engine."""
    private = _simpy_private_names()
    assert {"_queue", "_eid", "_now", "_value"} <= private
    found = []
    for path in sorted(ENGINE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in private:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
    assert not found, "\n".join(found)


@pytest.mark.slow
def test_world_runs_under_env_run_in_pieces() -> None:
    """The world is an ordinary SimPy model: ``env.run(until=...)`` in several pieces gives
    exactly what one ``World.run()`` gives."""
    scenario = load_scenario(ROOT / "scenarios" / "china_controls_2025_04.yaml")
    whole = run_replication(scenario, seed=0, replication=1)

    streams = RandomStreams(0, 1)
    realised = realize(scenario, streams.get)  # as run_replication draws its uncertainty
    assert realised.market.demand_response.default.thrifting.max_share > 0.0  # it thrifts
    world = World(realised, build_network(realised), streams)
    world.start()
    end = world.net.warmup_days + scenario.horizon_days
    for until in (1, 400, 401, 2000, end):
        world.env.run(until=until)
        assert world.env.now == until
    check_mass_balance(world)
    ts, flows, production, _ = world.rec.frames()
    pd.testing.assert_frame_equal(ts, whole.timeseries)
    pd.testing.assert_frame_equal(flows, whole.flows)
    pd.testing.assert_frame_equal(production, whole.production)
    assert world.event_count == whole.event_count
