"""A run folder as one self-contained HTML file (``critmin report``).

The page embeds its figures as base64 PNG and its style sheet inline, and links to nothing
outside itself (no scripts, no web fonts, no CDN), so it opens offline and can be mailed as
one file. It holds: headline findings, the events with dates, the figures (fan chart, small
multiples, stockpiles, origin mix, concentration, the run's own overview), resilience metrics
per sector and per demand sector with percentiles and confidence intervals, the run's
``summary.csv``, the manifest and the resolved scenario.

The same run folder gives the same bytes (no generation time is written).

Run folders are read by :mod:`.rundata`; formatting and page markup are in :mod:`.markup`.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.metrics import event_windows, plant_starts, replication_metrics, summarize
from ..scenario import dump_scenario_yaml
from ..scenario.models import Scenario
from .markup import (
    _e,
    _figure,
    _keep_together,
    _num,
    _png_data_uri,
    _table,
    format_metric,
    format_range,
    html_page,
    write_text_atomic,
)
from .rundata import RunData, RunFolderError, load_run, sector_timeseries

__all__ = ["build_report", "write_report"]


#: Metrics shown in the report's tables, in order, with their headings.
METRIC_HEADINGS = {
    "fill_rate": "Fill rate over the horizon",
    "trough_fill_rate": "Trough fill rate (worst step)",
    "time_to_survive_days": "Time to first shortfall after its anchor event",
    "time_to_recover_days": "Time to recover to 95% from the trough",
    "days_below_threshold": "Days below 90%",
    "cumulative_shortfall_t": "Cumulative shortfall",
    "resilience_loss_pct_days": "Resilience loss (triangle area)",
    "stockpile_drawdown_t": "Stockpile drawdown",
    "value_at_risk_usd": "Value at risk (shortfall at prices; products at priced content)",
    "units_short": "Units not built",
    "demand_destroyed_t": "Demand destroyed by price",
    "demand_thrifted_t": "Demand thrifted or substituted away",
}


# --------------------------------------------------------------------------- content

def _summary_index(summary: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    return {(str(r["demand_id"]), str(r["metric"])): r for _, r in summary.iterrows()}


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
               "Shortfall per replication mean [95% CI]",
               "Units not built per replication mean [95% CI]", "Days below 90% P50 (P5, P95)",
               "Time to first shortfall P50 (P5, P95)", "First shortfall counted from",
               "Time to recover P50 (P5, P95)"]


def _anchor_cell(idx: dict, did: str) -> str:
    """``<event> (<date>)``: what the time to first shortfall counts from ("-": nothing)."""
    r = idx.get((did, "time_to_survive_days"))
    if r is None or not r.get("tts_anchor_event"):
        return "-"
    return f"{r['tts_anchor_event']} ({r['tts_anchor_date']})"


def _units_cell(idx: dict, did: str) -> str:
    """Mean [95% CI] of ``units_short`` with its unit (``12,000 [9,000, 15,000]
    EV-equivalents``); "-" for a demand sector without ``units``."""
    r = idx.get((did, "units_short"))
    if r is None or not r.get("unit") or not np.isfinite(r["mean"]):
        return "-"
    return f"{_mean_ci(idx, did, 'units_short')} {r['unit']}"


#: Headings of the demand-response columns (shown when the run destroyed or thrifted some).
RESPONSE_HEAD = ["Demand destroyed by price mean [95% CI]",
                 "Demand thrifted or substituted mean [95% CI]"]


def _response_cells(idx: dict, did: str) -> list[str]:
    return [_mean_ci(idx, did, "demand_destroyed_t"), _mean_ci(idx, did, "demand_thrifted_t")]


def _metric_cells(idx: dict, did: str) -> list[str]:
    return [
        _mean_ci(idx, did, "fill_rate"),
        _p50_range(idx, did, "trough_fill_rate"),
        _mean_ci(idx, did, "cumulative_shortfall_t"),
        _units_cell(idx, did),
        _p50_range(idx, did, "days_below_threshold"),
        _time_cell(idx, did, "time_to_survive_days"),
        _anchor_cell(idx, did),
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
                         f" after {_e(_anchor_cell(idx, did))}")
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
        if _units_cell(idx, did) != "-":
            text += f", i.e. {_e(_units_cell(idx, did))} not built"
        out.append(text + ".")
    never = metrics["demand_id"].nunique() - len(short)
    if never and out:
        out.append(f"{never} other demand sector{'s' if never != 1 else ''} never ran short.")
    return out


def _when(date: Any, drawn: tuple[Any, Any] | None) -> str:
    """An event date, or the range a date drawn per replication can take."""
    if drawn is None:
        return date.isoformat()
    return f"uncertain: {drawn[0].isoformat()} to {drawn[1].isoformat()}"


def _events_table(scenario: Scenario) -> str:
    wins = event_windows(scenario)
    if not wins:
        return "<p>This scenario has no events: it is a baseline.</p>"
    rows = []
    for i, w in enumerate(wins, 1):
        ev = scenario.events[w.id]
        rows.append([i, w.id, w.type, w.label, _when(w.start, w.start_range),
                     _when(w.end, w.end_range) if w.end else "open-ended",
                     f"{ev.probability:.0%}", "yes" if w.disruption else "no",
                     " ".join((ev.note or "").split())])
    return _table(["#", "Id", "Type", "Label", "Start", "End (exclusive)", "Probability",
                   "Reduces supply", "Note"], rows, numeric_from=99, cls="events")


#: Plain-language definitions shown at the end of every report.
DEFINITIONS = {
    "Fill rate": "delivered / demanded tonnes (1 in a step without demand).",
    "Trough": "the lowest single-step fill rate.",
    "Time to first shortfall": "days from the start of the event it counts from (named "
                               "with --disruption; by default, per demand sector, the "
                               "first event that can reduce its supply) to the first step "
                               "with a shortfall.",
    "Time to recover": "days from the trough until the fill rate is at least 95% and "
                       "stays there for 30 days.",
    "Days below 90%": "step length x the number of steps with a fill rate below 90%.",
    "Resilience loss": "100 x step days x the sum over steps of (1 - fill rate), the "
                       "area of the resilience triangle in %·days.",
    "Stockpile drawdown": "largest fall of the reserves a demand sector can draw on "
                          "below their level at the start.",
    "Units not built": "cumulative shortfall x 1000 / the sector's kg of material per unit "
                       "(units in the scenario, e.g. 1.5 kg of NdFeB per EV-equivalent): "
                       "units not built for want of the material, assuming each missing "
                       "kilogram stops its share of a unit.",
    "Demand destroyed, thrifted": "tonnes not bought because of price, and tonnes "
                                  "thrifted or substituted away (docs/markets.md); "
                                  "neither counts as shortfall.",
    "P5, P50, P95": "percentiles across replications; 95% CI: Student t interval of "
                    "the mean.",
}


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
    try:
        prices = run.table("prices")
    except RunFolderError:  # a run folder written before prices.parquet existed
        prices = None
    if prices is not None and len(prices):
        from ..analysis.tiers import published_tiers, tier_notes, unpriced_notes
        from ..scenario.tiers import export_tiers, price_ceilings
        from ..viz.prices import price_figure

        caps = price_ceilings(sc.market, export_tiers(sc))
        notes = tier_notes([sc], [published_tiers(prices)])
        for mid, texts in unpriced_notes(prices, sc).items():  # tiers priced on some steps
            notes[mid] = "; ".join([notes[mid], *texts] if mid in notes else texts)
        add(lambda: price_figure(prices, sc.name, n, events=events, ceilings=caps,
                                 tier_notes=notes),
            "fig-prices",
            "Prices by material and market tier",
            "Price of each priced material in each market tier (<code>prices.parquet</code>, "
            "USD/kg; docs/markets.md): median and P5-P95 across replications, event windows "
            "shaded and numbered; a dotted line marks a tier's ceiling (<code>max_multiple"
            "</code> times its reference price, an assumption) where prices come near it. "
            "Prices change the other results only where a scenario lets them (demand "
            "response, plants built on price).")
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
    events = event_windows(sc) + plant_starts(sc)  # figures mark plants that start
    named = m.get("disruption")  # critmin run --disruption
    anchor: dict[str, Any] = {"event_id": named} if named in sc.events else {}
    try:  # values the shortfall in USD (a run folder older than prices.parquet has none)
        prices = run.table("prices")
    except RunFolderError:
        prices = None
    anchor["seed"] = run.seed  # each replication's uncertain event dates
    metrics = replication_metrics(run.timeseries, sc, prices=prices, **anchor)
    summary = summarize(metrics)
    s_metrics = replication_metrics(sector_timeseries(run.timeseries), sc, **anchor)
    s_summary = summarize(s_metrics, columns=[c for c in METRIC_HEADINGS if c not in
                                              ("stockpile_drawdown_t", "value_at_risk_usd")])
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
        ("First shortfall counted from",
         f"<code>{_e(named)}</code> (--disruption)" if anchor else
         "per demand sector, the first event that can reduce its supply"),
        ("Network", f"{len(sc.countries)} countries, {len(sc.facilities)} facilities, "
                    f"{len(sc.demand)} demand sectors, {len(sc.stockpiles)} stockpiles, "
                    f"{len(sc.events)} events"),
    ]
    if m.get("overrides"):
        facts.append(("Overrides", "<br>".join(f"<code>{_e(o)}</code>"
                                               for o in m["overrides"])))
    parts.append('<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
                 + "</dl></header>")
    from .projects import projects_section

    projects = projects_section(run.path, sc.start_date, n)
    sections = [("findings", "Findings"), ("events", "Events"),
                *([("figures", "Figures")] if figures else []),
                ("sectors", "Metrics per sector"), ("demand", "Metrics per demand sector"),
                *([("projects", "Plants built on price")] if projects else []),
                ("countries", "By country"),
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
    response = bool((metrics[["demand_destroyed_t", "demand_thrifted_t"]] > 0).any().any())
    rows = [[sec, *_metric_cells(s_idx, sec), *(_response_cells(s_idx, sec) if response else [])]
            for sec in sorted(s_summary["demand_id"].unique())] if len(s_summary) else []
    parts.append('<section id="sectors"><h2>Metrics per sector</h2>')
    parts.append("<p>Tonnes summed over every country and material of the sector. Means "
                 "with a 95% confidence interval (Student t over replications); percentiles "
                 "over replications. \"never\" in a time percentile: more than that share of "
                 "replications never ran short / never recovered within the horizon. Confidence "
                 "intervals are clipped to the metric's range (0-100%, >= 0). Units not built: "
                 "the shortfall over the sector's intensity (<code>units</code> in the "
                 "scenario; \"-\": none declared).</p>")
    if not response:
        parts.append("<p>No demand was destroyed or thrifted by price in this run (the "
                     "demand response is off, or prices never rose enough).</p>")
    parts.append('<div class="scroll">' + _table(
        ["Sector", *_TABLE_HEAD, *(RESPONSE_HEAD if response else [])], rows) + "</div>")
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
                 *_metric_cells(idx, d), _p50_range(idx, d, "stockpile_drawdown_t"),
                 _mean_ci(idx, d, "value_at_risk_usd"),
                 *(_response_cells(idx, d) if response else [])]
                for d in ids]

    head = ["Demand id", "Country, sector", *_TABLE_HEAD, "Stockpile drawdown P50 (P5, P95)",
            "Value at risk mean [95% CI]", *(RESPONSE_HEAD if response else [])]
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

    from .countries import country_section

    parts += projects

    parts += country_section(sc, run.timeseries, metrics, n, events, demand_rows, head,
                             figures)

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


def write_report(run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None,
                 **kwargs: Any) -> Path:
    """Write :func:`build_report` to ``out`` (default ``<run_dir>/report.html``) atomically
    and return its path."""
    text = build_report(run_dir, **kwargs)
    target = Path(out) if out is not None else Path(run_dir) / "report.html"
    return write_text_atomic(target, text)


