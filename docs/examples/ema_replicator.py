"""EMA Workbench: critmin as a ReplicatorModel (requires: ema_workbench).

Each EMA replication is one critmin replication id with a fixed seed, so replication r of
every experiment shares its random numbers (common random numbers). Run from the repository
root: ``python docs/examples/ema_replicator.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from ema_workbench import (
    IntegerParameter,
    RealParameter,
    ReplicatorModel,
    ScalarOutcome,
    perform_experiments,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny_network import TINY

from simulator import simulate


def critmin_model(outage_days: int, capacity_lost: float, replication: int) -> dict:
    """One replication of the tiny network with the two uncertain inputs set."""
    result = simulate(TINY, {"events.mine_outage.duration_days": int(outage_days),
                             "events.mine_outage.capacity_lost": float(capacity_lost)},
                      replications=[replication], seed=1)
    return {"shortfall_t": result["cumulative_shortfall_t"], "fill_rate": result["fill_rate"]}


def main() -> None:
    model = ReplicatorModel("critmin", function=critmin_model)
    model.replications = [{"replication": r} for r in range(2)]
    model.uncertainties = [IntegerParameter("outage_days", 1, 60),
                           RealParameter("capacity_lost", 0.2, 1.0)]
    model.outcomes = [ScalarOutcome("shortfall_t", function=np.mean),
                      ScalarOutcome("fill_rate", function=np.mean)]
    experiments, outcomes = perform_experiments(model, scenarios=6)
    expected = 50 + 10 * experiments["outage_days"] * experiments["capacity_lost"]
    np.testing.assert_allclose(outcomes["shortfall_t"], expected, rtol=1e-9)
    print(experiments[["outage_days", "capacity_lost"]].assign(
        shortfall_t=outcomes["shortfall_t"]).to_string(index=False))


if __name__ == "__main__":
    main()
