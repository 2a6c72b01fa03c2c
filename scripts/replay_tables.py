"""Print the hand-written tables of the V2 and V5 replay pages, as the pages show them.

- ``v2``: docs/replays/v2-china-controls-2025-04.md: the monthly exports table (medians of
  the 8 replications, t), the per-replication table, and replication 0's downstream
  figures (civil magnet sectors outside China that run short, their tonnes, the fill rate
  of magnet users outside China over 2025);
- ``v5``: docs/replays/v5-china-controls-2025-10.md: the not-suspended variant's magnet
  shortfall outside China, Dec 2025-Nov 2026, by country and US sector, and third
  countries' and China's magnet exports against the baseline.

    python scripts/replay_tables.py          # both (about a minute)
    python scripts/replay_tables.py v2
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.replays import v2_china_controls_2025_04 as v2  # noqa: E402
from simulator.replays import v5_china_controls_2025_10 as v5  # noqa: E402
from simulator.replays.base import monthly_flows, run_pair  # noqa: E402

MONTHS = ("2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09", "2025-10")
PER_REPLICATION = ("apr_pct", "may_pct", "jun_pct", "jul_pct", "us_may_pct", "h1_change_pct")


def _row(label: str, values) -> str:
    return "| " + " | ".join([label, *values]) + " |"


def v2_tables() -> None:
    replay = v2.run_replay(ROOT)
    monthly = replay.tables["monthly"]
    months = [pd.Timestamp(f"{m}-01") for m in MONTHS]
    print(_row("simulated, total (median)", [f"{monthly.loc[m, 'total_t']:,.0f}" for m in months]))
    print(_row("simulated, US-bound (median)", [f"{monthly.loc[m, 'us_t']:,.0f}" for m in months]))
    per = replay.tables["replications"]
    for rep, row in per.iterrows():
        print(_row(str(rep), [f"{row[c]:.1f}%" if c != "us_may_pct" else f"{row[c]:.0f}%"
                              for c in PER_REPLICATION]
                   + [f"{row['first_shortfall_weeks']:.1f}"]))
    med = per.drop(columns="first_shortfall_sector").median()
    cells = [f"**{med[c]:.1f}%**" if c != "us_may_pct" else f"**{med[c]:.0f}%**"
             for c in PER_REPLICATION] + [f"**{med['first_shortfall_weeks']:.1f}**"]
    print(_row("**median**", cells))
    print(f"best of July and August, median: {med['recovery_pct']:.0f}%")
    scenario, result, _, _ = run_pair(ROOT, v2.SCENARIO, replication=0)
    ts = result.timeseries
    year = (pd.Timestamp(scenario.start_date) + pd.to_timedelta(ts["day"], unit="D")).dt.year
    abroad = (ts["material"] == "ndfeb_magnet") & (ts["country"] != "CN")
    short = ts[abroad & (ts["shortfall_t"] > 1e-9)]
    in_2025 = ts[abroad & (year == 2025)]
    print(f"downstream, replication 0: {short['demand_id'].nunique()} civil magnet sectors "
          f"outside China run short, {short['shortfall_t'].sum():,.0f} t in all; fill rate "
          f"over 2025 {1 - in_2025['shortfall_t'].sum() / in_2025['demand_t'].sum():.1%}")


def v5_list() -> None:
    sus_s, _, _, base = run_pair(ROOT, v5.SUSPENDED)
    not_s, nots, _, _ = run_pair(ROOT, v5.NOT_SUSPENDED)
    start = sus_s.start_date
    rows = v5._magnet_rows(nots, start, v5.EXTRATERRITORIAL)
    by_country = rows.groupby("country", observed=True)["shortfall_t"].sum()
    us = rows[rows["country"] == "US"].groupby("sector", observed=True)["shortfall_t"].sum()
    third = [c for c in v5.reexporters(not_s)
             if len(monthly_flows(base, start, origin=c, materials=[v5.MAGNET]))]
    base_third = v5._exports(base, start, third)
    ratio = v5._ratio(v5._exports(nots, start, third), base_third, v5.EXTRATERRITORIAL)
    base_cn = monthly_flows(base, start, origin="CN", materials=[v5.MAGNET])
    cn = v5._ratio(monthly_flows(nots, start, origin="CN", materials=[v5.MAGNET]), base_cn,
                   v5.EXTRATERRITORIAL)
    print(f"v5 not suspended, Dec 2025-Nov 2026: {rows['shortfall_t'].sum():,.0f} t short; "
          + ", ".join(f"{c} {t:,.0f} t" for c, t in by_country.sort_values(ascending=False)
                      .items()))
    print("v5 US by sector: " + ", ".join(f"{s} {t:,.0f} t" for s, t in us.items() if t >= 0.5))
    print(f"v5 third countries' magnet exports {ratio:.0%} of the baseline, China's {cn:.0%}")


SECTIONS: dict[str, Callable[[], None]] = {"v2": v2_tables, "v5": v5_list}


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(SECTIONS)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        print(f"unknown section(s) {unknown}; expected some of {list(SECTIONS)}",
              file=sys.stderr)
        return 2
    for name in names:
        SECTIONS[name]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
