"""The lever table of docs/replays/v6-allied-response.md ("What drives the result").

Each row runs a shipped V6 scenario with one lever switched off by ``--set`` overrides and
prints the mean JP + US NdFeB magnet shortfall (t) over the replications, from the threat's
start (30 Oct 2026) to the end of the horizon: in all, after 2028, Japan's, the US's and US
defense's. Paired replications (same seed): differences of a few percent are noise.

    python scripts/v6_levers.py            # 10 replications, seed 0 (the page's table)
    python scripts/v6_levers.py -n 3       # quicker
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
from simulator.scenario import load_scenario  # noqa: E402

START = pd.Timestamp("2026-10-30")
AFTER = pd.Timestamp("2028-01-01")
FRAMEWORK, ALLIES = "us_japan_framework.yaml", "us_allies_response.yaml"
PLANTS = "events.us_japan_framework.facilities"

#: (label, scenario file, overrides, bold)
VARIANTS: list[tuple[str, str, list[str], bool]] = [
    ("threat alone", "china_heavy_ree_controls_2026.yaml", [], False),
    ("US-Japan framework", FRAMEWORK, [], True),
    ("without the stockpile build-ups (`buy_tpy=0`)", FRAMEWORK,
     ["events.jogmec_dytb_buildup.buy_tpy=0", "events.us_nds_buildup.buy_tpy=0"], False),
    ("without shared stockpiles", FRAMEWORK,
     ["events.us_japan_framework.shared_stockpiles=false"], False),
    ("without the agreement tier (`allocation.rule=[domestic, priority]`)", FRAMEWORK,
     ["allocation.rule=[domestic, priority]"], False),
    ("without the offtake (`share=0`)", FRAMEWORK,
     ["events.us_japan_offtake.preferred_sourcing.share=0"], False),
    ("offtake share 0.5 instead of 0.2", FRAMEWORK,
     ["events.us_japan_offtake.preferred_sourcing.share=0.5"], False),
    ("without the new plants (the feed mine's and the three agreement plants' "
     "`capacity_tpy=0`)", FRAMEWORK,
     ["facilities.usjp_heavy_feed_mine.capacity_tpy=0",
      f"{PLANTS}.usjp_heavy_separation.capacity_tpy=0",
      f"{PLANTS}.usjp_dytb_metal.capacity_tpy=0", f"{PLANTS}.usjp_magnets.capacity_tpy=0"],
     False),
    ("all allied responses", ALLIES, [], True),
    ("without MP 10X (and its separation)", ALLIES,
     ["facilities.us_mp_10x_magnets.capacity_tpy=0",
      "facilities.us_mp_separation_10x.capacity_tpy=0"], False),
    ("without the US-Australia framework (`probability=0`)", ALLIES,
     ["events.us_australia_framework.probability=0"], False),
    ("without the DoD offtake of 10X (`shares={US: 0}`)", ALLIES,
     ['events.mp_10x_dod_offtake.shares={"US": 0}'], False),
]


def shortfalls(scenario_file: str, overrides: list[str], replications: int,
               seed: int) -> dict[str, float]:
    """Mean magnet shortfall (t) per replication from the threat's start, by group."""
    scenario = load_scenario(ROOT / "scenarios" / scenario_file, overrides)
    start = pd.Timestamp(scenario.start_date)
    totals = {"JP + US": 0.0, "after 2028": 0.0, "Japan": 0.0, "US": 0.0, "US defense": 0.0}
    for rep in range(replications):
        ts = run_replication(scenario, seed=seed, replication=rep).timeseries
        ts = ts[(ts["material"] == "ndfeb_magnet") & ts["country"].isin(["JP", "US"])]
        date = start + pd.to_timedelta(ts["day"].astype("int64"), unit="D")
        ts = ts[date >= START]
        date = date[date >= START]
        short = ts["shortfall_t"]
        totals["JP + US"] += float(short.sum())
        totals["after 2028"] += float(short[date >= AFTER].sum())
        totals["Japan"] += float(short[ts["country"] == "JP"].sum())
        totals["US"] += float(short[ts["country"] == "US"].sum())
        totals["US defense"] += float(short[(ts["country"] == "US")
                                            & (ts["sector"] == "defense")].sum())
    return {k: v / replications for k, v in totals.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--replications", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print("| variant | JP + US | after 2028 | Japan | US | US defense |")
    print("|---|---|---|---|---|---|")
    for label, scenario_file, overrides, bold in VARIANTS:
        t = shortfalls(scenario_file, overrides, args.replications, args.seed)
        name, total, after = (f"**{label}**", f"**{t['JP + US']:,.0f}**",
                              f"**{t['after 2028']:,.0f}**") if bold else (
            label, f"{t['JP + US']:,.0f}", f"{t['after 2028']:,.0f}")
        print(f"| {name} | {total} | {after} | {t['Japan']:,.0f} | {t['US']:,.0f} | "
              f"{t['US defense']:,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
