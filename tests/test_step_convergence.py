"""Results converge as ``step_days`` shrinks: the shipped replays at 1, 7 and 14 days.

A step integrates its days (docs/engine.md, "Timing"), so cumulative shortfall should not
depend on the step. Engine v1 gave 890 t daily, 810 t weekly and 920 t at 28 days on the
test network, and -27% to +20% across 1/7/14 days on the shipped replays. Measured now, with
the baseline's thrifting on and releases serving short sectors at once (daily / 14-day
against weekly, the replications below): V3 +1.4% / +2.5% (-6.0% daily before denied lots
were re-ordered on their day and plants ran again when a lot landed mid-step), V6's threat
+1.5% / +1.9%, V6 with the framework -0.1% / +1.1% (-4.3% before mid-step orders weighed a
day), V4 -0.9% / -3.2%. V2 is
+7.4% / -6.9% (before thrifting, 16 replications: +7.7% / -7.6%), open
(docs/engine.md "Convergence"; before, re-orders a step late hid it, +0.3% / +4.3%). With
every licence approved and fixed review times it is +1.5% / -6.3%: weekly converges for a
deterministic cut, and the 14-day part is mostly its 7-day lanes planned as a whole 14-day
step (a known limit: planning them as they are brings V2 to -1.6% but V4 to +11.8%). The
daily part comes with random review times (+3.4%) and denials (+2.2%; both +7.7%) and
depends on the weekday its strict regime starts: a step files its licensed order as one
application, and with every date a day earlier (on a weekly step day) weekly goes from
5,915 t to 6,496 t while daily stays 6,356 t (-2.2%).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.engine import run_replication
from simulator.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
STEPS = (1, 7, 14)


def cumulative_shortfall(name: str, step: int, replications: int,
                         end_date: str | None = None) -> float:
    """Mean total shortfall (t) over ``replications`` of ``scenarios/<name>.yaml`` run at
    ``step`` days (to ``end_date`` if given)."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml",
                             [f"end_date={end_date}"] if end_date else ())
    scenario = scenario.model_copy(update={
        "simulation": scenario.simulation.model_copy(update={"step_days": step})})
    total = 0.0
    for rep in range(replications):
        total += float(run_replication(scenario, seed=0, replication=rep)
                       .timeseries["shortfall_t"].sum())
    return total / replications


@pytest.mark.slow
@pytest.mark.parametrize(("name", "replications", "daily", "fortnightly", "end_date"), [
    ("gallium_germanium_2023", 3, 0.05, 0.05, None),        # V3 (with 8: +1.4% / +2.5%)
    ("china_heavy_ree_controls_2026", 2, 0.05, 0.05, None),  # V6's threat (+1.5% / +1.9%)
    ("us_japan_framework", 2, 0.05, 0.05, None),             # V6 (-0.1% / +1.1%)
    ("myanmar_kachin_2024", 1, 0.05, 0.05, None),            # V4 (-0.9% / -3.2%)
    # V2 (+7.4% / -6.9%): the open gap (see the docstring). Its shortfall all falls before
    # mid-2026 (0.0 t after 2026-07-01 of its 5,118 t to 2034, replication 0), so it runs
    # to then: a quarter of the cost, the same sum
    ("china_controls_2025_04", 4, 0.08, 0.08, "2026-07-01"),
])
def test_cumulative_shortfall_converges_with_the_step(name: str, replications: int,
                                                      daily: float, fortnightly: float,
                                                      end_date: str | None) -> None:
    weekly = cumulative_shortfall(name, 7, replications, end_date)
    assert weekly > 0
    for step, spread in ((1, daily), (14, fortnightly)):
        other = cumulative_shortfall(name, step, replications, end_date)
        assert abs(other / weekly - 1) <= spread, (step, other, weekly)
