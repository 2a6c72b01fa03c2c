"""Results converge as ``step_days`` shrinks: the shipped replays at 1, 7 and 14 days.

A step integrates its days (docs/engine.md, "Timing"), so cumulative shortfall should not
depend on the step. Engine v1 gave 890 t daily, 810 t weekly and 920 t at 28 days on the
test network, and -27% to +20% across 1/7/14 days on the shipped replays. The replays below
are within 5% of the weekly run at 1 and 14 days. Two are not yet (measured spread pinned, so
it can only shrink; docs/engine.md says why): licence-driven V2 (-20% daily, +10% at 14 days:
a denied lot is re-ordered at the next step, half a step later on average) and V4 (+9% / -7%).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.engine import run_replication
from simulator.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
STEPS = (1, 7, 14)


def cumulative_shortfall(name: str, step: int, replications: int) -> float:
    """Mean total shortfall (t) over ``replications`` of ``scenarios/<name>.yaml`` run at
    ``step`` days."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    scenario = scenario.model_copy(update={
        "simulation": scenario.simulation.model_copy(update={"step_days": step})})
    total = 0.0
    for rep in range(replications):
        total += float(run_replication(scenario, seed=0, replication=rep)
                       .timeseries["shortfall_t"].sum())
    return total / replications


@pytest.mark.slow
@pytest.mark.parametrize(("name", "replications", "spread"), [
    ("gallium_germanium_2023", 3, 0.05),        # V3
    ("china_heavy_ree_controls_2026", 2, 0.05),  # V6's threat
    ("us_japan_framework", 2, 0.05),             # V6
    ("myanmar_kachin_2024", 1, 0.10),            # V4: documented gap (measured +9% / -7%)
    ("china_controls_2025_04", 2, 0.25),         # V2: documented gap (measured -20% / +10%)
])
def test_cumulative_shortfall_converges_with_the_step(name: str, replications: int,
                                                      spread: float) -> None:
    weekly = cumulative_shortfall(name, 7, replications)
    assert weekly > 0
    for step in (1, 14):
        other = cumulative_shortfall(name, step, replications)
        assert abs(other / weekly - 1) <= spread, (step, other, weekly)
