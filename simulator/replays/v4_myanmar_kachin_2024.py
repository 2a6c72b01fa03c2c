"""Replay V4 (DATA.md section 2): the Kachin Independence Army takes Myanmar's Panwa hub.

On 19 Oct 2024 the KIA captured the Panwa rare-earth mining hub; China's imports from
Myanmar were down to 311 t in Feb 2025 (-89% year on year). Myanmar's ion-adsorption clays
are about half the world's heavy-REE feed, nearly all to China, so the replay also reports
what the outage does to Chinese Dy/Tb oxide output, to China's Dy/Tb exports and to the
Dy/Tb-consuming sectors outside China (magnet users in JP, US, DE...).

``scenarios/myanmar_kachin_2024.yaml`` encodes the event; :func:`run_replay` runs it against
its unperturbed baseline (same scenario without events) and returns the checks, the monthly
table the figure is drawn from, and the reported figures. ``python -m
simulator.replays.v4_myanmar_kachin_2024`` prints the checks and writes the figure to
``docs/replays/v4-myanmar-kachin-2024.png``.

Months up to Dec 2025 are compared with history; 2026-27 is a counterfactual (the outage
persists, nobody responds) that shows how long the stocks along the Dy/Tb chain last.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import matplotlib as mpl
import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..analysis.kpis import fill_rate
from ..engine import ReplicationResult
from ..scenario import Scenario
from ..viz.curves import PALETTE
from .base import Check, Replay, at_least, monthly_flows, relative, run_pair

KEY = "v4"
TITLE = "V4 Myanmar outage: KIA takes the Panwa hub (19 Oct 2024)"
SCENARIO = "myanmar_kachin_2024.yaml"
FIGURE = Path("docs") / "replays" / "v4-myanmar-kachin-2024.png"

CAPTURE = pd.Timestamp("2024-10-19")
WINDOW = (pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-01"))
"""Months 3-5 after the capture: some month in it must be at <= 20% of baseline."""
TROUGH_BOUND = 0.20
HISTORY_FEB_2025 = 0.11
"""China's imports from Myanmar, Feb 2025: 311 t, -89% year on year (DATA.md V4)."""
HISTORY_TOLERANCE = 0.09
HISTORY_END = pd.Timestamp("2025-12-01")
"""Last month compared with history; later months are a counterfactual."""
DYTB_OUTPUT_BAND = (0.50, 0.85)
BEFORE_CONTROLS = (pd.Timestamp("2024-10-01"), pd.Timestamp("2025-03-01"))
"""From the capture to the month before China's 4 April 2025 controls (replay V2)."""

SOURCE_V4 = "DATA.md V4: China's imports from Myanmar 311 t in Feb 2025, -89% y/y"
SOURCE_SPLIT = ("DATA.md section 1: Myanmar ~half the world's heavy-REE feed; baseline split "
                "of China's feed (sources.csv)")
SOURCE_V2 = ("DATA.md V2: China's magnet exports Jan 2025 a record 6,357 t; users ran out "
             "only 4-8 weeks after the April 2025 controls")

_RC = {"svg.hashsalt": "critmin", "svg.fonttype": "path", "font.size": 9}


# ------------------------------------------------------------------------------ series


def _month_index(start: dt.date, days: pd.Series) -> pd.Series:
    dates = pd.to_datetime(start) + pd.to_timedelta(days.astype("int64"), unit="D")
    return dates.dt.to_period("M").dt.to_timestamp()


def monthly_production(result: ReplicationResult, start: dt.date, *, country: str,
                       materials: list[str]) -> pd.Series:
    """Tonnes produced per calendar month in ``country`` of ``materials``."""
    p = result.production
    sel = p[(p["country"] == country) & p["material"].isin(materials)]
    return sel["tonnes"].groupby(_month_index(start, sel["day"])).sum()


def monthly_fill(result: ReplicationResult, start: dt.date, demand_ids: list[str]
                 ) -> tuple[pd.Series, pd.Series]:
    """(delivered, demanded) tonnes per calendar month over ``demand_ids``."""
    ts = result.timeseries
    sel = ts[ts["demand_id"].isin(demand_ids)]
    g = sel[["demand_t", "delivered_t"]].groupby(_month_index(start, sel["day"])).sum()
    return g["delivered_t"], g["demand_t"]


def element_exports(result: ReplicationResult, start: dt.date, scenario: Scenario,
                    exporter: str, elements: tuple[str, ...]) -> pd.Series:
    """Tonnes of ``elements`` contained in everything ``exporter`` ships abroad, per month."""
    f = result.flows
    content = {m: sum(mat.elements.get(e, 0.0) for e in elements)
               for m, mat in scenario.materials.items()}
    sel = f[f["origin"] == exporter]
    tonnes = sel["tonnes"] * sel["material"].astype(str).map(content).fillna(0.0)
    return tonnes.groupby(_month_index(start, sel["day"])).sum()


def dytb_materials(scenario: Scenario) -> list[str]:
    """Materials that contain Dy or Tb (by their ``elements``)."""
    return [m for m, mat in scenario.materials.items()
            if mat.elements.get("Dy", 0.0) > 0 or mat.elements.get("Tb", 0.0) > 0]


def _period(s: pd.Series, first: pd.Timestamp, last: pd.Timestamp) -> pd.Series:
    return s[(s.index >= first) & (s.index <= last)]


def _ratio(num: pd.Series, den: pd.Series, first: str, last: str) -> float:
    """Monthly ``num`` over ``den`` summed from ``first`` to ``last`` (1.0 when ``den`` sums
    to 0: :func:`~simulator.analysis.kpis.fill_rate` for delivered over demanded tonnes)."""
    a, b = pd.Timestamp(first), pd.Timestamp(last)
    return float(fill_rate(_period(num.reindex(den.index, fill_value=0.0), a, b).sum(),
                           _period(den, a, b).sum()))


def _first_below(rel: pd.Series, bound: float, after: pd.Timestamp) -> pd.Timestamp | None:
    hit = rel[(rel.index >= after.to_period("M").to_timestamp()) & (rel <= bound)]
    return None if hit.empty else hit.index.min()


def _months_after_capture(month: pd.Timestamp | None) -> float:
    if month is None:
        return float("nan")
    return float((month.year - CAPTURE.year) * 12 + month.month - CAPTURE.month)


# ------------------------------------------------------------------------------ replay


def run_replay(root: Path | str) -> Replay:
    """Run the V4 scenario and its baseline; return checks, monthly table and reported figures."""
    root = Path(root)
    scenario, res, base_scenario, base = run_pair(root, SCENARIO)
    start = scenario.start_date
    dytb = dytb_materials(scenario)
    outside = [d for d, spec in scenario.demand.items()
               if spec.country != "CN" and spec.material in dytb]
    outside_countries = sorted({scenario.demand[d].country for d in outside})
    non_cn_magnets = sorted({f.country for f in scenario.facilities.values()
                             if f.country != "CN" and "dytb_metal" in
                             scenario.recipes[f.recipe].inputs})

    def both(fn, *args, **kw) -> tuple[pd.Series, pd.Series]:
        return fn(res, start, *args, **kw), fn(base, start, *args, **kw)

    mm, mm_b = both(monthly_flows, origin="MM", destination="CN")
    dy, dy_b = both(monthly_production, country="CN", materials=["dytb_oxide"])
    dyx, dyx_b = both(monthly_flows, origin="CN", materials=["dytb_oxide", "dytb_metal"])
    dyc = element_exports(res, start, scenario, "CN", ("Dy", "Tb"))
    dyc_b = element_exports(base, start, base_scenario, "CN", ("Dy", "Tb"))
    mag, mag_b = both(monthly_flows, origin="CN", materials=["ndfeb_magnet"])
    (got, want), (got_b, want_b) = both(monthly_fill, outside)
    nonc = pd.Series(0.0, index=mm_b.index)
    nonc_b = pd.Series(0.0, index=mm_b.index)
    for c in non_cn_magnets:
        a, b = both(monthly_production, country=c, materials=["ndfeb_magnet"])
        nonc = nonc.add(a, fill_value=0.0)
        nonc_b = nonc_b.add(b, fill_value=0.0)

    monthly = pd.DataFrame({
        "mm_cn_t": mm.reindex(mm_b.index, fill_value=0.0),
        "mm_cn_baseline_t": mm_b,
        "mm_cn_rel": relative(mm, mm_b),
        "cn_dytb_oxide_rel": relative(dy, dy_b),
        "cn_dytb_exports_rel": relative(dyx, dyx_b),
        "cn_dytb_content_exports_rel": relative(dyc, dyc_b),
        "cn_magnet_exports_rel": relative(mag, mag_b),
        "non_cn_magnet_output_rel": relative(nonc, nonc_b),
        "fill_outside_cn": (got / want).reindex(mm_b.index),
        "fill_outside_cn_baseline": (got_b / want_b).reindex(mm_b.index),
    })
    monthly.index.name = "month"

    # ---- checks
    rel = monthly["mm_cn_rel"]
    first = _first_below(rel, TROUGH_BOUND, CAPTURE)
    months = _months_after_capture(first)
    feb = float(rel.get(pd.Timestamp("2025-02-01"), float("nan")))
    dy_2025 = _period(monthly["cn_dytb_oxide_rel"], pd.Timestamp("2025-01-01"), HISTORY_END)
    dy_low = float(dy_2025.min())
    lo, hi = DYTB_OUTPUT_BAND
    mag_before = _ratio(mag, mag_b, "2024-11-01", "2025-03-01")
    fill_before = _ratio(got, want, *(str(t.date()) for t in BEFORE_CONTROLS))
    checks = [
        Check("Myanmar -> China concentrate: months from the capture to the first month at "
              "<= 20% of baseline", months,
              "3-5 (some month of Jan-Mar 2025)", 3 <= months <= 5, SOURCE_V4),
        Check("Myanmar -> China concentrate, Feb 2025 (% of baseline)", 100 * feb,
              f"{100 * HISTORY_FEB_2025:g}% +- {100 * HISTORY_TOLERANCE:g} points "
              "(311 t, -89% y/y)",
              abs(feb - HISTORY_FEB_2025) <= HISTORY_TOLERANCE, SOURCE_V4),
        Check("China's Dy/Tb oxide output, lowest month of 2025 (% of baseline)",
              100 * dy_low, f"{100 * lo:g}-{100 * hi:g}% (descriptive: Myanmar is about half "
              "of China's heavy-REE feed)", lo <= dy_low <= hi, SOURCE_SPLIT),
        at_least("China's magnet exports, Nov 2024-Mar 2025 (% of baseline)",
                 100 * mag_before, 95, "%", SOURCE_V2),
        at_least("Fill rate of Dy/Tb-consuming sectors outside China, Oct 2024-Mar 2025 (%)",
                 100 * fill_before, 99, "%", SOURCE_V2),
    ]

    # ---- reported figures (no historical target)
    dy_first = _first_below(monthly["cn_dytb_oxide_rel"], 0.95, CAPTURE)
    fill_first = _first_below(monthly["fill_outside_cn"], 0.95, CAPTURE)
    dyx_2025 = _period(monthly["cn_dytb_exports_rel"], pd.Timestamp("2025-01-01"), HISTORY_END)

    def month(t: pd.Timestamp | None) -> str:
        return "none in the horizon" if t is None else t.strftime("%b %Y")

    reported = pd.DataFrame([
        ("China's Dy/Tb oxide output, 2025", 100 * _ratio(dy, dy_b, "2025-01-01", "2025-12-01"),
         "% of baseline", f"first month below 95%: {month(dy_first)}"),
        ("China's Dy/Tb oxide + metal exports, 2025",
         100 * _ratio(dyx, dyx_b, "2025-01-01", "2025-12-01"), "% of baseline",
         f"lowest month of 2025: {100 * float(dyx_2025.min()):.0f}%"),
        ("Dy+Tb contained in all of China's exports (oxide, metal, magnets), 2025",
         100 * _ratio(dyc, dyc_b, "2025-01-01", "2025-12-01"), "% of baseline", ""),
        ("Magnet output outside China, 2025",
         100 * _ratio(nonc, nonc_b, "2025-01-01", "2025-12-01"), "% of baseline",
         "plants in " + ", ".join(non_cn_magnets)),
        ("Fill rate of Dy/Tb-consuming sectors outside China, 2025",
         100 * _ratio(got, want, "2025-01-01", "2025-12-01"), "%",
         f"{len(outside)} magnet demand sectors in {len(outside_countries)} countries"),
        ("Counterfactual: China's Dy/Tb oxide + metal exports, 2026",
         100 * _ratio(dyx, dyx_b, "2026-01-01", "2026-12-01"), "% of baseline",
         "outage persists, nobody responds"),
        ("Counterfactual: China's magnet exports, 2026",
         100 * _ratio(mag, mag_b, "2026-01-01", "2026-12-01"), "% of baseline",
         "outage persists, nobody responds"),
        ("Counterfactual: fill rate of Dy/Tb-consuming sectors outside China, 2027",
         100 * _ratio(got, want, "2027-01-01", "2027-12-01"), "%",
         f"first month below 95%: {month(fill_first)} "
         f"({_months_after_capture(fill_first):.0f} months after the capture)"),
    ], columns=["figure", "value", "unit", "note"])

    by_country = {}
    for c in outside_countries:
        ids = [d for d in outside if scenario.demand[d].country == c]
        g, w = monthly_fill(res, start, ids)
        by_country[c] = {y: 100 * _ratio(g, w, f"{y}-01-01", f"{y}-12-01")
                         for y in ("2025", "2026", "2027")}
    fill_table = pd.DataFrame(by_country).T
    fill_table.index.name = "country"

    history = pd.DataFrame({"ratio": [HISTORY_FEB_2025], "tonnes": [311.0],
                            "low": [HISTORY_FEB_2025 - HISTORY_TOLERANCE],
                            "high": [HISTORY_FEB_2025 + HISTORY_TOLERANCE]},
                           index=pd.DatetimeIndex([pd.Timestamp("2025-02-01")], name="month"))
    return Replay(KEY, TITLE, SCENARIO, checks,
                  tables={"monthly": monthly, "history": history, "reported": reported,
                          "fill_by_country": fill_table})


# ------------------------------------------------------------------------------ figure


def replay_figure(replay: Replay) -> Figure:
    """Two panels: Myanmar -> China concentrate flows with the Feb 2025 history point, and
    China's Dy/Tb output and exports with the fill rate of Dy/Tb users outside China."""
    m = replay.tables["monthly"]
    hist = replay.tables["history"]
    m = m[m.index >= pd.Timestamp("2024-04-01")]
    end = m.index.max() + pd.offsets.MonthBegin(1)
    mid = pd.Timedelta(days=14)
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(10, 7.2), layout="constrained")
        ax1, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=[1, 1.15])
        for ax in (ax1, ax2):
            ax.axvspan(HISTORY_END + pd.offsets.MonthBegin(1), end, color="0.92", lw=0)
            ax.axvline(CAPTURE, color="0.25", lw=1, ls=":")
            ax.axhline(1.0, color="0.4", lw=0.8, ls="--")
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
            ax.grid(alpha=0.3)
            ax.set_xlim(m.index.min(), end)

        # Panel 1: flows and history.
        ax1.axvspan(WINDOW[0], WINDOW[1] + pd.offsets.MonthBegin(1), ymax=TROUGH_BOUND / 1.15,
                    color=PALETTE[4], alpha=0.25, lw=0,
                    label="check: some month of Jan-Mar 2025 at <= 20%")
        ax1.step(m.index, m["mm_cn_rel"], where="post", color=PALETTE[0], lw=2,
                 label="simulated: Myanmar -> China concentrate")
        ax1.errorbar(hist.index + mid, hist["ratio"],
                     yerr=[hist["ratio"] - hist["low"], hist["high"] - hist["ratio"]],
                     fmt="o", color=PALETTE[1], capsize=4, ms=7,
                     label="history: Feb 2025, 311 t (-89% y/y) +- 9 points")
        ax1.set_ylim(0, 1.15)
        ax1.set_ylabel("% of unperturbed baseline")
        ax1.set_title("Myanmar -> China rare-earth concentrate, monthly", loc="left")
        ax1.annotate("KIA takes Panwa\n19 Oct 2024", (CAPTURE, 0.55), xytext=(-5, 0),
                     textcoords="offset points", fontsize=8, color="0.25", ha="right")
        ax1.annotate("counterfactual: outage persists,\nno response (not history)",
                     (HISTORY_END + pd.offsets.MonthBegin(1), 0.55), xytext=(6, 0),
                     textcoords="offset points", fontsize=8, color="0.35")
        ax1.legend(loc="lower right", frameon=True, framealpha=0.9, fontsize=8)

        # Panel 2: Dy/Tb.
        lines = [
            ("cn_dytb_oxide_rel", "China's Dy/Tb oxide output (% of baseline)", PALETTE[2], "-"),
            ("cn_dytb_exports_rel", "China's Dy/Tb oxide + metal exports (% of baseline)",
             PALETTE[3], "-"),
            ("cn_magnet_exports_rel", "China's magnet exports (% of baseline)", PALETTE[5], "-"),
            ("fill_outside_cn", "fill rate of Dy/Tb users outside China (magnets)",
             PALETTE[6], "--"),
        ]
        lo, hi = DYTB_OUTPUT_BAND
        ax2.fill_between([pd.Timestamp("2025-01-01"), HISTORY_END + pd.offsets.MonthBegin(1)],
                         lo, hi, color=PALETTE[2], alpha=0.12, lw=0,
                         label=f"check: lowest 2025 month of Dy/Tb oxide output in "
                               f"{100 * lo:g}-{100 * hi:g}%")
        for col, label, color, ls in lines:
            ax2.step(m.index, m[col], where="post", color=color, lw=2, ls=ls, label=label)
        ax2.set_ylim(0, 1.35)
        ax2.set_ylabel("% of baseline / fill rate")
        ax2.set_title("What it does to Dy/Tb: China's output and exports, users outside China",
                      loc="left")
        ax2.legend(loc="lower left", frameon=True, framealpha=0.9, fontsize=8)
        ax2.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
        ax2.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax2.xaxis.get_major_locator()))
        fig.suptitle(replay.title + (" - all checks pass" if replay.passed
                                     else " - CHECKS FAIL"), fontsize=11)
        return fig


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[2]
    replay = run_replay(root)
    with pd.option_context("display.width", 200, "display.max_colwidth", 90):
        print(replay.table().to_string(index=False))
        print()
        print(replay.tables["reported"].to_string(index=False, float_format="{:.1f}".format))
        print()
        print(replay.tables["fill_by_country"].round(1).to_string())
    fig = replay_figure(replay)
    out = root / FIGURE
    out.parent.mkdir(parents=True, exist_ok=True)
    with mpl.rc_context(_RC):
        fig.savefig(out, dpi=150, metadata={"Software": None})
    print(f"\nwrote {out.relative_to(root)}")
    return 0 if replay.passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
