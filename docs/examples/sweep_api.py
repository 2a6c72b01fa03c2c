"""A sweep from Python: grid over outage length, then the "in 90 % of runs" question.

Writes into a temporary folder. Run from the repository root:
``python docs/examples/sweep_api.py``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny_network import TINY

from simulator.sweep import (
    Output,
    ParamSpec,
    SweepSpec,
    plan_sweep,
    run_sweep,
    write_outputs,
)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "tiny.yaml"
        base.write_text(json.dumps(TINY), encoding="utf-8")  # JSON is YAML 1.2
        spec = SweepSpec(
            name="outage_length", scenario=base, design="grid", replications=10, seed=1,
            params=(ParamSpec("events.mine_outage.duration_days", values=(1, 10, 20, 30, 40)),),
            overrides=("demand.jp_ev.cv=0.3", "demand.jp_ev.cover_days=5"),  # noisy demand
            output=Output(kpi="fill_rate", demand="jp_ev"))
        plan = plan_sweep(spec)                           # validates every point first
        run_sweep(plan, Path(tmp) / "sweep")
        write_outputs(plan, Path(tmp) / "sweep")

        s = pd.read_csv(Path(tmp) / "sweep" / "points.csv")
        # The longest outage that keeps Japan's EV fill rate >= 95 % in 90 % of runs:
        longest = s.query("kpi == 'fill_rate' and demand_id == 'jp_ev' and p10 >= 0.95")[
            "events.mine_outage.duration_days"].max()
        print(s.query("kpi == 'fill_rate' and demand_id == 'jp_ev'")[
            ["events.mine_outage.duration_days", "mean", "p10", "p50"]].to_string(index=False))
        print(f"longest outage with fill rate >= 95 % in 90 % of runs: {longest} days")
        assert longest == 10, longest


if __name__ == "__main__":
    main()
