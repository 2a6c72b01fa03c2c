"""Every scenario shipped in scenarios/ validates and runs with its mass balance closing.

The list is the glob ``scenarios/*.yaml``, so a new scenario is picked up without editing this
file, and none is skipped. Each file is loaded as shipped (full validation, uncertain
parameters checked at their bounds), then one replication runs over its whole horizon - every
event fires - with a four-week step (``simulation.step_days=28``) so the suite stays fast. The
engine raises ``MassBalanceError`` if a material ledger does not close; the test also reads the
ledger itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.engine import run_replication
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
FAST = ["simulation.step_days=28"]


def test_scenarios_are_found() -> None:
    names = {p.name for p in SCENARIOS}
    assert "baseline.yaml" in names
    assert len(names) >= 2


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario_validates_and_runs(path: Path) -> None:
    shipped = load_scenario(path)  # raises ScenarioError with located problems

    fast = load_scenario(path, FAST)
    assert fast.end_date == shipped.end_date and fast.events.keys() == shipped.events.keys()
    result = run_replication(fast, seed=0, replication=0)

    ledger = result.balance
    assert set(ledger["material"]) == set(shipped.materials)
    assert ledger["ok"].all(), ledger[~ledger["ok"]].to_string()
    assert (ledger["imbalance_t"].abs() <= 1e-9 * ledger["initial_t"].add(
        ledger["produced_t"]).clip(lower=1.0)).all()
    ts = result.timeseries
    assert len(ts) > 0
    assert ts["day"].max() < shipped.horizon_days
    assert ts["day"].max() >= shipped.horizon_days - 28  # the whole horizon ran
    assert (ts["delivered_t"] <= ts["demand_t"] + 1e-9).all()
    assert (ts["shortfall_t"] >= -1e-9).all()
