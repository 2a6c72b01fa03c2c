"""How large a deficit the V8 rally needs (docs/replays/v8-ndpr-2021-2023.md).

Runs the shipped V8 scenario with one extra event, a ``demand_shock`` on China's NdFeB
magnet demand (multiplier ``m``, from 1 January 2021 to the given end), and prints per row
the NdPr oxide made and used in the model in 2021 and 2022 (world, t), the deficit
(used / made - 1), the China tier's peak monthly price in 2021-22 and its month, mid-2023,
and how many of V8's four price checks pass. The scenario has no random draw: one
replication, seed 0. A sensitivity, not a calibration: no row is shipped.

    python scripts/v8_deficit.py                       # the page's table
    python scripts/v8_deficit.py -m 1.18 --end 2023-01-01
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
from simulator.replays import v8_ndpr_2021_2023 as v8  # noqa: E402
from simulator.scenario import load_scenario, load_scenario_text  # noqa: E402

MULTIPLIERS = (1.0, 1.1, 1.15, 1.2, 1.25, 1.3)
ENDS = ("2022-01-01", "2023-01-01")


def variant_text(multiplier: float, end: str) -> str:
    """V8's scenario plus China's magnet demand times ``multiplier`` from 2021 to ``end``."""
    base = (ROOT / "scenarios" / v8.SCENARIO).as_posix()
    return (f"extends: {base}\nname: v8_deficit\nevents:\n  cn_magnet_demand:\n"
            f"    type: demand_shock\n    country: CN\n    material: ndfeb_magnet\n"
            f"    start: 2021-01-01\n    end: {end}\n    multiplier: {multiplier}\n")


def row(multiplier: float, end: str) -> dict[str, object]:
    """One variant's balance and price checks."""
    if multiplier == 1.0:
        scenario = load_scenario(ROOT / "scenarios" / v8.SCENARIO)
    else:
        scenario = load_scenario_text(variant_text(multiplier, end), "v8_deficit")
    result = run_replication(scenario, 0, 0)
    start = pd.Timestamp(scenario.start_date)
    home = v8._monthly(result.prices, start)[v8.HOME]
    balance = v8._yearly_balance(result, start)
    rally = home.loc[v8.RALLY[0]:v8.RALLY[1]]
    peak, month = float(rally.max()), pd.Timestamp(rally.idxmax())
    rise = peak / float(home.loc[v8.REFERENCE_MONTH])
    mid_2023 = float(home.loc[v8.MID_2023[0]:v8.MID_2023[1]].mean())
    passed = sum([
        v8.PEAK_BAND[0] <= peak <= v8.PEAK_BAND[1],
        v8.RATIO_BAND[0] <= rise <= v8.RATIO_BAND[1],
        v8.PEAK_WINDOW[0] <= month <= v8.PEAK_WINDOW[1] and rise >= v8.RISE_FLOOR,
        v8.RECOVERY_BAND[0] <= mid_2023 <= v8.RECOVERY_BAND[1],
    ])
    out: dict[str, object] = {"multiplier": multiplier,
                              "until": "-" if multiplier == 1.0 else end}
    for year in (2021, 2022):
        made, used = balance.loc[year, "ndpr_oxide_made_t"], balance.loc[year, "ndpr_oxide_used_t"]
        out[f"deficit {year}"] = f"{used / made - 1:+.1%} ({used:,.0f} / {made:,.0f})"
    out |= {"peak USD/kg": round(peak, 1), "month": f"{month:%b %Y}",
            "mid-2023": round(mid_2023, 1), "checks 1-4": f"{passed} of 4"}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-m", "--multiplier", type=float, action="append",
                        help="China magnet demand multiplier (repeatable)")
    parser.add_argument("--end", action="append", help="shock end date (repeatable)")
    args = parser.parse_args(argv)
    rows = [row(1.0, "-")]
    for end in args.end or ENDS:
        rows += [row(m, end) for m in (args.multiplier or MULTIPLIERS) if m != 1.0]
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(pd.DataFrame(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
