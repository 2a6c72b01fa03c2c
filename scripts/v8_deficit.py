"""How large a deficit the V8 rally needs (docs/replays/v8-ndpr-2021-2023.md).

Runs the shipped V8 scenario with its China magnet-demand event
(``cn_magnet_demand_2021``, SMM's 2021 PrNd oxide gap) set to multiplier ``m`` from 1
January 2021 to the given end (``m = 1``: without it, V8's first, blind encoding), and
prints per row the NdPr oxide made and used in the model in 2021 and 2022 (world, t), the
deficit (used / made - 1, and used - made in t), the China tier's peak monthly price in
2021-22 and its month, mid-2023, and how many of V8's four price checks pass. The scenario
draws only the baseline's uncertain thrifting share: one replication (replication 0, seed
0), so a row's peak is one replication's, not the replay's median of four.

``--solve`` prints the shipped multiplier's derivation: the smallest multiplier, in steps
of 0.005, whose 2021 deficit (used - made) is at least SMM's 10,000 t, with the shipped end.

    python scripts/v8_deficit.py                       # the page's table
    python scripts/v8_deficit.py -m 1.18 --end 2023-01-01
    python scripts/v8_deficit.py --solve
"""

from __future__ import annotations

import argparse
import sys
from functools import cache
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.engine import run_replication  # noqa: E402
from simulator.replays import v8_ndpr_2021_2023 as v8  # noqa: E402

MULTIPLIERS = (1.15, 1.18, 1.2, 1.215, 1.25)
ENDS = ("2022-01-01", v8.GAP_END, "2023-01-01")
SMM_GAP_T = 10_000.0
"""SMM: China's 2021 PrNd oxide demand over 80,000 t against 70,000 t of supply."""
STEP = 0.005


@cache
def balance_and_prices(multiplier: float, end: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The yearly NdPr oxide balance and monthly prices of one variant (one replication)."""
    scenario = v8.gap_variant(ROOT, multiplier, end)
    result = run_replication(scenario, 0, 0)
    start = pd.Timestamp(scenario.start_date)
    return v8._yearly_balance(result, start), v8._monthly(result.prices, start)


def deficit_t(multiplier: float, end: str, year: int = 2021) -> float:
    """NdPr oxide used minus made in ``year`` (t)."""
    balance, _ = balance_and_prices(multiplier, end)
    return float(balance.loc[year, "ndpr_oxide_used_t"] - balance.loc[year, "ndpr_oxide_made_t"])


def solve(gap_t: float = SMM_GAP_T, end: str = v8.GAP_END, low: float = 1.0,
          high: float = 1.5) -> float:
    """The smallest multiplier on a ``STEP`` grid whose 2021 deficit is at least ``gap_t``
    (bisection: the deficit grows with the multiplier). Raises ValueError if ``high`` is
    not enough."""
    lo, hi = round(low / STEP), round(high / STEP)
    if deficit_t(hi * STEP, end) < gap_t:
        raise ValueError(f"multiplier {high} gives less than {gap_t:,.0f} t")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if deficit_t(mid * STEP, end) >= gap_t:
            hi = mid
        else:
            lo = mid
    return round(hi * STEP, 3)


def row(multiplier: float, end: str) -> dict[str, object]:
    """One variant's balance and price checks."""
    balance, monthly = balance_and_prices(multiplier, end)
    home = monthly[v8.HOME]
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
        out[f"deficit {year}"] = f"{used / made - 1:+.1%} ({used - made:+,.0f} t)"
    out |= {"peak USD/kg": round(peak, 1), "month": f"{month:%b %Y}",
            "mid-2023": round(mid_2023, 1), "checks 1-4": f"{passed} of 4"}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-m", "--multiplier", type=float, action="append",
                        help="China magnet demand multiplier (repeatable)")
    parser.add_argument("--end", action="append", help="shock end date (repeatable)")
    parser.add_argument("--solve", action="store_true",
                        help="derive the shipped multiplier from SMM's 10,000 t gap")
    args = parser.parse_args(argv)
    if args.solve:
        found = solve()
        for m in (found - STEP, found):
            print(f"multiplier {m:.3f} until {v8.GAP_END}: 2021 deficit "
                  f"{deficit_t(m, v8.GAP_END):,.0f} t")
        print(f"smallest multiplier with >= {SMM_GAP_T:,.0f} t: {found:.3f} "
              f"(shipped: {v8.GAP_MULTIPLIER})")
        return 0 if found == v8.GAP_MULTIPLIER else 1
    rows = [row(1.0, "-")]
    for end in args.end or ENDS:
        rows += [row(m, end) for m in (args.multiplier or MULTIPLIERS) if m != 1.0]
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(pd.DataFrame(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
