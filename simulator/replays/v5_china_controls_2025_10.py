"""Replay V5: China's October 2025 expansion of rare-earth controls and its suspension.

Two scenarios, each run against the same unperturbed baseline (the world without events,
:func:`~.base.run_pair`):

- ``china_controls_2025_10.yaml`` (what happened): the 9 Oct 2025 expansion, suspended at
  Busan on 30 Oct 2025 before the extraterritorial rule took effect (DATA.md V5);
- ``china_controls_2025_10_not_suspended.yaml`` (counterfactual): no suspension, and the
  extraterritorial rule in force from 1 Dec 2025.

DATA.md gives no figures after October 2025, so the checks encode what the history and the
rules imply: with the suspension China's magnet exports and third-country magnet exports stay
at the baseline and no magnet user outside China runs short; without it, third countries'
exports of magnets made with Chinese Dy/Tb fall and some magnet user outside China runs short.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ..engine import ReplicationResult
from ..engine.builder import build_network
from ..engine.events.export_control import exporter_origin_share
from ..scenario import Scenario
from .base import Check, Replay, at_least, at_most, monthly_flows, relative, run_pair
from .figures import relative_series_figure

KEY = "v5"
TITLE = "V5: China's October 2025 expansion, suspended at Busan"
SUSPENDED = "china_controls_2025_10.yaml"
NOT_SUSPENDED = "china_controls_2025_10_not_suspended.yaml"
MAGNET = "ndfeb_magnet"
EXTRATERRITORIAL_EVENT = "cn_licences_2025_12_full_package"
SOURCE = "DATA.md V5 (9 Oct 2025 expansion; 30 Oct 2025 Busan suspension for one year)"

#: Windows (first and last month, inclusive).
SUSPENSION = ("2025-11", "2026-10")  # one year of suspension from 30 Oct 2025
EXTRATERRITORIAL = ("2025-12", "2026-11")  # first year of the 0.1% rule, from 1 Dec 2025

#: DATA.md V2 table: China's magnet exports in 2025 relative to the same month of 2024.
HISTORY_TOTAL = pd.Series({"2025-07": 1.057, "2025-09": 1.175, "2025-10": 1.158})


def _ts(month: str) -> pd.Timestamp:
    return pd.Timestamp(f"{month}-01")


def _window(series: pd.Series, months: tuple[str, str]) -> pd.Series:
    return series[_ts(months[0]):_ts(months[1])]


def reexporters(scenario: Scenario, exporter: str = "CN") -> list[str]:
    """Countries other than ``exporter`` whose magnets carry controlled content traced back to
    it above the extraterritorial threshold (the engine's own origin tracing)."""
    ev = scenario.events[EXTRATERRITORIAL_EVENT]
    assert ev.extraterritorial is not None
    content = sum(scenario.materials[MAGNET].elements.get(e, 0.0) for e in ev.elements)
    origin = exporter_origin_share(build_network(scenario), None, exporter)  # type: ignore[arg-type]
    return sorted(country for (country, material), share in origin.items()
                  if material == MAGNET and country != exporter
                  and share * content >= ev.extraterritorial.min_content)


def _magnet_rows(result: ReplicationResult, start, months: tuple[str, str]) -> pd.DataFrame:
    """Time-series rows of magnet demand outside China in ``months`` (inclusive)."""
    ts = result.timeseries
    first = (_ts(months[0]).date() - start).days
    last = ((_ts(months[1]) + pd.offsets.MonthBegin(1)).date() - start).days
    return ts[(ts["material"] == MAGNET) & (ts["country"] != "CN")
              & (ts["day"] >= first) & (ts["day"] < last)]


def magnet_shortfall_t(result: ReplicationResult, start, months: tuple[str, str]) -> float:
    """Tonnes of magnet demand outside China not met in ``months``."""
    return float(_magnet_rows(result, start, months)["shortfall_t"].sum())


def _sector_shortfall(result: ReplicationResult, start, months: tuple[str, str]) -> pd.Series:
    rows = _magnet_rows(result, start, months)
    rows = rows[rows["shortfall_t"] > 1e-9]
    return rows.groupby("demand_id", observed=True)["shortfall_t"].sum()


def _exports(result: ReplicationResult, start, origins: list[str]) -> pd.Series:
    parts = [monthly_flows(result, start, origin=o, materials=[MAGNET]) for o in origins]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, axis=1, sort=True).sum(axis=1) if parts else pd.Series(dtype=float)


def _ratio(num: pd.Series, den: pd.Series, months: tuple[str, str]) -> float:
    return float(_window(num.reindex(den.index, fill_value=0.0), months).sum()
                 / _window(den, months).sum())


def run_replay(root: Path) -> Replay:
    """Run both variants and their baseline (seed 0, one replication each); compute checks."""
    sus_s, sus, _, base = run_pair(root, SUSPENDED)
    not_s, nots, _, _ = run_pair(root, NOT_SUSPENDED)
    start = sus_s.start_date
    third = [c for c in reexporters(not_s)  # those that export magnets in the baseline
             if len(monthly_flows(base, start, origin=c, materials=[MAGNET]))]

    cn_b = monthly_flows(base, start, origin="CN", materials=[MAGNET])
    th_b = _exports(base, start, third)
    cn = {"suspended": relative(monthly_flows(sus, start, origin="CN", materials=[MAGNET]), cn_b),
          "not suspended": relative(monthly_flows(nots, start, origin="CN", materials=[MAGNET]),
                                    cn_b)}
    th_t = {"suspended": _exports(sus, start, third), "not suspended": _exports(nots, start, third)}
    th = {k: relative(v, th_b) for k, v in th_t.items()}

    lowest = _window(cn["suspended"], SUSPENSION)
    short_sus = magnet_shortfall_t(sus, start, SUSPENSION)
    short_not = magnet_shortfall_t(nots, start, EXTRATERRITORIAL)
    where = ", ".join(third)
    checks: list[Check] = [
        at_least("suspended: China magnet exports, Oct 2025 (expansion in force 9-30 Oct)",
                 100 * float(cn["suspended"].get(_ts("2025-10"), float("nan"))), 95, "%",
                 "DATA.md V2 table: Oct 2025 5,473 t, +15.8% y/y"),
        at_least("suspended: China magnet exports, lowest month Nov 2025-Oct 2026",
                 100 * float(lowest.min()), 95, "%", SOURCE),
        at_least(f"suspended: third-country magnet exports ({where}), Dec 2025-Nov 2026",
                 100 * _ratio(th_t["suspended"], th_b, EXTRATERRITORIAL), 95, "%",
                 SOURCE + ": the 0.1% rule never took effect"),
        at_most("suspended: magnet shortfall outside China, Nov 2025-Oct 2026",
                short_sus, 0, " t", SOURCE),
        at_most(f"not suspended: third-country magnet exports ({where}), Dec 2025-Nov 2026",
                100 * _ratio(th_t["not suspended"], th_b, EXTRATERRITORIAL), 90, "%",
                "DATA.md V5: foreign products with >= 0.1% Chinese-origin REE value need a "
                "licence from 1 Dec 2025"),
        Check("not suspended: magnet shortfall outside China, Dec 2025-Nov 2026",
              short_not, "> 0 t", short_not > 0,
              "DATA.md V5 (rules as announced; military end users denied in principle)"),
    ]
    monthly = pd.DataFrame({
        "cn_suspended_rel": cn["suspended"], "cn_not_suspended_rel": cn["not suspended"],
        "third_suspended_rel": th["suspended"], "third_not_suspended_rel": th["not suspended"],
        "cn_baseline_t": cn_b, "third_baseline_t": th_b,
    })
    shortfall = pd.DataFrame({
        "suspended": _sector_shortfall(sus, start, SUSPENSION),
        "not_suspended": _sector_shortfall(nots, start, EXTRATERRITORIAL),
    }).fillna(0.0)
    info = pd.DataFrame({"value": [where, short_sus, short_not]},
                        index=["reexporters", "shortfall_suspended_t",
                               "shortfall_not_suspended_t"])
    return Replay(KEY, TITLE, f"{SUSPENDED}, {NOT_SUSPENDED}", checks,
                  {"monthly": monthly, "shortfall_by_sector": shortfall, "info": info})


def replay_figure(replay: Replay) -> Figure:
    """China's and third countries' magnet exports relative to the baseline, both variants,
    with the windows of the expansion (suspended) and of the extraterritorial rule (not)."""
    monthly = replay.tables["monthly"]
    window = slice(pd.Timestamp("2025-08-01"), pd.Timestamp("2027-01-01"))
    where = replay.tables["info"].loc["reexporters", "value"]
    hist = pd.Series(HISTORY_TOTAL.to_numpy(),
                     index=pd.to_datetime([f"{m}-01" for m in HISTORY_TOTAL.index]))
    fig = relative_series_figure(
        "Magnet exports after China's Oct 2025 expansion: suspended vs not suspended (V5)",
        {"China, suspended (as happened)": monthly["cn_suspended_rel"][window],
         "China, not suspended": monthly["cn_not_suspended_rel"][window],
         f"third countries ({where}), suspended": monthly["third_suspended_rel"][window],
         f"third countries ({where}), not suspended":
             monthly["third_not_suspended_rel"][window]},
        {"China total, 2025 vs same month 2024": hist[window]},
        ylabel="magnet exports, % of the baseline (same month)",
        events=[("expansion in force 9-30 Oct 2025, then suspended (Busan)",
                 pd.Timestamp("2025-10-09"), pd.Timestamp("2025-10-30")),
                ("not suspended only: extraterritorial rule from 1 Dec 2025",
                 pd.Timestamp("2025-12-01"), pd.Timestamp("2027-01-01"))],
    )
    ax = fig.axes[0]
    lines = ax.get_lines()
    for line in lines[1:4:2]:  # the not-suspended variants dashed
        line.set_linestyle("--")
    lines[0].set(lw=1.5, zorder=4)  # both suspended series sit at ~100%: keep both visible
    lines[2].set(lw=4, zorder=3)
    spans = [p for p in ax.patches if p.get_label() and not p.get_label().startswith("_")]
    for patch, color in zip(spans, ("#E69F00", "0.8"), strict=False):
        patch.set_facecolor(color)
        patch.set_alpha(0.3)
    ax.axhline(0.95, color="0.3", lw=0.8, ls=":")
    ax.annotate("95%: floor of the suspended checks", (pd.Timestamp("2025-08-05"), 0.95),
                xytext=(0, -9), textcoords="offset points", fontsize=7, color="0.3")
    info = replay.tables["info"]["value"]
    ax.text(0.99, 0.02,
            f"magnet shortfall outside China\nsuspended, Nov 2025-Oct 2026: "
            f"{float(info['shortfall_suspended_t']):,.0f} t\nnot suspended, Dec 2025-Nov 2026: "
            f"{float(info['shortfall_not_suspended_t']):,.0f} t",
            transform=ax.transAxes, fontsize=7.5, va="bottom", ha="right",
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.8"})
    ax.set_xlim(pd.Timestamp("2025-08-01"), pd.Timestamp("2027-01-01"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False,
              fontsize=8)
    return fig
