"""V6 allied responses (DATA.md section 2): the heavy-REE threat alone, with the US-Japan
framework, and with every allied response, compared for Japan's and the US's magnet users.

Three shipped scenarios, each extending the one before, so replication ``r`` of each draws the
same uncertain parameters (common random numbers) and the differences come from the responses:

- ``china_heavy_ree_controls_2026.yaml``: the threat alone;
- ``us_japan_framework.yaml``: plus the US-Japan framework of 28 Oct 2025;
- ``us_allies_response.yaml``: plus the US-Australia framework and MP Materials' 10X plant.

Metrics per scenario, sector group (Japan EV, US EV, Japan and US defense, Japan electronics,
and all magnet users of each country) and replication, from the control's effective date
(30 Oct 2026):

- ``fill_rate``: delivered / demanded tonnes to the end of the horizon;
- ``weeks_to_short``: weeks until the first week below 95% (time to survive);
- ``trough``: the lowest fill rate of a rolling 13-week (quarterly) window, and its date. The
  engine decides a licence for a whole week's lot of one sector on one lane at once, so weekly
  and monthly series swing between 0 and 100% far more than real trade, made of many
  separately licensed shipments, would; a quarter averages that lottery out;
- ``shortfall_t``: tonnes short to the end of the horizon, and ``shortfall_after_2028_t``
  from 1 Jan 2028 (when co-financed plants can start to matter);
- ``recovered``: the first date after the trough from which the 13-week fill rate stays at or
  above 95% to the end of the horizon (a sustained recovery); ``months_to_recover`` counts
  from the effective date; none if it never does.

Checks (each can fail): the V6 plausibility bound (no output from the new facilities before
2027), that nothing differs before the threat, that the threat bites, that neither response
makes any headline sector worse, that neither pushes shortfall onto third countries, and that
each cuts the JP + US magnet shortfall after 2028 by at least a set share.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..analysis.kpis import fill_rate
from ..engine import ReplicationResult, run_replication
from ..scenario import Scenario, load_scenario
from ..viz.curves import PALETTE, percentiles_by_row
from .base import Check, Replay, at_most

KEY = "v6"
TITLE = "V6 allied responses to a heavy-REE licence regime (2026-2034)"
SCENARIOS = {
    "threat": "china_heavy_ree_controls_2026.yaml",
    "framework": "us_japan_framework.yaml",
    "allies": "us_allies_response.yaml",
}
LABELS = {
    "threat": "threat alone",
    "framework": "+ US-Japan framework",
    "allies": "+ all allied responses",
}
THREAT_EVENT = "cn_heavy_ree_licences_2026"
MAGNET = "ndfeb_magnet"
#: (country, sector) headline groups; sector None = every magnet user of the country.
GROUPS = {
    "JP ev": ("JP", "ev"),
    "US ev": ("US", "ev"),
    "JP defense": ("JP", "defense"),
    "US defense": ("US", "defense"),
    "JP electronics": ("JP", "electronics"),
    "JP all magnets": ("JP", None),
    "US all magnets": ("US", None),
}
HEADLINE = ("JP ev", "US ev", "JP defense", "US defense")
#: Figure panels (2 x 2): the headline sectors plus Japan's most affected one.
FIGURE_GROUPS = ("JP ev", "US ev", "JP electronics", "US defense")
WINDOW_STEPS = 13
TARGET = 0.95
AFTER = pd.Timestamp("2028-01-01")
BOUND_DATE = pd.Timestamp("2027-01-01")
REPLICATIONS = 5
SEED = 0
#: The cut in JP + US magnet shortfall after 2028 each response must make: some (> 0). Its size
#: is reported, not checked: DATA.md has no figure for it. (Until issue 11 the replay asked
#: for 30% and 50%, the responses' purpose rather than data; as the plants are sized in
#: DATA.md, engine v2 gives ~24% and ~39%: a finding, docs/replays/v6-allied-response.md.)
MIN_REDUCTION = {"framework": 0.0, "allies": 0.0}
ASPIRATION = {"framework": 0.30, "allies": 0.50}
"""The cuts the replay once asked for (not data; reported beside the result)."""

#: Checks known to fail, with why (tests/test_replay_v6.py asserts exactly these fail).
EXPECTED_FAILURES: dict[str, str] = {}
SOURCE = "DATA.md V6"


# -- running ---------------------------------------------------------------------------------
def load(root: Path) -> dict[str, Scenario]:
    return {key: load_scenario(root / "scenarios" / name) for key, name in SCENARIOS.items()}


@dataclass
class Runs:
    """One scenario's replications: engine tables with ``replication`` and ``date`` added."""

    timeseries: pd.DataFrame
    production: pd.DataFrame


def run_all(scenarios: dict[str, Scenario], replications: int = REPLICATIONS,
            seed: int = SEED) -> dict[str, Runs]:
    """Replications ``0..replications-1`` of every scenario (the engine checks mass balance
    in each and raises if it does not close)."""
    out = {}
    for key, s in scenarios.items():
        parts = [run_replication(s, seed, r) for r in range(replications)]
        out[key] = Runs(_stack(s, parts, "timeseries"), _stack(s, parts, "production"))
    return out


def _stack(s: Scenario, parts: list[ReplicationResult], table: str) -> pd.DataFrame:
    frames = []
    for r, res in enumerate(parts):
        df = getattr(res, table).copy()
        for col in df.columns:
            if isinstance(df[col].dtype, pd.CategoricalDtype):
                df[col] = df[col].astype(str)
        df.insert(0, "replication", r)
        df["date"] = pd.Timestamp(s.start_date) + pd.to_timedelta(df["day"], unit="D")
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def new_facilities(scenarios: dict[str, Scenario]) -> dict[str, list[str]]:
    """Facilities each response adds to the threat scenario: its agreements' plants plus
    scheduled facilities that the threat scenario does not have."""
    base = set(scenarios["threat"].facilities)
    out: dict[str, list[str]] = {}
    for key, s in scenarios.items():
        if key == "threat":
            continue
        ids = [fid for fid in s.facilities if fid not in base]
        for ev in s.events.values():
            if ev.type == "cooperation_agreement":
                ids.extend(ev.facilities)
        out[key] = ids
    return out


# -- metrics ---------------------------------------------------------------------------------
def group_curves(results: dict[str, Runs]) -> pd.DataFrame:
    """Per scenario, group, replication and step: demand, delivered, shortfall, the step
    fill rate and the rolling 13-week fill rate (``fill_13w``)."""
    parts = []
    for key, res in results.items():
        ts = res.timeseries
        ts = ts[ts["material"] == MAGNET]
        for group, (country, sector) in GROUPS.items():
            sel = ts["country"] == country
            if sector is not None:
                sel &= ts["sector"] == sector
            g = (ts[sel].groupby(["replication", "day"], sort=True)
                 .agg(date=("date", "first"), demand_t=("demand_t", "sum"),
                      delivered_t=("delivered_t", "sum"), shortfall_t=("shortfall_t", "sum"))
                 .reset_index())
            roll = g.groupby("replication")[["demand_t", "delivered_t"]].rolling(
                WINDOW_STEPS, min_periods=1).sum().reset_index(level=0, drop=True)
            g["fill"] = fill_rate(g["delivered_t"], g["demand_t"])
            g["fill_13w"] = fill_rate(roll["delivered_t"], roll["demand_t"])
            g.insert(0, "group", group)
            g.insert(0, "scenario", key)
            parts.append(g)
    return pd.concat(parts, ignore_index=True)


def replication_metrics(curves: pd.DataFrame, effective: pd.Timestamp) -> pd.DataFrame:
    """One row per scenario x group x replication (see the module docstring)."""
    rows = []
    for (key, group, rep), g in curves.groupby(["scenario", "group", "replication"],
                                               sort=False):
        after = g[g["date"] >= effective]
        i = int(np.argmin(after["fill_13w"].to_numpy()))
        trough_date = after["date"].iloc[i]
        fill = after["fill_13w"].to_numpy()
        below = np.nonzero(fill[i:] < TARGET)[0]
        if len(below) == 0:  # already at >= 95% from the trough on (a trough above 95%)
            recovered = trough_date
        elif i + below[-1] + 1 < len(after):
            recovered = after["date"].iloc[i + below[-1] + 1]
        else:
            recovered = pd.NaT
        short = np.nonzero(after["fill"].to_numpy() < TARGET)[0]
        rows.append({
            "scenario": key, "group": group, "replication": int(rep),
            "fill_rate": float(fill_rate(after["delivered_t"].sum(), after["demand_t"].sum())),
            "weeks_to_short": (np.nan if len(short) == 0
                               else (after["date"].iloc[short[0]] - effective).days / 7),
            "trough": float(fill[i]), "trough_date": trough_date,
            "shortfall_t": float(after["shortfall_t"].sum()),
            "shortfall_after_2028_t": float(g.loc[g["date"] >= AFTER, "shortfall_t"].sum()),
            "recovered": recovered,
            "months_to_recover": (np.nan if pd.isna(recovered)
                                  else (recovered - effective).days / 30.44),
        })
    return pd.DataFrame(rows)


def summary_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Median (and min-max across replications) of each metric per scenario and group."""
    rows = []
    for (key, group), g in metrics.groupby(["scenario", "group"], sort=False):
        n = len(g)
        rec = g["months_to_recover"].dropna()
        rows.append({
            "scenario": key, "group": group, "replications": n,
            "fill_rate_p50": g["fill_rate"].median(), "fill_rate_min": g["fill_rate"].min(),
            "fill_rate_max": g["fill_rate"].max(),
            "weeks_to_short_p50": float(np.median(g["weeks_to_short"].fillna(np.inf))),
            "trough_p50": g["trough"].median(), "trough_min": g["trough"].min(),
            "trough_max": g["trough"].max(),
            "trough_date_p50": g["trough_date"].sort_values().iloc[(n - 1) // 2],
            "shortfall_t_p50": g["shortfall_t"].median(),
            "shortfall_t_min": g["shortfall_t"].min(),
            "shortfall_t_max": g["shortfall_t"].max(),
            "shortfall_after_2028_t_p50": g["shortfall_after_2028_t"].median(),
            "recovered_share": len(rec) / n,
            "months_to_recover_p50": (float(np.median(g["months_to_recover"].fillna(np.inf)))
                                      if len(rec) else np.inf),
        })
    return pd.DataFrame(rows)


def drawn_parameters(scenarios: dict[str, Scenario], replications: int,
                     seed: int = SEED) -> pd.DataFrame:
    """Each replication's draw of the threat's uncertain licence terms (shared by all three
    scenarios through common random numbers)."""
    from ..engine import RandomStreams
    from ..scenario.distributions import realize

    s = scenarios["threat"]
    rows = []
    for r in range(replications):
        drawn = realize(s, RandomStreams(seed, r).get)
        lic = drawn.events[THREAT_EVENT].licence
        rows.append({"replication": r, "approval_probability": lic.approval_probability,
                     "delay_days": lic.delay_days})
    return pd.DataFrame(rows)


# -- checks ----------------------------------------------------------------------------------
def _production_before(res: Runs, facilities: list[str], date: pd.Timestamp) -> float:
    p = res.production
    sel = p["facility"].isin(facilities) & (p["date"] < date)
    return float(p.loc[sel, "tonnes"].sum())


def _total(metrics: pd.DataFrame, key: str, groups: tuple[str, ...], col: str) -> float:
    sel = (metrics["scenario"] == key) & metrics["group"].isin(groups)
    return float(metrics.loc[sel, col].sum())


def _paired(metrics: pd.DataFrame, key: str, ref: str, group: str, col: str) -> np.ndarray:
    """Per replication: ``col`` of scenario ``key`` minus that of ``ref`` for ``group``."""
    sel = metrics[metrics["group"] == group].set_index(["scenario", "replication"])[col]
    return (sel[key] - sel[ref]).sort_index().to_numpy(dtype=np.float64)


#: Two-sided 95% Student t quantiles by degrees of freedom (1.96 beyond the table).
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042}


def _lower95(d: np.ndarray) -> float:
    """Lower end of the 95% t confidence interval of the mean of ``d`` (``d`` itself for one
    replication)."""
    n = len(d)
    if n < 2:
        return float(d.mean())
    df = n - 1
    t = _T95.get(df) or next((v for k, v in sorted(_T95.items()) if k >= df), 1.96)
    return float(d.mean() - t * d.std(ddof=1) / np.sqrt(n))


def build_checks(results: dict[str, Runs], metrics: pd.DataFrame,
                 curves: pd.DataFrame, new: dict[str, list[str]],
                 effective: pd.Timestamp) -> list[Check]:
    checks: list[Check] = []
    for key in ("framework", "allies"):
        checks.append(at_most(
            f"{LABELS[key]}: output of new facilities before 2027-01-01 (t, all materials)",
            _production_before(results[key], new[key], BOUND_DATE), 0.0, " t",
            source=f"{SOURCE} plausibility bound: no material tonnage before 2027-28"))
    # Nothing differs before the threat takes effect (responses start with no phantom supply)
    pre = curves[curves["date"] < effective]
    worst_pre = float(pre.groupby("scenario")["shortfall_t"].sum().max())
    checks.append(at_most("JP + US magnet shortfall before the threat, any scenario (t)",
                          worst_pre, 0.0, " t", source="baseline fully served (DATA.md V1)"))
    # The threat bites: the worse of JP EV and US EV troughs (median) is below 80%
    threat = metrics[metrics["scenario"] == "threat"]
    ev_trough = min(float(threat.loc[threat["group"] == g, "trough"].median())
                    for g in ("JP ev", "US ev"))
    checks.append(at_most("threat alone: lower of JP EV / US EV median 13-week trough",
                          ev_trough, 0.8, source="scenario assumption: a material threat"))
    # Responses make no headline sector worse: the paired difference in shortfall (response
    # minus the scenario before it, same replication) is not significantly above zero
    for group in GROUPS:
        for key, ref in (("framework", "threat"), ("allies", "framework")):
            d = _paired(metrics, key, ref, group, "shortfall_t")
            checks.append(at_most(
                f"{group}: extra shortfall {LABELS[key]} vs {LABELS[ref]}, lower end of its "
                "95% confidence interval (t)", _lower95(d), 0.0, " t",
                source="responses must not make things worse"))
    # Each response cuts the JP + US magnet shortfall after 2028
    both = ("JP all magnets", "US all magnets")
    base = _total(metrics, "threat", both, "shortfall_after_2028_t")
    for key in ("framework", "allies"):
        cut = 1.0 - _total(metrics, key, both, "shortfall_after_2028_t") / max(base, 1.0)
        checks.append(Check(
            f"{LABELS[key]}: cut in JP + US magnet shortfall after 2028 vs threat alone",
            cut, f"> {MIN_REDUCTION[key]:g} (aspiration {ASPIRATION[key]:.0%}, not data)",
            cut > MIN_REDUCTION[key],
            source="responses must not make things worse; the size is a finding"))
    return checks


def third_country_checks(third: dict[str, float]) -> list[Check]:
    """The agreement allocation tier must not push the shortage onto other magnet users."""
    return [at_most(f"{LABELS[key]}: magnet shortfall outside JP and US minus threat alone "
                    "(t per replication)", third[key] - third["threat"], 1.0, " t",
                    source="responses must not export the shortage")
            for key in ("framework", "allies")]


# -- replay ----------------------------------------------------------------------------------
def run_replay(root: Path, replications: int = REPLICATIONS, seed: int = SEED) -> Replay:
    """Run the three scenarios and return checks plus tables (``summary``, ``metrics``,
    ``curves``, ``parameters``, ``third_countries``)."""
    scenarios = load(Path(root))
    results = run_all(scenarios, replications, seed)
    effective = pd.Timestamp(scenarios["threat"].events[THREAT_EVENT].effective)
    curves = group_curves(results)
    metrics = replication_metrics(curves, effective)
    checks = build_checks(results, metrics, curves, new_facilities(scenarios), effective)
    third = {}
    for key, res in results.items():
        ts = res.timeseries
        sel = (ts["material"] == MAGNET) & ~ts["country"].isin(["US", "JP"])
        third[key] = float(ts.loc[sel, "shortfall_t"].sum()) / replications
    checks += third_country_checks(third)
    return Replay(
        key=KEY, title=TITLE, scenario=SCENARIOS["framework"], checks=checks,
        tables={
            "summary": summary_table(metrics),
            "metrics": metrics,
            "curves": curves,
            "parameters": drawn_parameters(scenarios, replications, seed),
            "third_countries": pd.DataFrame(
                [{"scenario": k, "shortfall_t_mean": v} for k, v in third.items()]),
            "events": pd.DataFrame(_event_windows(scenarios["allies"])),
        },
    )


def _event_windows(s: Scenario) -> list[dict]:
    """Dated windows for the figure: the threat; financing to first new output (construction,
    nothing new produced); first new output to the last plant at full output (ramp-up), from
    the central values of ``s`` (the all-responses scenario); and the signings."""
    starts, decisions, signed = [], [], []
    for f in s.facilities.values():
        if f.start_date is not None and f.start_date > s.start_date:
            starts.append((f.start_date, f.ramp_up_days))
    for ev in s.events.values():
        if ev.type == "cooperation_agreement":
            signed.append(ev.signed)
            for nf in ev.facilities.values():
                decisions.append(nf.investment_decision)
                starts.append((nf.investment_decision + dt.timedelta(days=nf.construction_days),
                               nf.ramp_up_days))
    first = min(d for d, _ in starts)
    full = max(d + dt.timedelta(days=r) for d, r in starts)
    ts = pd.Timestamp
    return [
        {"label": "licence regime on Dy/Tb and magnets to US and JP", "kind": "threat",
         "start": ts(s.events[THREAT_EVENT].effective), "end": ts(s.end_date)},
        {"label": "frameworks signed (Oct 2025)", "kind": "signed",
         "start": ts(min(signed)), "end": ts(max(signed))},
        {"label": "financed, under construction: no new output", "kind": "build",
         "start": ts(min(decisions)), "end": ts(first)},
        {"label": "new plants start and ramp up (central dates)", "kind": "ramp",
         "start": ts(first), "end": ts(full)},
    ]


# -- figure ----------------------------------------------------------------------------------
_RC = {"svg.hashsalt": "critmin", "svg.fonttype": "path", "font.size": 9}
_SPANS = {"threat": ("#e06666", 0.12, 0.0, 1.0), "build": ("0.55", 0.55, 0.0, 0.05),
          "ramp": ("#38761d", 0.55, 0.0, 0.05)}


def replay_figure(replay: Replay) -> Figure:
    """Quarterly (13-week rolling) fill rate over dates for Japan EV, US EV, Japan electronics
    (Japan's most affected sector) and US defense in the three scenarios (median across
    replications, P5-P95 band), with the threat window shaded and the allied plants'
    construction and ramp-up marked along the bottom."""
    curves = replay.tables["curves"]
    events = replay.tables["events"]
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(12, 7.6), layout="constrained")
        axes = list(fig.subplots(2, 2, sharex=True, sharey=True).ravel())
        fig.suptitle(TITLE, fontweight="bold")
        for ax, group in zip(axes, FIGURE_GROUPS, strict=True):
            for _, ev in events.iterrows():
                if ev["kind"] == "signed":
                    ax.axvline(ev["start"], color="0.3", ls=":", lw=1,
                               label=ev["label"] if ax is axes[0] else None)
                    continue
                color, alpha, y0, y1 = _SPANS[ev["kind"]]
                ax.axvspan(ev["start"], ev["end"], ymin=y0, ymax=y1, color=color, alpha=alpha,
                           lw=0, zorder=0, label=ev["label"] if ax is axes[0] else None)
            for i, key in enumerate(SCENARIOS):
                g = curves[(curves["scenario"] == key) & (curves["group"] == group)]
                wide = g.pivot_table(index="date", columns="replication", values="fill_13w")
                q = percentiles_by_row(wide.to_numpy(dtype=np.float64), [5, 50, 95])
                x = wide.index.to_numpy()
                ax.plot(x, q[1], color=PALETTE[i], lw=1.7, label=LABELS[key])
                if wide.shape[1] > 1:
                    ax.fill_between(x, q[0], q[2], color=PALETTE[i], alpha=0.15, lw=0)
            ax.axhline(TARGET, color="0.35", ls="--", lw=0.9,
                       label="95% (recovery threshold)" if ax is axes[0] else None)
            ax.set_ylim(0, 1.05)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            country, sector = GROUPS[group]
            ax.set_title(f"{country} {sector} magnets", fontsize=10)
            if ax in (axes[0], axes[2]):
                ax.set_ylabel("fill rate, 13-week rolling")
            ax.grid(True, color="0.9", lw=0.8)
            ax.set_axisbelow(True)
            ax.spines[["top", "right"]].set_visible(False)
        axes[-1].set_xlim(pd.Timestamp("2025-07-01"), curves["date"].max())
        for ax in axes[2:]:
            ax.xaxis.set_major_locator(mdates.YearLocator())
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        n = int(curves["replication"].nunique())
        handles, labels = axes[0].get_legend_handles_labels()
        first = [labels.index(LABELS[k]) for k in SCENARIOS]
        order = first + [i for i in range(len(labels)) if i not in first]
        fig.legend([handles[i] for i in order], [labels[i] for i in order],
                   loc="outside lower center", ncol=3, frameon=False,
                   title=f"lines: median of {n} replications; bands: P5-P95 across "
                   "replications", title_fontsize=9)
        return fig


# -- report ----------------------------------------------------------------------------------
def results_markdown(replay: Replay, groups: tuple[str, ...] = tuple(GROUPS)) -> str:
    """The results table as Markdown (median over replications, min-max in brackets)."""
    s = replay.tables["summary"]
    lines = ["| sector | scenario | fill rate 30 Oct 2026-2034 | first short (weeks) | "
             "trough, 13-week fill | trough date | shortfall t | after 2028 t | "
             "recovered to >= 95% |",
             "|---|---|---|---|---|---|---|---|---|"]
    for group in groups:
        for key in SCENARIOS:
            r = s[(s["scenario"] == key) & (s["group"] == group)].iloc[0]
            rec = ("not by 2034" if not np.isfinite(r["months_to_recover_p50"]) else
                   f"{r['months_to_recover_p50']:.0f} months")
            if 0 < r["recovered_share"] < 1:
                rec += f" ({r['recovered_share']:.0%} of runs recover)"
            tts = ("never" if not np.isfinite(r["weeks_to_short_p50"])
                   else f"{r['weeks_to_short_p50']:.0f}")
            lines.append(
                f"| {group} | {LABELS[key]} | {r['fill_rate_p50']:.0%} "
                f"({r['fill_rate_min']:.0%}-{r['fill_rate_max']:.0%}) | {tts} | "
                f"{r['trough_p50']:.0%} ({r['trough_min']:.0%}-{r['trough_max']:.0%}) | "
                f"{r['trough_date_p50']:%Y-%m} | {r['shortfall_t_p50']:,.0f} "
                f"({r['shortfall_t_min']:,.0f}-{r['shortfall_t_max']:,.0f}) | "
                f"{r['shortfall_after_2028_t_p50']:,.0f} | {rec} |")
    return "\n".join(lines)


def checks_markdown(replay: Replay) -> str:
    lines = ["| check | simulated | target | passed |", "|---|---|---|---|"]
    for c in replay.checks:
        lines.append(f"| {c.name} | {c.simulated:.3g} | {c.target} | "
                     f"{'yes' if c.passed else '**no**'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("-n", "--replications", type=int, default=REPLICATIONS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--figure", type=Path, default=None,
                        help="write the figure to this PNG file")
    args = parser.parse_args(argv)
    replay = run_replay(args.root, args.replications, args.seed)
    print(results_markdown(replay))
    print()
    print(checks_markdown(replay))
    print()
    print(replay.tables["parameters"].to_string(index=False))
    print(replay.tables["third_countries"].to_string(index=False))
    if args.figure is not None:
        with mpl.rc_context(_RC):
            replay_figure(replay).savefig(args.figure, dpi=150, metadata={"Software": None})
    return 0 if replay.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
