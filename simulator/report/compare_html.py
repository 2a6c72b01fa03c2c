"""The comparison report: one self-contained HTML file for ``critmin compare``.

It holds what the compare folder holds (the overlay figures, the paired KPI table, the inputs
and their pairing notes), with the figures embedded, so it opens offline in a browser.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .html import DEFINITIONS
from .markup import _e, _keep_together, _table, format_range, html_page, write_text_atomic

__all__ = ["CompareRun", "build_compare_report", "write_compare_report"]

#: Metrics in the report's sector table, with their headings.
REPORT_METRICS = {
    "fill_rate": "Fill rate",
    "trough_fill_rate": "Trough fill rate",
    "cumulative_shortfall_t": "Shortfall per replication",
    "days_below_threshold": "Days below 90%",
    "time_to_survive_days": "Time to first shortfall",
    "time_to_recover_days": "Time to recover",
    "units_short": "Units not built",
    "value_at_risk_usd": "Value at risk per replication",
    "demand_destroyed_t": "Demand destroyed by price",
    "demand_thrifted_t": "Demand thrifted or substituted away",
}

#: Rows shown only where some scenario has some (a demand response may be off).
_IF_ANY = ("demand_destroyed_t", "demand_thrifted_t")
#: Rows shown only where some scenario has a value (NaN: not valued, e.g. no prices).
_IF_VALUED = ("value_at_risk_usd",)


def _unit_of(rows: pd.DataFrame) -> str:
    """The first unit named in ``rows``' ``unit`` column (``""`` when none is)."""
    if "unit" not in rows:
        return ""
    named = [u for u in rows["unit"] if isinstance(u, str) and u]
    return named[0] if named else ""


def units_label(unit: str) -> str:
    """The row label of ``units_short``: ``EV-equivalents not built``."""
    return f"{unit} not built"


@dataclass(frozen=True)
class CompareRun:
    """One compared scenario as the report shows it."""

    name: str
    description: str
    source: str
    run_dir: str
    seed: int | None
    replications: int
    status: str


def _png_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _cell(row: pd.Series | None, prefix: str = "", *, signed: bool = False) -> str:
    if row is None:
        return "-"
    mid = row[f"{prefix}mean"]
    lo, hi = row[f"{prefix}ci95_low"], row[f"{prefix}ci95_high"]
    if isinstance(mid, float) and math.isnan(mid):
        return "-"
    text = format_range(str(row["metric"]), mid, lo, hi, signed=signed, clip=not signed)
    flag = row.get("diff_ci_excludes_zero") if signed else None
    return _keep_together(text) + (" *" if flag is True or flag == 1.0 else "")


def _mean(row: pd.Series) -> str:
    return format_range(str(row["metric"]), row["mean"], math.nan, math.nan)


def anchor_label(sub: pd.DataFrame) -> str:
    """The row label ``Time to first shortfall after <event> (<date>)`` from the
    ``tts_anchor_event`` and ``tts_anchor_date`` of one group's rows (indexed by scenario);
    one clause per scenario when they differ."""
    if "tts_anchor_event" not in sub:
        return REPORT_METRICS["time_to_survive_days"]
    found = {}
    for name, r in sub.iterrows():
        event, date = r["tts_anchor_event"], r["tts_anchor_date"]
        if isinstance(event, str) and event:
            found[str(name)] = f"{event} ({date})" if isinstance(date, str) and date else event
    if not found:
        return "Time to first shortfall (no disruption)"
    if len(set(found.values())) == 1:
        return f"Time to first shortfall after {next(iter(found.values()))}"
    return "Time to first shortfall after " + "; ".join(
        f"{a} in {n}" for n, a in found.items())


def _sector_rows(kpis: pd.DataFrame, names: Sequence[str], sectors: Sequence[str],
                 level: str = "sector") -> list[list[str]]:
    sec = kpis[kpis["level"] == level]
    rows = []
    for s in sectors:
        for metric, label in REPORT_METRICS.items():
            sub = sec[(sec["group"] == s) & (sec["metric"] == metric)].set_index("scenario")
            if sub.empty:
                continue
            if metric == "time_to_survive_days":
                label = anchor_label(sub)
            elif metric == "units_short":
                if not _unit_of(sub):
                    continue  # the group has no units
                label = units_label(_unit_of(sub))
            elif ((metric in _IF_ANY and not (sub["mean"].fillna(0.0) > 0).any())
                  or (metric in _IF_VALUED and not sub["mean"].notna().any())):
                continue
            get = {n: (sub.loc[n] if n in sub.index else None) for n in names}
            rows.append([s, label, *(_cell(get[n]) for n in names),
                         *(_cell(get[n], "diff_", signed=True) for n in names[1:])])
    return rows


def _pair_row(pairs: pd.DataFrame | None, level: str, group: str, metric: str,
              ref: str, other: str) -> pd.Series | None:
    """The ``pairs.csv`` row of ``other - ref`` for one group and metric, as a
    ``diff_``-prefixed series :func:`_cell` reads (``None`` when not paired)."""
    if pairs is None or pairs.empty:
        return None
    hit = pairs[(pairs["level"] == level) & (pairs["group"] == group)
                & (pairs["metric"] == metric) & (pairs["reference"] == ref)
                & (pairs["scenario"] == other)]
    if hit.empty:
        return None
    r = hit.iloc[0]
    return pd.Series({"metric": metric, "diff_mean": r["diff_mean"],
                      "diff_ci95_low": r["ci95_low"], "diff_ci95_high": r["ci95_high"],
                      "diff_ci_excludes_zero": bool(r["ci_excludes_zero"])})


def _findings(kpis: pd.DataFrame, groups: Sequence[str], level: str, ref: str,
              others: Sequence[str], pairs: pd.DataFrame | None = None) -> list[str]:
    """One sentence per group of interest (``level`` sector or demand) and scenario of
    ``others``, against ``ref``: its fill rate, ``ref``'s, their paired difference (from
    ``pairs``; without it, ``kpis``'s difference against the first scenario) and its
    shortfall."""
    sec = kpis[(kpis["level"] == level)]
    out = []
    for s in groups:
        fr = sec[(sec["group"] == s) & (sec["metric"] == "fill_rate")].set_index("scenario")
        sh = sec[(sec["group"] == s)
                 & (sec["metric"] == "cumulative_shortfall_t")].set_index("scenario")
        for n in others:
            if n not in fr.index or n not in sh.index or ref not in fr.index:
                continue
            f, t = fr.loc[n], sh.loc[n]
            diff = (_pair_row(pairs, level, s, "fill_rate", ref, n) if pairs is not None
                    else f)
            said = ("not paired" if diff is None
                    else f"difference {_e(_cell(diff, 'diff_', signed=True))}")
            out.append(
                f"<strong>{_e(s)}</strong>, {_e(n)}: fill rate "
                f"{_e(_cell(f))} against {_e(_mean(fr.loc[ref]))} in {_e(ref)} "
                f"({said}); shortfall {_e(_cell(t))} per replication"
                + _units_clause(sec, s, level, ref, n, pairs) + ".")
    return out


def _units_clause(sec: pd.DataFrame, group: str, level: str, ref: str, name: str,
                  pairs: pd.DataFrame | None) -> str:
    """``, i.e. 1,230 [..] EV-equivalents not built (567 in ref; difference ...)``
    for a group with units (``""`` without)."""
    u = sec[(sec["group"] == group) & (sec["metric"] == "units_short")].set_index("scenario")
    unit = _unit_of(u)
    if not unit or name not in u.index or not math.isfinite(float(u.loc[name, "mean"])):
        return ""
    text = f", i.e. {_cell(u.loc[name])} {units_label(unit)}"
    if ref in u.index:
        diff = (_pair_row(pairs, level, group, "units_short", ref, name) if pairs is not None
                else u.loc[name])
        text += f" ({_mean(u.loc[ref])} in {ref}"
        text += f"; difference {_cell(diff, 'diff_', signed=True)})" if diff is not None \
            else ")"
    return _e(text)


def _pairs_rows(pairs: pd.DataFrame, level: str, groups: Sequence[str],
                columns: Sequence[tuple[str, str]]) -> list[list[str]]:
    rows = []
    for g in groups:
        for metric, label in REPORT_METRICS.items():
            cells = [_cell(_pair_row(pairs, level, g, metric, a, b), "diff_", signed=True)
                     for a, b in columns]
            if all(c == "-" for c in cells):
                continue
            sub = pairs[(pairs["level"] == level) & (pairs["group"] == g)
                        & (pairs["metric"] == metric)]
            if metric == "units_short":
                label = units_label(_unit_of(sub) or "units")
            elif metric in _IF_ANY and not ((sub["mean_reference"].fillna(0.0) > 0)
                                            | (sub["mean_scenario"].fillna(0.0) > 0)).any():
                continue
            rows.append([g, label, *cells])
    return rows


def _findings_section(kpis: pd.DataFrame, names: Sequence[str], sectors: Sequence[str],
                      demands: Sequence[str], pairs: pd.DataFrame | None,
                      references: Sequence[str]) -> list[str]:
    """The findings: against each reference in turn (the question first), then the pairs
    that involve no reference."""
    parts = ['<section id="findings"><h2>Findings</h2>']
    refs = list(references) or [names[0]]
    for ref in refs:
        others = [n for n in names if n != ref]
        if len(refs) > 1 or len(names) > 2:
            parts.append(f"<h3>Against {_e(ref)}: how much each scenario differs</h3>")
        if demands:
            parts.append("<h4>Who runs short: the hardest-hit demand sectors</h4>"
                         if len(refs) > 1 or len(names) > 2 else
                         "<h3>Who runs short: the hardest-hit demand sectors</h3>")
            parts.append('<ul class="findings">' + "".join(
                f"<li>{x}</li>" for x in _findings(kpis, demands, "demand", ref, others,
                                                   pairs)) + "</ul>")
            parts.append("<h4>By sector, summed over countries</h4>"
                         if len(refs) > 1 or len(names) > 2 else
                         "<h3>By sector, summed over countries</h3>")
        found = _findings(kpis, sectors, "sector", ref, others, pairs)
        parts.append('<ul class="findings">' + "".join(f"<li>{x}</li>" for x in found)
                     + "</ul>" if found else "<p>No alternative scenario to compare.</p>")
    if pairs is not None and not pairs.empty:
        rest = [(a, b) for a, b in dict.fromkeys(zip(pairs["reference"], pairs["scenario"],
                                                     strict=True))
                if a not in refs and b not in refs]
        if rest:
            parts.append("<h3>Other pairs</h3>")
            for a, b in rest:
                found = _findings(kpis, sectors, "sector", a, [b], pairs)
                parts.append('<ul class="findings">' + "".join(
                    f"<li>{x}</li>" for x in found) + "</ul>")
    parts.append("</section>")
    return parts


def _price_section(table: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """The prices beside the fill rates: per material and tier, each scenario's peak and
    average price (mean over replications [95% CI]) and the paired difference against the
    first scenario."""
    rows = []
    stat_label = {"peak": "peak", "average": "average",
                  "at_ceiling": "share of steps at the ceiling"}
    for (mat, mkt, stat), grp in table.groupby(["material", "market", "stat"], sort=False):
        metric = "share_at_ceiling" if stat == "at_ceiling" else "price_usd_per_kg"
        sub = grp.set_index("scenario").assign(metric=metric)
        get = {n: (sub.loc[n] if n in sub.index else None) for n in names}
        cells = [*(_cell(get[n]) for n in names),
                 *(_cell(get[n], "diff_", signed=True) if get[n] is not None
                   and isinstance(get[n]["diff_vs"], str) and get[n]["diff_vs"] else "-"
                   for n in names[1:])]
        rows.append([mat, mkt, stat_label.get(str(stat), str(stat)),
                     *(c.replace(" USD/kg", "") for c in cells)])  # the unit is in the head
    return ['<section id="price-findings"><h2>Prices beside the fill rates</h2>',
            "<p>Price per market tier (USD/kg, <code>prices.parquet</code>; docs/markets.md): "
            "in each replication its highest step and its average over the horizon; mean "
            "over replications [95% CI], and the paired difference against "
            f"<strong>{_e(names[0])}</strong>. A peak at <code>max_multiple</code> times the "
            "tier's reference price is the ceiling of the price formation, not a forecast; "
            "the share of steps at the ceiling (within 2% of it) says how long a price is "
            "set by that assumption rather than by the market. "
            "Prices change the other results only where a scenario lets them (demand "
            "response, plants built on price).</p>",
            '<div class="scroll">' + _table(
                ["Material", "Tier", "Price (USD/kg; share: % of steps)",
                 *(f"{x} mean [95% CI]" for x in names),
                 *(f"{x} - {names[0]} [95% CI]" for x in names[1:])], rows, numeric_from=3)
            + "</div></section>"]


def build_compare_report(runs: Sequence[CompareRun], kpis: pd.DataFrame,
                         sectors: Sequence[str], figures: dict[str, Path],
                         notes: Sequence[str] = (), version: str = "unknown", *,
                         demands: Sequence[str] = (),
                         demand_figures: dict[str, Path] | None = None,
                         price_figures: dict[str, Path] | None = None,
                         pairs: pd.DataFrame | None = None,
                         references: Sequence[str] = (),
                         price_table: pd.DataFrame | None = None) -> str:
    """The comparison report as HTML text.

    ``kpis`` is the comparison's ``kpis.csv`` frame; ``figures`` maps a sector, and
    ``demand_figures`` a demand sector of ``demands`` (the hardest hit), to its overlay PNG
    (embedded); ``price_figures`` maps a priced material to its price overlay; ``pairs``
    (``pairs.csv``) gives the paired difference of every pair, shown against each of
    ``references`` in turn (default: the first run), then the other pairs; ``price_table``
    (:func:`~simulator.comparison.tables.price_table`) puts the prices beside the fill
    rates in the findings. Raises
    ``FileNotFoundError`` when a figure file is missing."""
    demand_figures = demand_figures or {}
    names = [r.name for r in runs]
    title = f"Comparison: {' vs '.join(names)}"
    n = min(r.replications for r in runs)
    seeds = sorted({r.seed for r in runs if r.seed is not None})
    parts = [f"<header><h1>{_e(title)}</h1>",
             f'<p class="lede">Each scenario ran {n} replication(s) with seed '
             f"{_e(', '.join(map(str, seeds)) or '-')}; replication r of every scenario "
             "draws the same random numbers (common random numbers), so the paired "
             "differences against "
             + ", then against ".join(f"<strong>{_e(r)}</strong>"
                                      for r in (list(references) or names[:1]))
             + " cancel the noise the scenarios share. A * marks a difference whose 95% CI "
             "excludes zero.</p>"]
    parts.append('<div class="scroll">' + _table(
        ["Scenario", "Source", "Seed", "Replications", "Status", "Run folder"],
        ([r.name, r.source, r.seed if r.seed is not None else "-", r.replications, r.status,
          r.run_dir] for r in runs), numeric_from=2, caption="Inputs") + "</div>")
    parts.append('<dl class="facts">' + "".join(
        f"<dt>{_e(r.name)}</dt><dd>{_e(' '.join(r.description.split()) or '-')}</dd>"
        for r in runs) + "</dl>")
    if notes:
        parts.append("<ul>" + "".join(f"<li>{_e(x)}</li>" for x in notes) + "</ul>")
    parts.append("</header>")

    parts += _findings_section(kpis, names, sectors, demands, pairs, references)
    if price_table is not None and not price_table.empty:
        parts += _price_section(price_table, names)

    parts.append('<section id="figures"><h2>Fill rate by sector</h2>')
    for d in demands:
        if d in demand_figures:
            parts.append(
                f'<figure id="overlay-demand-{_e(d)}"><img src="{_png_uri(demand_figures[d])}" '
                f'alt="Fill rate of demand sector {_e(d)} in each scenario">'
                f"<figcaption>Demand sector {_e(d)} (one country and sector): median fill rate "
                "per step with the P5-P95 band across replications (top) and the paired "
                f"difference against {_e(names[0])} (bottom).</figcaption></figure>")
    for s in sectors:
        if s in figures:
            parts.append(
                f'<figure id="overlay-{_e(s)}"><img src="{_png_uri(figures[s])}" '
                f'alt="Fill rate of sector {_e(s)} in each scenario">'
                f"<figcaption>Sector {_e(s)}: median fill rate per step with the P5-P95 band "
                "across replications (top) and the paired difference against "
                f"{_e(names[0])} (bottom); events shaded.</figcaption></figure>")
    parts.append("</section>")
    if price_figures:
        parts.append('<section id="prices"><h2>Prices</h2>')
        for m, path in price_figures.items():
            parts.append(
                f'<figure id="overlay-prices-{_e(m)}"><img src="{_png_uri(path)}" '
                f'alt="Price of {_e(m)} by market tier in each scenario">'
                f"<figcaption>{_e(m)}: median price per step (USD/kg) with the P5-P95 band "
                "across replications, one panel per market tier (docs/markets.md). Prices "
                "are outputs: they do not change the other results.</figcaption></figure>")
        parts.append("</section>")

    diff_heads = [f"{x} - {names[0]} [95% CI]" for x in names[1:]]
    parts.append('<section id="kpis"><h2>Metrics per sector</h2>')
    if demands:
        parts.append('<div class="scroll">' + _table(
            ["Demand sector", "Metric", *(f"{x} mean [95% CI]" for x in names), *diff_heads],
            _sector_rows(kpis, names, demands, "demand"), numeric_from=2,
            caption="Hardest-hit demand sectors (one country and sector each)") + "</div>")
    parts.append('<div class="scroll">' + _table(
        ["Sector", "Metric", *(f"{x} mean [95% CI]" for x in names), *diff_heads],
        _sector_rows(kpis, names, sectors), numeric_from=2,
        caption="Sectors drawn above (summed over countries)") + "</div>")
    others = sorted(set(kpis.loc[kpis["level"] == "sector", "group"].astype(str))
                    - set(sectors))
    if others:
        parts.append("<details><summary>Other sectors</summary><div class=\"scroll\">"
                     + _table(["Sector", "Metric", *(f"{x} mean [95% CI]" for x in names),
                               *diff_heads], _sector_rows(kpis, names, others),
                              numeric_from=2) + "</div></details>")
    if pairs is not None and not pairs.empty:
        columns = list(dict.fromkeys(zip(pairs["reference"], pairs["scenario"], strict=True)))
        if len(columns) > len(names) - 1:
            parts.append("<details open><summary>Every pair's paired difference</summary>"
                         '<div class="scroll">' + _table(
                             ["Sector", "Metric", *(f"{b} - {a} [95% CI]" for a, b in columns)],
                             _pairs_rows(pairs, "sector", sectors, columns), numeric_from=2,
                             caption="Sectors drawn above: every pair that shares a seed "
                                     "(pairs.csv)") + "</div></details>")
    parts.append("<p>Every metric, per sector and per demand sector, with percentiles: "
                 "<code>kpis.csv</code> in the compare folder; every pair's paired "
                 "differences: <code>pairs.csv</code>.</p></section>")

    parts.append('<section id="definitions"><h2>Definitions</h2><dl class="facts">'
                 + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in DEFINITIONS.items())
                 + "</dl></section>")
    parts.append(f"<footer>Generated by critmin {_e(version)}. This file is self-contained: "
                 "it needs no network and no other file. <code>critmin report RUN_DIR</code> "
                 "writes the full report of one run.</footer>")
    return html_page(title, parts, version)


def write_compare_report(target: Path, *args, **kwargs) -> Path:
    """Write :func:`build_compare_report` to ``target`` atomically; return its path."""
    return write_text_atomic(target, build_compare_report(*args, **kwargs))
