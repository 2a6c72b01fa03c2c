"""The SimPy engine: a validated :class:`~simulator.scenario.Scenario` in, tidy records out.

The engine never imports the runner, analysis, plotting or CLI.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field

import pandas as pd

from ..scenario.distributions import realize
from ..scenario.models import Scenario
from .balance import MassBalanceError, check_mass_balance
from .builder import build_network
from .investment import PROJECT_COLUMNS, project_frame
from .recorder import PRICE_COLUMNS
from .rng import RandomStreams
from .world import World

__all__ = ["MassBalanceError", "RandomStreams", "ReplicationResult", "run_replication"]


@dataclass(frozen=True)
class ReplicationResult:
    """Tidy outputs of one replication; ``day`` is counted from the scenario's start date.

    - ``timeseries``: day, country, sector, demand_id, material, demand_t, delivered_t,
      shortfall_t, inventory_t, stockpile_t, destroyed_t, thrifted_t (one row per demand
      sector per step);
    - ``flows``: day, origin, destination, material, tonnes (every cross-border shipment);
    - ``production``: day, facility, country, stage, material, tonnes;
    - ``stockpiles``: day, stockpile, country, material, holdings_t (at the end of the
      step), released_t and bought_t (purchases that arrived) in the step (one row per
      stockpile per step; no rows without stockpiles);
    - ``balance``: the per-material mass-balance ledger at the end of the run;
    - ``event_count``: SimPy events processed (warm-up included);
    - ``prices``: day, material, market, price_usd_per_kg (one row per priced material and
      market tier per step, recorded after the step's trade; empty without ``market.prices``);
    - ``projects``: facility, committed_day, completed, start_day (one row per plant built on
      price, ``invest``; days are NaN while not committed, ``start_day`` NaN if never built).
    """

    timeseries: pd.DataFrame
    flows: pd.DataFrame
    production: pd.DataFrame
    stockpiles: pd.DataFrame
    balance: pd.DataFrame
    event_count: int
    step_days: int
    prices: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PRICE_COLUMNS))
    projects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROJECT_COLUMNS))


def run_replication(scenario: Scenario, seed: int = 0, replication: int = 0) -> ReplicationResult:
    """Simulate one replication of ``scenario``.

    Deterministic: the same scenario, seed and replication give identical results.
    Uncertain parameters (``scenario.uncertainty``) are drawn first, each from its stream
    ``param:<path>``, with :func:`~simulator.scenario.distributions.realize`; the replication
    then runs on the realised scenario.
    Raises :exc:`MassBalanceError` if the material ledger does not close (an engine bug).
    """
    streams = RandomStreams(seed, replication)
    if scenario.uncertainty:
        scenario = realize(scenario, streams.get)
    happens = {
        eid: ev.probability >= 1.0 or bool(streams.get(f"event:{eid}").random() < ev.probability)
        for eid, ev in scenario.events.items()
    }
    world = World(scenario, build_network(scenario, happens), streams)
    # The run allocates many short-lived, acyclic objects (lots, records) that reference
    # counting frees; the cyclic collector only costs time here (~20%), so it is paused for
    # the run and the building of the frames, and restored afterwards. The recorded rows
    # are dropped once they are frames: the world is cyclic garbage from then on, and the
    # collector would otherwise walk every recorded number each time it looks at it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        world.run()
        balance = check_mass_balance(world)
        ts, flows, production, stockpiles = world.rec.frames()
        prices = world.rec.prices()
        world.rec.release()
    finally:
        if collecting:
            gc.enable()
    return ReplicationResult(ts, flows, production, stockpiles, balance, world.event_count,
                             scenario.simulation.step_days, prices,
                             project_frame(world.investments))
