"""Replay V3 (DATA.md section 2): China's gallium and germanium export controls, 2023-2025.

Announced 3 July 2023 (MOFCOM/GAC Announcement No. 23), effective 1 August: July exports
spiked (germanium 8.63 t, more than double June), August exports of both metals were zero,
the first licences were granted in September, and exports to the US were banned on
3 December 2024 (suspended from 9 November 2025).

``scenarios/gallium_germanium_2023.yaml`` is a small two-metal chain of its own (no rare
earths): it shows the scenario language is material-agnostic. :func:`run_replay` runs it
against its unperturbed baseline (the same scenario without events) and returns the checks,
the monthly table the figure is drawn from and reported figures. ``python -m
simulator.replays.v3_gallium_germanium_2023`` prints them and writes the figure to
``docs/replays/v3-gallium-germanium-2023.png``.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from ..analysis.kpis import fill_rate
from ..engine import ReplicationResult
from ..scenario import Scenario
from ..viz.curves import PALETTE
from .base import Check, Replay, at_least, at_most, relative, run_pair, within
from .figures import relative_series_figure

KEY = "v3"
TITLE = "V3 China's gallium and germanium export controls (Jul 2023 - 2025)"
SCENARIO = "gallium_germanium_2023.yaml"
FIGURE = Path("docs") / "replays" / "v3-gallium-germanium-2023.png"
EXPORTER = "CN"
ELEMENTS = ("Ga", "Ge")

ANNOUNCED = pd.Timestamp("2023-07-03")
EFFECTIVE = pd.Timestamp("2023-08-01")
FIRST_LICENCES = pd.Timestamp("2023-09-21")
"""MOFCOM, 21 Sep 2023: 'a number' of licences granted (Reuters; Fastmarkets)."""
US_BAN = pd.Timestamp("2024-12-03")
US_BAN_SUSPENDED = pd.Timestamp("2025-11-09")
FIGURE_MONTHS = (pd.Timestamp("2023-01-01"), pd.Timestamp("2025-06-01"))

JULY_BOUND = 1.5
AUGUST_BOUND = 0.05
SEPTEMBER_BOUND = 0.25
OCT_NOV_HISTORY = 3.149 / 16.759
"""China's Ga+Ge exports Oct-Nov 2023 / Oct-Nov 2022, t: (0.648 + 0.25 + 0.721 + 1.53) /
(2.41 + 3.25 + 5.488 + 5.611) = 0.19 (Chinese customs via Reuters, 20 Nov 2023, and
rawmaterials.net, Dec 2023). The same months a year earlier stand in for the baseline."""
OCT_NOV_TOLERANCE = 0.15

SOURCE_V3 = "DATA.md V3"
SOURCE_JULY_GE = "DATA.md V3: July germanium exports 8.63 t, more than double June"
SOURCE_SEP = ("DATA.md V3: first licences granted in September (MOFCOM, 21 Sep 2023); "
              "customs: 1 kg of germanium, no gallium exported in Sep 2023 (Reuters)")
SOURCE_OCT_NOV = ("Chinese customs via Reuters (20 Nov 2023) and rawmaterials.net: Oct-Nov "
                  "2023 Ga+Ge exports 3.15 t vs 16.76 t in Oct-Nov 2022")
SOURCE_US = ("DATA.md V3: exports to the US banned 3 Dec 2024 (MOFCOM Announcement No. 46); "
             "suspended 9 Nov 2025 (MOFCOM)")

# Historical monthly exports relative to a baseline (figure markers). July: DATA.md's
# "more than double June"; Aug-Nov: customs tonnes / the same month of 2022.
HISTORY = {
    "germanium": {"2023-07-01": 2.0, "2023-08-01": 0.0, "2023-09-01": 0.0,
                  "2023-10-01": 0.648 / 2.41, "2023-11-01": 0.721 / 5.488},
    "gallium": {"2023-08-01": 0.0, "2023-09-01": 0.0,
                "2023-10-01": 0.25 / 3.25, "2023-11-01": 1.53 / 5.611},
}


# ------------------------------------------------------------------------------ series


def _month(start: dt.date, days: pd.Series) -> pd.Series:
    dates = pd.to_datetime(start) + pd.to_timedelta(days.astype("int64"), unit="D")
    return dates.dt.to_period("M").dt.to_timestamp()


def element_content(scenario: Scenario, elements: tuple[str, ...]) -> dict[str, float]:
    """Material id -> mass fraction of ``elements`` (materials without them are left out)."""
    out = {m: sum(mat.elements.get(e, 0.0) for e in elements)
           for m, mat in scenario.materials.items()}
    return {m: c for m, c in out.items() if c > 0}


def element_flows(result: ReplicationResult, scenario: Scenario, elements: tuple[str, ...],
                  *, origin: str, destination: str | None = None) -> pd.DataFrame:
    """Shipments from ``origin`` (to ``destination``), as day and tonnes of ``elements``."""
    f = result.flows
    content = element_content(scenario, elements)
    sel = f[(f["origin"] == origin) & f["material"].astype(str).isin(content)]
    if destination is not None:
        sel = sel[sel["destination"] == destination]
    tonnes = sel["tonnes"] * sel["material"].astype(str).map(content)
    return pd.DataFrame({"day": sel["day"].astype("int64"), "tonnes": tonnes})


def monthly(flows: pd.DataFrame, start: dt.date, months: pd.DatetimeIndex) -> pd.Series:
    """Tonnes per calendar month, every month of ``months`` present (0 if none shipped)."""
    s = flows["tonnes"].groupby(_month(start, flows["day"])).sum()
    return s.reindex(months, fill_value=0.0)


def _days(start: dt.date, first: pd.Timestamp, end: pd.Timestamp) -> tuple[int, int]:
    s = pd.Timestamp(start)
    return (first - s).days, (end - s).days


def _tonnes(flows: pd.DataFrame, start: dt.date, first: pd.Timestamp,
            end: pd.Timestamp) -> float:
    """Tonnes shipped on days in [first, end)."""
    a, b = _days(start, first, end)
    return float(flows.loc[(flows["day"] >= a) & (flows["day"] < b), "tonnes"].sum())


def _sum(s: pd.Series, first: str, last: str) -> float:
    return float(s[(s.index >= pd.Timestamp(first)) & (s.index <= pd.Timestamp(last))].sum())


def _fill(result: ReplicationResult, ids: list[str], start: dt.date, first: str,
          last: str) -> float:
    """Delivered / demanded over ``ids`` for the months first..last (inclusive)."""
    ts = result.timeseries
    sel = ts[ts["demand_id"].isin(ids)]
    month = _month(start, sel["day"])
    mask = (month >= pd.Timestamp(first)) & (month <= pd.Timestamp(last))
    return float(fill_rate(sel.loc[mask, "delivered_t"].sum(), sel.loc[mask, "demand_t"].sum()))


# ------------------------------------------------------------------------------ replay


def run_replay(root: Path | str) -> Replay:
    """Run the V3 scenario and its baseline; return checks, monthly table and reported figures."""
    root = Path(root)
    scenario, res, base_scenario, base = run_pair(root, SCENARIO)
    start = scenario.start_date
    end = pd.Timestamp(scenario.end_date)
    months = pd.date_range(pd.Timestamp(start), end - pd.Timedelta(days=1), freq="MS")

    def pair(elements: tuple[str, ...], destination: str | None = None):
        a = element_flows(res, scenario, elements, origin=EXPORTER, destination=destination)
        b = element_flows(base, base_scenario, elements, origin=EXPORTER,
                          destination=destination)
        return a, b

    all_f, all_b = pair(ELEMENTS)
    ga_f, ga_b = pair(("Ga",))
    ge_f, ge_b = pair(("Ge",))
    us_f, us_b = pair(ELEMENTS, "US")
    series = {name: (monthly(a, start, months), monthly(b, start, months))
              for name, (a, b) in {"all": (all_f, all_b), "ga": (ga_f, ga_b),
                                   "ge": (ge_f, ge_b), "us": (us_f, us_b)}.items()}
    table = pd.DataFrame(index=months)
    for name, (a, b) in series.items():
        table[f"{name}_t"] = a
        table[f"{name}_baseline_t"] = b
        table[f"{name}_rel"] = relative(a, b)
    table.index.name = "month"

    def rel(name: str, month: str) -> float:
        return float(table.loc[pd.Timestamp(month), f"{name}_rel"])

    sep_t = float(table.loc[pd.Timestamp("2023-09-01"), "all_t"])
    oct_nov = (_sum(table["all_t"], "2023-10-01", "2023-11-01")
               / _sum(table["all_baseline_t"], "2023-10-01", "2023-11-01"))
    us_ban_t = _tonnes(us_f, start, US_BAN, US_BAN_SUSPENDED)
    checks = [
        at_least("China's Ga+Ge exports, Jul 2023 (x baseline)", rel("all", "2023-07-01"),
                 JULY_BOUND, "x", SOURCE_V3),
        at_least("China's germanium exports, Jul 2023 (x baseline)", rel("ge", "2023-07-01"),
                 JULY_BOUND, "x", SOURCE_JULY_GE),
        at_most("China's Ga+Ge exports, Aug 2023 (% of baseline)",
                100 * rel("all", "2023-08-01"), 100 * AUGUST_BOUND, "%",
                "DATA.md V3: August exports of both were zero"),
        Check("China's Ga+Ge exports, Sep 2023 (t, licensed)", sep_t,
              "> 0 t (first licences granted)", sep_t > 0.0, SOURCE_SEP),
        at_most("China's Ga+Ge exports, Sep 2023 (% of baseline)",
                100 * rel("all", "2023-09-01"), 100 * SEPTEMBER_BOUND, "%", SOURCE_SEP),
        within("China's Ga+Ge exports, Oct-Nov 2023 (% of baseline)", 100 * oct_nov,
               round(100 * OCT_NOV_HISTORY), 100 * OCT_NOV_TOLERANCE, "%", SOURCE_OCT_NOV),
        at_most("China's Ga+Ge exports to the US, 3 Dec 2024 - 8 Nov 2025 (t)", us_ban_t, 0.0,
                " t", SOURCE_US),
    ]

    # ---- reported figures (no historical target, or one the model does not aim at)
    importers = sorted({d.country for d in scenario.demand.values()} - {EXPORTER})
    rows = [
        ("China's germanium exports, Jul 2023", float(table.loc["2023-07-01", "ge_t"]), "t",
         f"baseline {float(table.loc['2023-07-01', 'ge_baseline_t']):.2f} t; history 8.63 t"),
        ("China's gallium exports, Jul 2023", float(table.loc["2023-07-01", "ga_t"]), "t",
         f"baseline {float(table.loc['2023-07-01', 'ga_baseline_t']):.2f} t; history 5.15 t "
         "(no spike: the model over-predicts)"),
        ("China's Ga+Ge exports, Sep 2023", 100 * rel("all", "2023-09-01"), "% of baseline",
         f"{sep_t:.3f} t, licences approved from "
         f"{_first_licensed_day(all_f, start, EFFECTIVE)}"),
        ("China's gallium exports, Oct-Nov 2023",
         100 * _sum(table["ga_t"], "2023-10-01", "2023-11-01")
         / _sum(table["ga_baseline_t"], "2023-10-01", "2023-11-01"), "% of baseline",
         "history 1.78 t vs 8.86 t a year earlier (20%)"),
        ("China's germanium exports, Oct-Nov 2023",
         100 * _sum(table["ge_t"], "2023-10-01", "2023-11-01")
         / _sum(table["ge_baseline_t"], "2023-10-01", "2023-11-01"), "% of baseline",
         "history 1.37 t vs 7.90 t a year earlier (17%)"),
        ("China's gallium exports, 2024", 100 * _sum(table["ga_t"], "2024-01-01", "2024-12-01")
         / _sum(table["ga_baseline_t"], "2024-01-01", "2024-12-01"), "% of baseline",
         "history: record months in mid-2024 (11.2 t in Aug 2024, rawmaterials.net)"),
        ("China's germanium exports, 2024",
         100 * _sum(table["ge_t"], "2024-01-01", "2024-12-01")
         / _sum(table["ge_baseline_t"], "2024-01-01", "2024-12-01"), "% of baseline",
         "history: Aug 2024 germanium exports fell ~53% on July (rawmaterials.net)"),
        ("China's Ga+Ge exports to the US, Aug 2023 - Dec 2025",
         _tonnes(us_f, start, EFFECTIVE, end), "t",
         "licences to the US never approved; history: none in 2024"),
    ]
    for c in importers:
        ids = [d for d, spec in scenario.demand.items() if spec.country == c]
        rows.append((f"Fill rate of Ga/Ge users in {c}, Aug 2023 - Dec 2025",
                     100 * _fill(res, ids, start, "2023-08-01", "2025-12-01"), "%",
                     f"lowest month {100 * _lowest_fill(res, ids, start):.0f}%"))
    reported = pd.DataFrame(rows, columns=["figure", "value", "unit", "note"])

    history = pd.DataFrame({name: pd.Series({pd.Timestamp(k): v for k, v in pts.items()})
                            for name, pts in HISTORY.items()})
    history.index.name = "month"
    return Replay(KEY, TITLE, SCENARIO, checks,
                  tables={"monthly": table, "history": history, "reported": reported})


def _first_licensed_day(flows: pd.DataFrame, start: dt.date, effective: pd.Timestamp) -> str:
    day = (effective - pd.Timestamp(start)).days
    after = flows.loc[flows["day"] >= day, "day"]
    if after.empty:
        return "never"
    return (pd.Timestamp(start) + pd.Timedelta(days=int(after.min()))).strftime("%d %b %Y")


def _lowest_fill(result: ReplicationResult, ids: list[str], start: dt.date) -> float:
    ts = result.timeseries
    sel = ts[ts["demand_id"].isin(ids)]
    g = sel[["demand_t", "delivered_t"]].groupby(_month(start, sel["day"])).sum()
    return float(fill_rate(g["delivered_t"], g["demand_t"]).min())


# ------------------------------------------------------------------------------ figure

_RC = {"svg.hashsalt": "critmin", "svg.fonttype": "path", "font.size": 9}
_SPAN_COLORS = ("#E69F00", "#56B4E9", "#CC79A7")


def replay_figure(replay: Replay) -> Figure:
    """China's monthly Ga and Ge exports relative to the baseline, Jan 2023 - Jun 2025, with
    the customs points of Jul-Nov 2023 and the event windows shaded."""
    m = replay.tables["monthly"]
    m = m[(m.index >= FIGURE_MONTHS[0]) & (m.index <= FIGURE_MONTHS[1])]
    h = replay.tables["history"]
    right = FIGURE_MONTHS[1] + pd.offsets.MonthBegin(1)
    fig = relative_series_figure(
        replay.title,
        {"germanium exports": m["ge_rel"], "gallium exports": m["ga_rel"],
         "Ga+Ge exports to the US": m["us_rel"]},
        {"germanium (customs)": h["germanium"].dropna(),
         "gallium (customs)": h["gallium"].dropna()},
        ylabel="China's exports, % of the unperturbed baseline (same month)",
        events=[("pre-buying: announced 3 Jul, effective 1 Aug 2023", ANNOUNCED, EFFECTIVE),
                ("licences required, none granted yet (to 21 Sep 2023)", EFFECTIVE,
                 FIRST_LICENCES),
                ("exports to the US banned from 3 Dec 2024", US_BAN,
                 min(US_BAN_SUSPENDED, right))],
    )
    with mpl.rc_context(_RC):
        fig.set_size_inches(10, 5.4)
        ax = fig.axes[0]
        spans = [p for p in ax.patches if p.get_label() and not p.get_label().startswith("_")]
        for patch, color in zip(spans, _SPAN_COLORS, strict=False):
            patch.set_facecolor(color)
            patch.set_alpha(0.22)
        # History markers in the colour of their simulated line, told apart by shape.
        for line in ax.get_lines():
            label = line.get_label()
            if label.startswith("history: germanium"):
                line.set(color=PALETTE[0], marker="o", markeredgecolor="white", markersize=8)
            elif label.startswith("history: gallium"):
                line.set(color=PALETTE[1], marker="D", markeredgecolor="white", markersize=7)
        ax.set_xlim(FIGURE_MONTHS[0], right)
        ax.set_ylim(-0.04, 2.3)
        ax.annotate("July: germanium 8.63 t, more than\ndouble June (history plotted at 2x)",
                    (ANNOUNCED + pd.Timedelta(days=14), 2.0), xytext=(28, 4),
                    textcoords="offset points", fontsize=8, color="0.3", va="center",
                    arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.8})
        ax.legend(loc="upper right", fontsize=8, frameon=True, framealpha=0.92,
                  title="history: Aug-Nov 2023 = customs tonnes / same month of 2022",
                  title_fontsize=7.5)
        ax.set_title("V3: China's gallium and germanium exports under its 2023 licensing and "
                     "2024 US ban" + ("" if replay.passed else " - CHECKS FAIL"))
    return fig


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[2]
    replay = run_replay(root)
    with pd.option_context("display.width", 220, "display.max_colwidth", 100):
        print(replay.table().to_string(index=False))
        print()
        print(replay.tables["reported"].to_string(index=False, float_format="{:.2f}".format))
    fig = replay_figure(replay)
    out = root / FIGURE
    out.parent.mkdir(parents=True, exist_ok=True)
    with mpl.rc_context(_RC):
        fig.savefig(out, dpi=150, metadata={"Software": None})
    print(f"\nwrote {out.relative_to(root)}")
    return 0 if replay.passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
