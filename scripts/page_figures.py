"""Re-measure the hand-written figures of docs/markets.md and the V2, V5 and V6 pages.

Each figure in those pages says how it was measured; this script measures them the same
way, so a change that moves prices or tonnes can be followed by one run (seed 0 throughout):

- ``metal``: V2 (April 2025 licences), 8 replications, monthly medians: ex-China Dy/Tb
  metal, oxide and magnet peaks (markets.md, "Prices");
- ``thrift``: V2 replication 0, shortfall and thrifted tonnes with and without thrifting
  (markets.md, "Thrifting and substitution");
- ``fill``: the heavy-REE threat, replication 0: Japan's wind and US defense magnet users,
  with and without thrifting ("Read fill rates with the tonnes");
- ``destock``: V7, 4 replications' mean monthly ex-China Dy/Tb oxide price over March,
  with and without ``max_cover_cut: 0.3``, and total shortfall ("Destocking");
- ``threat``: the heavy-REE threat, 4 replications: magnet demand designed out and short
  per country ("What is next");
- ``v4``: V4 replication 0: the world's magnet shortfall and China's thrifting;
- ``v6``: V6's three scenarios, 20 replications: JP + US magnet demand designed out and
  short from 30 Oct 2026 to 2033, and replication 0's yearly magnet price range of the
  JP/US tier, 2027-33 (V6 page, item 6);
- ``v6-dytb``: the threat and the framework, replications 0-2: yearly Dy/Tb oxide prices
  of the JP/US tier (0-1) and the share of weeks at the cap, mid-2028 to mid-2030 (V6 page,
  "Prices");
- ``v2``: the V2 page's monthly exports table (medians of 8 replications, t), its
  per-replication table, and replication 0's downstream figures;
- ``v5``: the V5 page's list: the not-suspended variant's magnet shortfall outside China,
  Dec 2025-Nov 2026, by country and US sector, and third countries' and China's magnet
  exports against the baseline.

    python scripts/page_figures.py              # all (about 11 minutes)
    python scripts/page_figures.py metal thrift v2
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.engine import run_replication  # noqa: E402
from simulator.replays import v2_china_controls_2025_04 as v2  # noqa: E402
from simulator.replays import v5_china_controls_2025_10 as v5  # noqa: E402
from simulator.replays.base import monthly_flows, monthly_prices, run_pair  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402

NO_THRIFT = ["market.demand_response.default.thrifting.max_share=0"]
MAGNET = "ndfeb_magnet"
JP_US = "ex-CN:JP,US"
V2_MONTHS = ("2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09", "2025-10")
V2_PER_REPLICATION = ("apr_pct", "may_pct", "jun_pct", "jul_pct", "us_may_pct", "h1_change_pct")


def _scenario(name: str, sets: list[str] | None = None):
    return load_scenario(ROOT / "scenarios" / f"{name}.yaml", sets or [])


def _dates(frame: pd.DataFrame, start) -> pd.Series:
    return pd.Timestamp(start) + pd.to_timedelta(frame["day"], unit="D")


def metal() -> None:
    sc = _scenario("china_controls_2025_04")
    start = pd.Timestamp(sc.start_date)
    runs: dict[str, list[pd.DataFrame]] = {"dytb_metal": [], "dytb_oxide": [], MAGNET: []}
    for rep in range(8):
        prices = run_replication(sc, 0, rep).prices
        for m, got in runs.items():
            got.append(monthly_prices(prices, m, start))
    for m, got in runs.items():
        med = pd.concat(got, keys=range(8), names=["rep"]).groupby(level="month").median()
        ex = next(c for c in med.columns if c != "CN")
        peak = med[ex].idxmax()
        print(f"metal {m}: ex-China peak {med[ex].max():,.0f} USD/kg in {peak:%b %Y}, "
              f"{med[ex].max() / med[ex].iloc[0]:.2f}x; China's highest {med['CN'].max():,.0f} "
              f"in {med['CN'].idxmax():%b %Y}")


def thrift() -> None:
    for label, sets in (("with thrifting", []), ("without", NO_THRIFT)):
        ts = run_replication(_scenario("china_controls_2025_04", sets), seed=0).timeseries
        print(f"thrift {label}: {ts['shortfall_t'].sum():,.0f} t short, "
              f"{ts['thrifted_t'].sum():,.0f} t thrifted")


def fill() -> None:
    for label, sets in (("with thrifting", []), ("without", NO_THRIFT)):
        ts = run_replication(_scenario("china_heavy_ree_controls_2026", sets), seed=0).timeseries
        for country, sector in (("JP", "wind"), ("US", "defense")):
            t = ts[(ts["country"] == country) & (ts["sector"] == sector)
                   & (ts["material"] == MAGNET)]
            short = t["shortfall_t"].sum()
            print(f"fill {label}: {country} {sector} {short:,.0f} t short, "
                  f"fill {1 - short / t['demand_t'].sum():.1%}")


def destock() -> None:
    cut = ["market.destocking.max_cover_cut=0.3"]
    for label, sets in (("without", []), ("max_cover_cut 0.3", cut)):
        sc = _scenario("prices_2025_04", sets)
        start = pd.Timestamp(sc.start_date)
        runs, short = [], 0.0
        for rep in range(4):
            r = run_replication(sc, 0, rep)
            runs.append(monthly_prices(r.prices, "dytb_oxide", start))
            short += float(r.timeseries["shortfall_t"].sum()) / 4
        stacked = pd.concat(runs, keys=range(4), names=["rep"])
        rel = stacked / stacked.xs(pd.Timestamp("2025-03-01"), level="month")
        mean = rel.groupby(level="month").mean()["ex-CN"].loc["2025-04-01":"2025-09-01"]
        months = ", ".join(f"{k:%b} {v:.2f}" for k, v in mean.items())
        print(f"destock {label}: {months}; {short:,.0f} t short")


def threat() -> None:
    sc = _scenario("china_heavy_ree_controls_2026")
    thrifted: dict[str, float] = {}
    short: dict[str, float] = {}
    for rep in range(4):
        ts = run_replication(sc, 0, rep).timeseries
        for country, g in ts[ts["material"] == MAGNET].groupby("country", observed=True):
            thrifted[country] = thrifted.get(country, 0.0) + g["thrifted_t"].sum() / 4
            short[country] = short.get(country, 0.0) + g["shortfall_t"].sum() / 4
    print("threat designed out (t):", {c: round(v) for c, v in thrifted.items()})
    print("threat short (t):", {c: round(v) for c, v in short.items()})


def v4() -> None:
    ts = run_replication(_scenario("myanmar_kachin_2024"), 0, 0).timeseries
    m = ts[ts["material"] == MAGNET]
    print(f"v4: world magnet shortfall {m['shortfall_t'].sum():,.0f} t, China designs out "
          f"{m.loc[m['country'] == 'CN', 'thrifted_t'].sum():,.0f} t")


def v6() -> None:
    first, end = pd.Timestamp("2026-10-30"), pd.Timestamp("2034-01-01")
    for name in ("china_heavy_ree_controls_2026", "us_japan_framework", "us_allies_response"):
        sc = _scenario(name)
        thrifted = short = 0.0
        for rep in range(20):
            r = run_replication(sc, 0, rep)
            ts = r.timeseries
            d = _dates(ts, sc.start_date)
            rows = ts[(ts["material"] == MAGNET) & ts["country"].isin(["JP", "US"])
                      & (d >= first) & (d < end)]
            thrifted += rows["thrifted_t"].sum() / 20
            short += rows["shortfall_t"].sum() / 20
            if rep == 0:
                p = r.prices[(r.prices["material"] == MAGNET) & (r.prices["market"] == JP_US)]
                year = _dates(p, sc.start_date).dt.year
                yearly = p.groupby(year)["price_usd_per_kg"].mean().loc[2027:2033]
                price = f"{yearly.min():,.0f}-{yearly.max():,.0f}"
        print(f"v6 {name}: {thrifted:,.0f} t designed out, {short:,.0f} t short (means of 20); "
              f"magnet price, yearly means 2027-33, replication 0: USD {price}/kg")


def v6_dytb() -> None:
    for name in ("china_heavy_ree_controls_2026", "us_japan_framework"):
        sc = _scenario(name)
        cap = sc.market.prices["dytb_oxide"].export_reference * sc.market.max_multiple
        yearly, at_cap = [], []
        for rep in range(3):
            p = run_replication(sc, 0, rep).prices
            p = p[(p["material"] == "dytb_oxide") & (p["market"] == JP_US)]
            d = _dates(p, sc.start_date)
            if rep < 2:
                yearly.append(p.groupby(d.dt.year)["price_usd_per_kg"].mean())
            window = p[(d >= "2028-07-01") & (d < "2030-07-01")]["price_usd_per_kg"]
            at_cap.append(f"{(window >= 0.98 * cap).mean():.0%}")  # (as compare counts it)
        means = pd.concat(yearly, axis=1).mean(axis=1).loc[2027:2033].round(0)
        print(f"v6-dytb {name}: yearly means (replications 0-1) {means.to_dict()}; weeks at "
              f"the cap (USD {cap:,.0f}/kg), mid-2028 to mid-2030 (replications 0-2) {at_cap}")


def _row(label: str, values) -> str:
    return "| " + " | ".join([label, *values]) + " |"


def v2_tables() -> None:
    replay = v2.run_replay(ROOT)
    monthly = replay.tables["monthly"]
    months = [pd.Timestamp(f"{m}-01") for m in V2_MONTHS]
    print(_row("simulated, total (median)", [f"{monthly.loc[m, 'total_t']:,.0f}" for m in months]))
    print(_row("simulated, US-bound (median)", [f"{monthly.loc[m, 'us_t']:,.0f}" for m in months]))
    per = replay.tables["replications"]
    for rep, row in per.iterrows():
        print(_row(str(rep), [f"{row[c]:.1f}%" if c != "us_may_pct" else f"{row[c]:.0f}%"
                              for c in V2_PER_REPLICATION]
                   + [f"{row['first_shortfall_weeks']:.1f}"]))
    med = per.drop(columns="first_shortfall_sector").median()
    cells = [f"**{med[c]:.1f}%**" if c != "us_may_pct" else f"**{med[c]:.0f}%**"
             for c in V2_PER_REPLICATION] + [f"**{med['first_shortfall_weeks']:.1f}**"]
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


SECTIONS: dict[str, Callable[[], None]] = {
    "metal": metal, "thrift": thrift, "fill": fill, "destock": destock, "threat": threat,
    "v4": v4, "v6": v6, "v6-dytb": v6_dytb, "v2": v2_tables, "v5": v5_list}


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
