"""HTML building blocks of the reports: metric formatting, tables, embedded figures, the page
and its style sheet, atomic writes."""

from __future__ import annotations

import base64
import html
import io
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np

from ..atomic import write_text_atomic

__all__ = ["format_metric", "format_range", "html_page", "write_text_atomic"]


def _num(v: float, decimals: int = 1) -> str:
    if not np.isfinite(v):
        return "-"
    text = f"{v:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _round_sig(v: float, digits: int) -> float:
    """``v`` rounded to ``digits`` significant digits (5,022,493 -> 5,020,000 at 3)."""
    if v == 0 or not np.isfinite(v):
        return v
    return round(v, digits - 1 - math.floor(math.log10(abs(v))))


_FILL = ("fill_rate", "trough_fill_rate", "share_at_ceiling")  # shares, read as %


#: Metrics that cannot be negative (confidence intervals are clipped at 0 for display).
_NONNEG = ("cumulative_shortfall_t", "days_below_threshold", "time_to_survive_days",
           "time_to_recover_days", "resilience_loss_pct_days", "stockpile_drawdown_t",
           "units_short", "demand_destroyed_t", "demand_thrifted_t", "value_at_risk_usd")


def _pct_decimals(v: float, signed: bool) -> int:
    """Decimals of a fill rate in percent: one; a difference (``signed``) gets up to three
    when one would read a non-zero difference as 0."""
    pct = v * 100.0
    decimals = 1
    while signed and decimals < 3 and pct != 0 and round(pct, decimals) == 0:
        decimals += 1
    return decimals


def format_metric(metric: str, value: float, *, signed: bool = False,
                  unit: bool = True, decimals: int | None = None) -> str:
    """A metric value for people: % for fill rates, t for tonnes, d for days, whole units
    (no suffix) for ``units_short``; ``inf`` (never within the horizon) as "never"; NaN as
    "-". ``signed`` adds + to positive values
    (differences; fill rates then read in percentage points). ``unit=False`` leaves the unit
    off; ``decimals`` fixes the decimals of a fill rate.

    Fill rates read with one decimal (``97.3%``), and a rate short of 100% that would round
    to it as ``>99.9%``; a difference gets up to three decimals when one would read a
    non-zero difference as 0 (``+0.02 pp``)."""
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
        elif not signed and v < 1 and float(text) >= 100:  # short of 100%: never "100.0"
            text = f">{100 - 10 ** -d:.{d}f}"
        if not unit:
            return f"{sign}{text}"
        return f"{sign}{text} pp" if signed else f"{text}%"
    if metric.endswith("_t"):
        text, suffix = _num(v, 1 if abs(v) < 1000 else 0), " t"
    elif metric.endswith("_usd_per_kg"):  # a price
        text, suffix = _num(v, 0 if abs(v) >= 100 else 1), " USD/kg"
    elif metric.endswith("_usd"):  # money: USD in millions (value at risk)
        text, suffix = _num(v / 1e6, 1 if abs(v) < 1e8 else 0), " M USD"
    elif metric == "units_short":  # whole units (EVs, MW); the row or column names them
        text, suffix = _num(_round_sig(v, 3), 1 if abs(v) < 10 else 0), ""
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
    same decimals throughout (:func:`format_metric`'s rule; a difference's the most any of
    the three needs). With ``clip`` (not for differences), bounds are clipped to the
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


def _keep_together(text: str) -> str:
    """No line breaks inside a bracket or between a number and its unit."""
    text = re.sub(r"(\d) (t|d|pp|%·d)\b", "\\1\u00a0\\2", text)
    return text.replace(", ", ",\u00a0")


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


def html_page(title: str, parts: Sequence[str], version: str) -> str:
    """A complete self-contained HTML page: ``parts`` joined in ``<main>``, the report CSS."""
    body = "\n".join(parts)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<meta name=\"generator\" content=\"critmin {_e(version)}\">\n"
            f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<main>\n{body}\n</main>\n</body>\n</html>\n")
