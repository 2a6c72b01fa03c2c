"""SALib ProblemSpec: Sobol indices of critmin's shortfall (requires: SALib).

``ProblemSpec.evaluate`` hands the model a matrix of samples; each row becomes one
``simulate`` call with the same seed and replication ids (common random numbers), so the
indices measure parameter effects, not noise. Run from the repository root:
``python docs/examples/salib_problemspec.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from SALib import ProblemSpec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny_network import TINY

from simulator import simulate

PATHS = ["events.mine_outage.duration_days", "events.mine_outage.capacity_lost",
         "demand.jp_ev.priority"]  # the last one cannot matter: one buyer, nobody to outrank


def shortfall(X: np.ndarray) -> np.ndarray:
    """Mean cumulative shortfall (t) over 2 replications for each row of ``X``."""
    out = np.empty(len(X))
    for i, (days, lost, priority) in enumerate(X):
        params = dict(zip(PATHS, (round(days), float(lost), round(priority)), strict=True))
        out[i] = simulate(TINY, params, replications=2, seed=1)["cumulative_shortfall_t"]
    return out


def main() -> None:
    sp = ProblemSpec({"names": PATHS, "bounds": [[1, 100], [0.25, 1.0], [0, 5]]})
    (sp.sample_sobol(8, calc_second_order=False, seed=np.random.default_rng(3))
       .evaluate(shortfall)
       .analyze_sobol(calc_second_order=False, seed=np.random.default_rng(3)))
    total = sp.analysis["ST"]
    print(sp)
    assert total[0] > total[1] > total[2] and abs(total[2]) < 1e-12, total


if __name__ == "__main__":
    main()
