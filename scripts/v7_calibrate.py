"""V7's calibration of ``market.adjustment_days`` (docs/markets.md, "Parameters").

For each candidate adjustment time, runs the V7 scenario (``scenarios/prices_2025_04.yaml``)
``-n`` replications (seed 0) and prints the ex-China Dy/Tb oxide price over March's: May's
median, July's median and mean, China's largest move April-July, and the rule's squared
distance ``(May median - 3.25)^2 + (July mean - 3.27)^2`` (the middle of V7's May band,
2.5-4x, and July's 3.27x). The rule picks the smallest distance.

    python scripts/v7_calibrate.py                 # 48 replications, 4-10 days (~5 min)
    python scripts/v7_calibrate.py -n 16 -d 6 -d 8
    python scripts/v7_calibrate.py --set simulation.step_days=1   # the same at daily steps
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.engine import run_replication  # noqa: E402
from simulator.replays import v7_prices_2025_04 as v7  # noqa: E402
from simulator.replays.base import monthly_prices  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402

MAY_TARGET = 3.25
"""The middle of V7's May band (2.5-4x)."""
JULY_TARGET = 3.27
"""V7's July point (DATA.md: CIF Europe, Dy ~800, Tb ~3,625 USD/kg, blended)."""
DAYS = (4.0, 5.0, 6.0, 8.0, 10.0)


def measure(days: float, replications: int, sets: list[str]) -> dict[str, float]:
    """The rule's figures at ``market.adjustment_days = days``."""
    scenario = load_scenario(ROOT / "scenarios" / v7.SCENARIO,
                             [*sets, f"market.adjustment_days={days}"])
    start = pd.Timestamp(scenario.start_date)
    runs = [monthly_prices(run_replication(scenario, 0, rep).prices, v7.MATERIAL, start)
            for rep in range(replications)]
    stacked = pd.concat(runs, keys=range(replications), names=["replication"])
    rel = stacked / stacked.xs(v7.MARCH, level="month")
    median = rel.groupby(level="month").median()
    july = rel.xs(pd.Timestamp("2025-07-01"), level="month")[v7.EXPORT]
    may = float(median.loc[pd.Timestamp("2025-05-01"), v7.EXPORT])
    home = median.loc[pd.Timestamp("2025-04-01"):pd.Timestamp("2025-07-01"), v7.HOME]
    return {"adjustment_days": days, "may_median": may, "july_median": float(july.median()),
            "july_mean": float(july.mean()), "china_largest_move": float((home - 1).abs().max()),
            "distance": (may - MAY_TARGET) ** 2 + (float(july.mean()) - JULY_TARGET) ** 2}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--replications", type=int, default=48)
    parser.add_argument("-d", "--days", type=float, action="append",
                        help="candidate adjustment_days (repeatable)")
    parser.add_argument("--set", dest="sets", action="append", default=[],
                        help="a --set override applied to every run (repeatable)")
    args = parser.parse_args(argv)
    rows = []
    print("adjustment_days  May median  July median  July mean  China's largest move  distance")
    for days in args.days or DAYS:
        r = measure(days, args.replications, args.sets)
        rows.append(r)
        print(f"{days:15g}  {r['may_median']:10.2f}  {r['july_median']:11.2f}  "
              f"{r['july_mean']:9.2f}  {r['china_largest_move']:20.1%}  {r['distance']:8.3f}",
              flush=True)
    best = min(rows, key=lambda r: r["distance"])
    print(f"the rule picks adjustment_days = {best['adjustment_days']:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
