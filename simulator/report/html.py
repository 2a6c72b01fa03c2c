"""A run folder as one self-contained HTML file (``critmin report``).

The page embeds its figures as base64 PNG and its style sheet inline, and links to nothing
outside itself (no scripts, no web fonts, no CDN), so it opens offline and can be mailed as
one file. It holds: headline findings, the events with dates, the figures (fan chart, small
multiples, stockpiles, origin mix, concentration, the run's own overview), resilience metrics
per sector and per demand sector with percentiles and confidence intervals, the run's
``summary.csv``, the manifest and the resolved scenario.

The same run folder gives the same bytes (no generation time is written).

This module also reads run folders for the other commands: :func:`load_run` and
:func:`sector_timeseries`.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd

from ..analysis.metrics import event_windows, replication_metrics, summarize
from ..scenario import dump_scenario_yaml
from ..scenario.models import Scenario

__all__ = [
    "RUN_TABLE_COLUMNS",
    "RunData",
    "RunFolderError",
    "build_report",
    "format_metric",
    "format_range",
    "load_run",
    "sector_timeseries",
    "write_report",
]

#: Columns read from ``timeseries.parquet`` (``inventory_t`` is not needed here).
RUN_TABLE_COLUMNS = {
    "timeseries": ["replication", "day", "date", "country", "sector", "demand_id", "material",
                   "demand_t", "delivered_t", "shortfall_t", "stockpile_t"],
    "flows": None,
    "production": None,
    "stockpiles": None,
}

#: Metrics shown in the report's tables, in order, with their headings.
METRIC_HEADINGS = {
    "fill_rate": "Fill rate over the horizon",
    "trough_fill_rate": "Trough fill rate (worst step)",
    "time_to_survive_days": "Time to first shortfall after the disruption",
    "time_to_recover_days": "Time to recover to 95% from the trough",
    "days_below_threshold": "Days below 90%",
    "cumulative_shortfall_t": "Cumulative shortfall",
    "resilience_loss_pct_days": "Resilience loss (triangle area)",
    "stockpile_drawdown_t": "Stockpile drawdown",
}


class RunFolderError(FileNotFoundError):
    """A path is not a readable run folder (missing, or without a needed file)."""


@dataclass
class RunData:
    """One run folder read from disk."""

    path: Path
    scenario: Scenario
    manifest: dict[str, Any]
    timeseries: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def replications(self) -> int:
        """Replications present in the time series."""
        if len(self.timeseries) == 0:
            return int(self.manifest.get("replications_completed", 0) or 0)
        return int(self.timeseries["replication"].nunique())

    @property
    def seed(self) -> int | None:
        s = self.manifest.get("seed")
        return None if s is None else int(s)

    def table(self, name: str) -> pd.DataFrame:
        """``flows``, ``production`` or ``stockpiles`` (read on first use)."""
        if name not in self.tables:
            self.tables[name] = _read_table(self.path, name, RUN_TABLE_COLUMNS.get(name))
        return self.tables[name]


def _read_table(run_dir: Path, name: str, columns: Sequence[str] | None) -> pd.DataFrame:
    path = run_dir / f"{name}.parquet"  # a file, or a folder of parts (streamed writes)
    if not path.exists():
        raise RunFolderError(f"not a run folder (no {name}.parquet): {run_dir}")
    if columns is not None:
        import pyarrow.parquet as pq

        have = set(pq.read_schema(path).names) if path.is_file() else None
        if have is not None:
            columns = [c for c in columns if c in have]
    return pd.read_parquet(path, columns=list(columns) if columns is not None else None)


def load_run(run_dir: str | os.PathLike[str], tables: Iterable[str] = ()) -> RunData:
    """Read a run folder: the resolved scenario, the manifest (``{}`` if absent), the
    time series and any other ``tables`` (``"flows"``, ``"production"``, ``"stockpiles"``).

    Raises :class:`RunFolderError` when the folder or a needed file is missing, and the
    scenario loader's :class:`~simulator.scenario.ScenarioError` when the resolved scenario
    no longer validates."""
    from ..scenario import load_scenario

    path = Path(run_dir)
    if not path.exists():
        raise RunFolderError(f"no such run folder: {path}")
    if not path.is_dir():
        raise RunFolderError(f"not a run folder (not a directory): {path}")
    resolved = path / "scenario.resolved.yaml"
    if not resolved.is_file():
        raise RunFolderError(f"not a run folder (no scenario.resolved.yaml): {path}")
    scenario = load_scenario(resolved)
    manifest_path = path / "manifest.json"
    manifest = (json.loads(manifest_path.read_text(encoding="utf-8"))
                if manifest_path.is_file() else {})
    ts = _read_table(path, "timeseries", RUN_TABLE_COLUMNS["timeseries"])
    run = RunData(path, scenario, manifest, ts)
    for t in tables:
        run.table(t)
    return run


def sector_timeseries(timeseries: pd.DataFrame) -> pd.DataFrame:
    """The time series summed over countries and materials per sector: one row per
    replication x step x sector with ``demand_id`` = the sector, ``country`` and
    ``material`` = ``"all"``. Stockpiles are set to 0 (reserves shared between countries
    would be counted twice), so ``stockpile_drawdown_t`` is only meaningful per demand
    sector. Ready for :func:`~simulator.analysis.metrics.replication_metrics`."""
    keys = ["replication", "day", "sector"]
    g = (timeseries.groupby(keys, observed=True, sort=True)
         .agg(date=("date", "first"), demand_t=("demand_t", "sum"),
              delivered_t=("delivered_t", "sum"), shortfall_t=("shortfall_t", "sum"))
         .reset_index())
    g["sector"] = g["sector"].astype(str)
    g["demand_id"] = g["sector"]
    g["country"] = "all"
    g["material"] = "all"
    g["stockpile_t"] = 0.0
    return g


# --------------------------------------------------------------------------- formatting

def _num(v: float, decimals: int = 1) -> str:
    if not np.isfinite(v):
        return "-"
    text = f"{v:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


_FILL = ("fill_rate", "trough_fill_rate")
#: Metrics that cannot be negative (confidence intervals are clipped at 0 for display).
_NONNEG = ("cumulative_shortfall_t", "days_below_threshold", "time_to_survive_days",
           "time_to_recover_days", "resilience_loss_pct_days", "stockpile_drawdown_t")


def _pct_decimals(v: float, signed: bool) -> int:
    """Enough decimals that a small difference, or a fill rate just under 100%, shows."""
    pct = v * 100.0
    decimals = 1
    while decimals < 3 and pct != 0 and (
            (signed and round(pct, decimals) == 0)
            or (not signed and v < 1 and round(pct, decimals) >= 100)):
        decimals += 1
    return decimals


def format_metric(metric: str, value: float, *, signed: bool = False,
                  unit: bool = True, decimals: int | None = None) -> str:
    """A metric value for people: % for fill rates, t for tonnes, d for days; ``inf`` (never
    within the horizon) as "never"; NaN as "-". ``signed`` adds + to positive values
    (differences; fill rates then read in percentage points). ``unit=False`` leaves the unit
    off; ``decimals`` fixes the decimals of a fill rate."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    v = float(value)
    if math.isinf(v):
        return "never" if v > 0 else "-inf"
    sign = "+" if signed and v > 0 else ""
    if metric in _FILL:
        d = decimals if decimals is not None else _pct_decimals(v, signed)
        text = f"{v * 100.0:.{d}f}"
        if float(text) == 0:
            text, sign = text.lstrip("-"), ""
        if not unit:
            return f"{sign}{text}"
        return f"{sign}{text} pp" if signed else f"{text}%"
    if metric.endswith("_t"):
        text, suffix = _num(v, 1 if abs(v) < 1000 else 0), " t"
    elif metric == "resilience_loss_pct_days":
        text, suffix = _num(v, 0), " %·d"
    elif metric.endswith("_days") or metric == "days_below_threshold":
        text, suffix = _num(v, 0), " d"
    else:
        text, suffix = _num(v, 3), ""
    if text.lstrip("-") == "0":
        text, sign = "0", ""
    return f"{sign}{text}{suffix if unit else ''}"


def format_range(metric: str, mid: float, lo: float, hi: float, *, signed: bool = False,
                 brackets: str = "[]", clip: bool = True) -> str:
    """``mid [lo, hi]`` with the unit once (``72.6 t [30.5, 114.8]``) and, for fill rates, the
    same decimals throughout. With ``clip`` (not for differences), bounds are clipped to the
    metric's range (fill rates 0-100%, others >= 0). Just ``mid`` when a bound is NaN."""
    vals = [float(x) if x is not None else math.nan for x in (mid, lo, hi)]
    if clip and not signed:
        top = 1.0 if metric in _FILL else math.inf
        if metric in _FILL or metric in _NONNEG:
            vals[1:] = [min(max(x, 0.0), top) if math.isfinite(x) else x for x in vals[1:]]
    dec = None
    if metric in _FILL:
        dec = max(_pct_decimals(x, signed) for x in vals if math.isfinite(x)) \
            if any(math.isfinite(x) for x in vals) else 1
    head = format_metric(metric, vals[0], signed=signed, decimals=dec)
    if math.isnan(vals[1]) or math.isnan(vals[2]):
        return head
    lo_t, hi_t = (format_metric(metric, x, signed=signed, unit=False, decimals=dec)
                  for x in vals[1:])
    return f"{head} {brackets[0]}{lo_t}, {hi_t}{brackets[1]}"


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric_from: int = 1,
           caption: str | None = None, cls: str = "") -> str:
    out = [f'<table class="{cls}">' if cls else "<table>"]
    if caption:
        out.append(f"<caption>{_e(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
               + "</tr></thead><tbody>")
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            tag = "td class=\"num\"" if i >= numeric_from else "td"
            cells.append(f"<{tag}>{_e(v)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _png_data_uri(fig: Any, dpi: int = 110) -> str:
    from ..viz.curves import _RC

    buf = io.BytesIO()
    with mpl.rc_context(_RC):
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(uri: str, alt: str, caption: str, fig_id: str) -> str:
    return (f'<figure id="{_e(fig_id)}"><img src="{uri}" alt="{_e(alt)}">'
            f"<figcaption>{caption}</figcaption></figure>")


# --------------------------------------------------------------------------- content

def _summary_index(summary: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    return {(str(r["demand_id"]), str(r["metric"])): r for _, r in summary.iterrows()}


def _keep_together(text: str) -> str:
    """No line breaks inside a bracket or between a number and its unit."""
    text = re.sub(r"(\d) (t|d|pp|%·d)\b", "\\1\u00a0\\2", text)
    return text.replace(", ", ",\u00a0")


def _p50_range(idx: dict, did: str, metric: str) -> str:
    r = idx.get((did, metric))
    if r is None:
        return "-"
    if r["n"] > 1 and (r["p5"] != r["p50"] or r["p95"] != r["p50"]):
        return _keep_together(format_range(metric, r["p50"], r["p5"], r["p95"],
                                           brackets="()"))
    return _keep_together(format_metric(metric, r["p50"]))


def _mean_ci(idx: dict, did: str, metric: str) -> str:
    r = idx.get((did, metric))
    if r is None:
        return "-"
    if np.isfinite(r["ci95_low"]) and r["ci95_low"] != r["ci95_high"]:
        return _keep_together(format_range(metric, r["mean"], r["ci95_low"],
                                           r["ci95_high"]))
    return _keep_together(format_metric(metric, r["mean"]))


def _time_cell(idx: dict, did: str, metric: str) -> str:
    """P50 (P5-P95) of a censored time, and the share recovered for the recovery time."""
    r = idx.get((did, metric))
    if r is None or np.isnan(r["p50"]):
        return "-"
    text = _p50_range(idx, did, metric)
    if metric == "time_to_recover_days" and np.isfinite(r.get("share_recovered", np.nan)):
        share = float(r["share_recovered"])
        if share < 1:
            text += f"; {share:.0%} recovered"
    return text


_TABLE_HEAD = ["Fill rate mean [95% CI]", "Trough P50 (P5, P95)",
               "Shortfall per replication mean [95% CI]", "Days below 90% P50 (P5, P95)",
               "Time to first shortfall P50 (P5, P95)", "Time to recover P50 (P5, P95)"]


def _metric_cells(idx: dict, did: str) -> list[str]:
    return [
        _mean_ci(idx, did, "fill_rate"),
        _p50_range(idx, did, "trough_fill_rate"),
        _mean_ci(idx, did, "cumulative_shortfall_t"),
        _p50_range(idx, did, "days_below_threshold"),
        _time_cell(idx, did, "time_to_survive_days"),
        _time_cell(idx, did, "time_to_recover_days"),
    ]


def _findings(metrics: pd.DataFrame, summary: pd.DataFrame, scenario: Scenario,
              limit: int = 5) -> list[str]:
    """Sentences (HTML) for the demand sectors with the largest mean shortfall."""
    idx = _summary_index(summary)
    short = (metrics.groupby("demand_id")["cumulative_shortfall_t"].mean()
             .sort_values(ascending=False, kind="stable"))
    short = short[short > 1e-6]
    out = []
    for did in list(short.index[:limit]):
        row = metrics[metrics["demand_id"] == did].iloc[0]
        country = scenario.countries.get(str(row["country"]))
        who = f"{country.name if country else row['country']} {row['sector']}"
        text = (f"<strong>{_e(who)}</strong> ({_e(row['material'])}, "
                f"<code>{_e(did)}</code>): ")
        trough = idx[(did, "trough_fill_rate")]
        many = trough["n"] > 1
        if trough["p50"] >= 0.95 and many:
            text += ("the median replication stays at or above 95%; the worst 5% bottom at "
                     f"{format_metric('trough_fill_rate', trough['p5'])} or less")
        else:
            text += "fill rate bottoms at " + format_metric("trough_fill_rate", trough["p50"])
            if many:
                text += (f" in the median replication (P5 "
                         f"{format_metric('trough_fill_rate', trough['p5'])}, P95 "
                         f"{format_metric('trough_fill_rate', trough['p95'])})")
            tts = idx.get((did, "time_to_survive_days"))
            if tts is not None and np.isfinite(tts["p50"]):
                text += (f", first shortfall {format_metric('time_to_survive_days', tts['p50'])}"
                         " after the disruption starts")
            ttr = idx.get((did, "time_to_recover_days"))
            if ttr is not None and np.isfinite(ttr["p50"]):
                text += (f"; back to 95% and staying there "
                         f"{format_metric('time_to_recover_days', ttr['p50'])} after the "
                         "trough")
            elif ttr is not None:
                text += "; most replications do not recover to 95% within the horizon"
        sh = idx[(did, "cumulative_shortfall_t")]
        text += f"; {format_metric('cumulative_shortfall_t', sh['mean'])} short per replication"
        if np.isfinite(sh["ci95_low"]):
            lo = format_metric("cumulative_shortfall_t", max(sh["ci95_low"], 0.0))
            hi = format_metric("cumulative_shortfall_t", sh["ci95_high"])
            text += f" on average (95% CI {lo} to {hi})"
        out.append(text + ".")
    never = metrics["demand_id"].nunique() - len(short)
    if never and out:
        out.append(f"{never} other demand sector{'s' if never != 1 else ''} never ran short.")
    return out


def _events_table(scenario: Scenario) -> str:
    wins = event_windows(scenario)
    if not wins:
        return "<p>This scenario has no events: it is a baseline.</p>"
    rows = []
    for i, w in enumerate(wins, 1):
        ev = scenario.events[w.id]
        rows.append([i, w.id, w.type, w.label, w.start.isoformat(),
                     w.end.isoformat() if w.end else "open-ended",
                     f"{ev.probability:.0%}", "yes" if w.disruption else "no",
                     " ".join((ev.note or "").split())])
    return _table(["#", "Id", "Type", "Label", "Start", "End (exclusive)", "Probability",
                   "Disruption", "Note"], rows, numeric_from=99, cls="events")


#: Plain-language definitions shown at the end of every report.
DEFINITIONS = {
    "Fill rate": "delivered / demanded tonnes (1 in a step without demand).",
    "Trough": "the lowest single-step fill rate.",
    "Time to first shortfall": "days from the first disruption's start to the first "
                               "step with a shortfall.",
    "Time to recover": "days from the trough until the fill rate is at least 95% and "
                       "stays there for 30 days.",
    "Days below 90%": "step length x the number of steps with a fill rate below 90%.",
    "Resilience loss": "100 x step days x the sum over steps of (1 - fill rate), the "
                       "area of the resilience triangle in %·days.",
    "Stockpile drawdown": "largest fall of the reserves a demand sector can draw on "
                          "below their level at the start.",
    "P5, P50, P95": "percentiles across replications; 95% CI: Student t interval of "
                    "the mean.",
}


_CSS = """
:root { color-scheme: light; --ink: #1d2329; --muted: #5b6670; --rule: #d9dee3;
        --band: #f4f6f8; --accent: #0072B2; }
* { box-sizing: border-box; }
html { font-size: 16px; }
body { margin: 0 auto; max-width: 1180px; padding: 2rem 1.5rem 4rem; color: var(--ink);
       background: #fff; line-height: 1.5;
       font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
                    "Noto Sans", "Liberation Sans", sans-serif; }
h1 { font-size: 1.8rem; margin: 0 0 .25rem; line-height: 1.2; }
h2 { font-size: 1.3rem; margin: 2.5rem 0 .75rem; padding-bottom: .25rem;
     border-bottom: 2px solid var(--rule); }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
p, li { max-width: 75ch; }
.lede { color: var(--muted); margin: 0 0 1rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono",
            monospace; font-size: .85rem; }
pre { background: var(--band); padding: 1rem; overflow-x: auto; border-radius: 4px;
      line-height: 1.4; max-height: 40rem; }
nav ol { columns: 2; padding-left: 1.2rem; margin: .5rem 0 0; }
nav a, a { color: var(--accent); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1.25rem;
           margin: 1rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; margin: .75rem 0 1.25rem; font-size: .85rem;
        font-variant-numeric: tabular-nums; width: 100%; }
caption { text-align: left; color: var(--muted); padding-bottom: .35rem; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid var(--rule); vertical-align: top;
         text-align: left; }
thead th { background: var(--band); border-bottom: 2px solid var(--rule); }
td.num { text-align: right; }
tbody tr:nth-child(even) { background: #fafbfc; }
.scroll { overflow-x: auto; }
figure { margin: 1.25rem 0 2rem; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .4rem; max-width: 90ch; }
details { margin: .75rem 0; }
summary { cursor: pointer; font-weight: 600; }
.findings li { margin-bottom: .4rem; }
.status-interrupted { color: #b00020; font-weight: 600; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; }
@media print { body { max-width: none; } details { display: block; } pre { max-height: none; } }
"""


def _figures(run: RunData, events: Sequence[Any], max_panels: int) -> list[str]:
    from ..viz.fan import fan_chart
    from ..viz.panels import concentration_figure, origin_mix_figure, small_multiples
    from ..viz.stockpiles import stockpile_figure, stockpile_groups

    sc, ts, n = run.scenario, run.timeseries, run.replications
    out = []

    def add(make, fig_id: str, alt: str, caption: str) -> None:
        fig = make()
        out.append(_figure(_png_data_uri(fig), alt, caption, fig_id))

    add(lambda: fan_chart(ts, sc.name, n, events=events), "fig-fan",
        "Fan chart of fill rate by sector",
        "Fill rate by sector (summed over countries): median line, P25-P75 band (dark) and "
        "P5-P95 band (light) across replications, event windows shaded and numbered; "
        "below, the shortfall in tonnes per step. Only sectors that ran short are drawn; "
        "the date axis zooms onto the disruption when it is short.")
    add(lambda: small_multiples(ts, sc.name, n, events=events, max_panels=max_panels),
        "fig-multiples", "Small multiples of fill rate by country and sector",
        "One panel per country and sector that ran short (largest cumulative shortfall "
        "first), shared axes.")
    if sc.stockpiles:
        try:
            held = run.table("stockpiles")
        except RunFolderError:  # a run folder written before stockpiles.parquet existed
            add(lambda: stockpile_figure(ts, sc.name, n, labels=stockpile_groups(sc),
                                         events=events),
                "fig-stockpiles", "Strategic stockpile holdings over time",
                "Holdings of the strategic stockpiles that demand sectors draw on (median and "
                "P5-P95 across replications).")
        else:
            add(lambda: stockpile_figure(held, sc.name, n, events=events),
                "fig-stockpiles", "Strategic stockpile holdings over time",
                "Holdings of each strategic stockpile at the end of each step "
                "(<code>stockpiles.parquet</code>): median and P5-P95 across replications, "
                "one panel per stockpile with its own scale, event windows shaded and "
                "numbered; each title gives the median tonnes released and bought per "
                "replication.")
    prod = run.table("production")
    if len(prod):
        add(lambda: origin_mix_figure(run.table("flows"), prod, sc.name, n, stages=sc.stages,
                                      events=events),
            "fig-origin", "Origin mix of world production by stage",
            "Share of each country in world production per stage (monthly, mean over "
            "replications); smaller producers pooled as 'other'. Dotted lines: event "
            "windows.")
        add(lambda: concentration_figure(prod, sc.name, n, stages=sc.stages, events=events),
            "fig-concentration", "China share and HHI by stage",
            "China's share of output and the Herfindahl-Hirschman index of output by "
            "country per stage (monthly; median and P5-P95 across replications).")
    overview = run.path / "fill_rate.png"
    if overview.is_file():
        uri = "data:image/png;base64," + base64.b64encode(overview.read_bytes()).decode()
        out.append(_figure(uri, "Fill rate by sector over the whole horizon",
                           "The run's own overview (<code>fill_rate.png</code>): fill rate "
                           "by sector over the whole horizon, median and P5-P95.",
                           "fig-overview"))
    return out


def build_report(run_dir: str | os.PathLike[str], *, max_panels: int = 12,
                 figures: bool = True) -> str:
    """The HTML text of the report on the run folder ``run_dir`` (see the module doc)."""
    run = load_run(run_dir, tables=("flows", "production") if figures else ())
    return _build(run, max_panels, figures)


def _build(run: RunData, max_panels: int, figures: bool) -> str:
    sc, m = run.scenario, run.manifest
    events = event_windows(sc)
    metrics = replication_metrics(run.timeseries, sc)
    summary = summarize(metrics)
    s_metrics = replication_metrics(sector_timeseries(run.timeseries), sc)
    s_summary = summarize(s_metrics, columns=[c for c in METRIC_HEADINGS
                                              if c != "stockpile_drawdown_t"])
    status = str(m.get("status", "unknown"))
    n = run.replications
    parts: list[str] = []
    title = f"{sc.name}: critmin run report"
    parts.append(f"<header><h1>{_e(sc.name)}</h1>")
    desc = " ".join((sc.description or "").split())
    parts.append(f'<p class="lede">{_e(desc) if desc else "Scenario run report."}</p>')
    status_html = (f'<span class="status-{_e(status)}">{_e(status)}</span>')
    facts = [
        ("Run folder", f"<code>{_e(run.path.name)}</code>"),
        ("Status", status_html),
        ("Replications", f"{n}" + (f" of {m['replications']} requested"
                                   if m.get("replications") not in (None, n) else "")),
        ("Seed", _e(m.get("seed", "-"))),
        *([("Replication ids", _e(m["completed_ids"]))]
          if m.get("completed_ids") not in (None, f"0-{n - 1}", "0") else []),
        ("Horizon", f"{sc.start_date.isoformat()} to {sc.end_date.isoformat()} "
                    f"({sc.simulation.step_days}-day steps)"),
        ("Scenario sha256", f"<code>{_e(str(m.get('scenario', {}).get('sha256', '-'))[:16])}"
                            "</code>"),
        ("Started (UTC)", _e(m.get("started_at", "-"))),
        ("critmin", _e(m.get("critmin_version", "-"))),
        ("Network", f"{len(sc.countries)} countries, {len(sc.facilities)} facilities, "
                    f"{len(sc.demand)} demand sectors, {len(sc.stockpiles)} stockpiles, "
                    f"{len(sc.events)} events"),
    ]
    if m.get("overrides"):
        facts.append(("Overrides", "<br>".join(f"<code>{_e(o)}</code>"
                                               for o in m["overrides"])))
    parts.append('<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
                 + "</dl></header>")
    sections = [("findings", "Findings"), ("events", "Events"),
                *([("figures", "Figures")] if figures else []),
                ("sectors", "Metrics per sector"), ("demand", "Metrics per demand sector"),
                ("summary", "Run summary (summary.csv)"), ("manifest", "Manifest"),
                ("scenario", "Resolved scenario"), ("definitions", "Definitions")]
    parts.append("<nav aria-label=\"Contents\"><strong>Contents</strong><ol>"
                 + "".join(f'<li><a href="#{a}">{_e(t)}</a></li>' for a, t in sections)
                 + "</ol></nav>")

    parts.append('<section id="findings"><h2>Findings</h2>')
    found = _findings(metrics, summary, sc)
    if found:
        parts.append(f"<p>Largest shortfalls ({n} replication{'s' if n != 1 else ''}; "
                     "P5-P95 across replications):</p>")
        parts.append('<ul class="findings">' + "".join(f"<li>{f}</li>" for f in found)
                     + "</ul>")
    else:
        parts.append("<p>No demand sector ran short in any replication.</p>")
    if n < 2:
        parts.append("<p>With one replication there are no percentile bands or confidence "
                     "intervals; rerun with <code>-n 20</code> or more.</p>")
    parts.append("</section>")

    parts.append('<section id="events"><h2>Events</h2>')
    parts.append(_events_table(sc))
    parts.append("</section>")

    if figures:
        parts.append('<section id="figures"><h2>Figures</h2>')
        parts.extend(_figures(run, events, max_panels))
        parts.append("</section>")

    s_idx = _summary_index(s_summary)
    rows = [[sec, *_metric_cells(s_idx, sec)]
            for sec in sorted(s_summary["demand_id"].unique())] if len(s_summary) else []
    parts.append('<section id="sectors"><h2>Metrics per sector</h2>')
    parts.append("<p>Tonnes summed over every country and material of the sector. Means "
                 "with a 95% confidence interval (Student t over replications); percentiles "
                 "over replications. \"never\" in a time percentile: more than that share of "
                 "replications never ran short / never recovered within the horizon. Confidence "
                 "intervals are clipped to the metric's range (0-100%, >= 0).</p>")
    parts.append('<div class="scroll">' + _table(["Sector", *_TABLE_HEAD], rows) + "</div>")
    parts.append("</section>")

    idx = _summary_index(summary)
    short = (metrics.groupby("demand_id")["cumulative_shortfall_t"].max())
    ids_short = [d for d in sorted(short.index) if short[d] > 1e-6]
    ids_ok = [d for d in sorted(short.index) if d not in ids_short]
    labels = (metrics.drop_duplicates("demand_id").set_index("demand_id")
              [["country", "sector", "material"]])
    parts.append('<section id="demand"><h2>Metrics per demand sector</h2>')

    def demand_rows(ids: Sequence[str]) -> list[list[str]]:
        return [[d, f"{labels.loc[d, 'country']} {labels.loc[d, 'sector']}",
                 *_metric_cells(idx, d), _p50_range(idx, d, "stockpile_drawdown_t")]
                for d in ids]

    head = ["Demand id", "Country, sector", *_TABLE_HEAD, "Stockpile drawdown P50 (P5, P95)"]
    if ids_short:
        parts.append(f"<p>{len(ids_short)} demand sector(s) ran short in at least one "
                     "replication:</p>")
        parts.append('<div class="scroll">' + _table(head, demand_rows(ids_short),
                                                     numeric_from=2) + "</div>")
    else:
        parts.append("<p>No demand sector ran short in any replication.</p>")
    if ids_ok:
        parts.append(f"<details><summary>{len(ids_ok)} demand sector(s) never short"
                     "</summary>")
        parts.append('<div class="scroll">' + _table(head, demand_rows(ids_ok),
                                                     numeric_from=2) + "</div></details>")
    csv_uri = ("data:text/csv;base64,"
               + base64.b64encode(summary.to_csv(index=False, lineterminator="\n")
                                  .encode("utf-8")).decode("ascii"))
    parts.append(f'<p><a download="metrics_summary.csv" href="{csv_uri}">Download every '
                 "metric per demand sector (mean, 95% CI, P5/P50/P95) as CSV</a> (embedded in "
                 "this file).</p>")
    parts.append("</section>")

    parts.append('<section id="summary"><h2>Run summary (summary.csv)</h2>')
    summary_csv = run.path / "summary.csv"
    if summary_csv.is_file():
        table = pd.read_csv(summary_csv)
        parts.append("<details><summary>The run folder's <code>summary.csv</code> "
                     f"({len(table)} rows)</summary><div class=\"scroll\">")
        parts.append(_table(list(table.columns), (
            [r[c] if not isinstance(r[c], float) else _num(r[c], 4) for c in table.columns]
            for _, r in table.iterrows()), numeric_from=4))
        parts.append("</div></details>")
    else:
        parts.append("<p>The run folder has no <code>summary.csv</code>.</p>")
    parts.append("</section>")

    parts.append('<section id="manifest"><h2>Manifest</h2>')
    parts.append("<details><summary><code>manifest.json</code></summary><pre>"
                 + _e(json.dumps(m, indent=2)) + "</pre></details></section>")
    parts.append('<section id="scenario"><h2>Resolved scenario</h2>')
    parts.append("<p>The scenario as run: <code>extends</code> merged, <code>--set</code> "
                 "overrides applied, defaults filled in.</p>")
    parts.append("<details><summary><code>scenario.resolved.yaml</code></summary><pre>"
                 + _e(dump_scenario_yaml(sc)) + "</pre></details></section>")
    parts.append('<section id="definitions"><h2>Definitions</h2><dl class="facts">')
    parts.append("".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in DEFINITIONS.items()))
    parts.append("</dl></section>")
    version = m.get("critmin_version") or "unknown"
    parts.append(f"<footer>Generated by critmin {_e(version)} from <code>{_e(run.path.name)}"
                 "</code>. This file is self-contained: it needs no network and no other "
                 "file.</footer>")

    return html_page(title, parts, version)


def html_page(title: str, parts: Sequence[str], version: str) -> str:
    """A complete self-contained HTML page: ``parts`` joined in ``<main>``, the report CSS."""
    body = "\n".join(parts)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<meta name=\"generator\" content=\"critmin {_e(version)}\">\n"
            f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<main>\n{body}\n</main>\n</body>\n</html>\n")


def write_report(run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None,
                 **kwargs: Any) -> Path:
    """Write :func:`build_report` to ``out`` (default ``<run_dir>/report.html``) atomically
    and return its path."""
    text = build_report(run_dir, **kwargs)
    target = Path(out) if out is not None else Path(run_dir) / "report.html"
    return write_text_atomic(target, text)


def write_text_atomic(target: Path, text: str) -> Path:
    """Write ``text`` to ``target`` through a temporary sibling and a rename, so readers see
    the old file or the new one, never half of it. Returns ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target
