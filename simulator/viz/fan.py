"""Fan chart: fill rate per group over calendar dates with percentile bands and events.

The top panel shows, per group (sector or demand sector), the median fill rate across
replications with a P25-P75 band (darker) and a P5-P95 band (lighter); the panel below shows
the shortfall in tonnes per step (median line, P5-P95 band). Event windows are shaded and
numbered; the legend lists them with their dates.

By default the chart shows only the groups that ran short (largest shortfall first, at most
``max_groups``) and zooms the date axis onto the disruption when it is short compared with the
horizon; both are stated on the figure. The helpers here (:func:`quantile_frame`,
:func:`focus_window`...) are shared by the other figures of :mod:`simulator.viz`; events are
drawn by :mod:`simulator.viz.events`.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator, PercentFormatter

from ..analysis.kpis import fill_rate_curve
from .curves import (
    _RC,
    PALETTE,
    TARGET,
    _date_axis,
    _step_days,
    _tonnes,
    date_span,
    group_colors,
    percentiles_by_row,
)
from .events import (
    Window,
    event_legend_handles,
    event_spans,
    shade_events,
)

__all__ = [
    "fan_chart",
    "fill_rate_ylim",
    "focus_window",
    "percent_axis",
    "quantile_frame",
    "select_groups",
    "stable_colors",
    "wrap_notes",
]

#: Shortfall below this many tonnes (summed over a group) is rounding, not a shortage.
EPS_T = 1e-6


# --------------------------------------------------------------------------- data helpers

def quantile_frame(frame: pd.DataFrame, value: str, qs: Sequence[float] = (5, 25, 50, 75, 95),
                   *, index: str = "date") -> pd.DataFrame:
    """Per ``index`` value: percentiles ``qs`` of ``value`` across replications.

    ``frame`` holds one row per replication x ``index`` (several rows are summed). Columns
    ``p5``, ``p25``... (NaN-aware: a replication missing at a date is ignored there)."""
    wide = frame.pivot_table(index=index, columns="replication", values=value,
                             aggfunc="sum", observed=True).sort_index()
    if wide.empty:
        return pd.DataFrame({f"p{q:g}": pd.Series([], dtype=np.float64) for q in qs})
    q = percentiles_by_row(wide.to_numpy(dtype=np.float64), list(qs))
    return pd.DataFrame({f"p{p:g}": q[i] for i, p in enumerate(qs)}, index=wide.index)


def select_groups(curve: pd.DataFrame, by: str, groups: Sequence[str] | None = None,
                  max_groups: int = 6) -> tuple[list[str], list[str], str | None]:
    """Which groups of a :func:`~simulator.analysis.kpis.fill_rate_curve` to draw.

    Returns ``(shown, not_shown, note)``. Explicit ``groups`` are shown as given (unknown
    names raise ``KeyError``). Otherwise the groups with any shortfall, largest total shortfall
    first, at most ``max_groups``; if nothing ran short, every group up to the cap. ``note``
    says what was left out, or is ``None``."""
    names = sorted(curve[by].astype(str).unique())
    if groups is not None:
        unknown = [g for g in groups if g not in names]
        if unknown:
            raise KeyError(f"unknown {by} {', '.join(unknown)} (known: {', '.join(names)})")
        shown = list(dict.fromkeys(groups))
        return shown, [n for n in names if n not in shown], None
    total = curve.groupby(curve[by].astype(str), observed=True)["shortfall_t"].sum()
    short = total[total > EPS_T].sort_values(ascending=False, kind="stable")
    what = by.replace("_", " ")
    if short.empty:
        shown = names[:max_groups]
        rest = names[max_groups:]
        note = (f"no shortfall in any {what}" + (f"; {len(rest)} more not shown" if rest
                                                 else ""))
        return shown, rest, note
    shown = [str(s) for s in short.index[:max_groups]]
    rest = [n for n in names if n not in shown]
    parts = []
    if len(short) > len(shown):
        parts.append(f"{len(short) - len(shown)} more {what}s with smaller shortfalls "
                     "not shown")
    never = len(names) - len(short)
    if never:
        parts.append(f"{never} {what}{'s' if never != 1 else ''} never short (100%)")
    return shown, rest, "; ".join(parts) or None


def focus_window(dates: pd.Series | pd.DatetimeIndex, active: Sequence[tuple[Any, Any]],
                 *, before_days: int = 90, after_days: int = 180,
                 max_fraction: float = 0.6) -> Window | None:
    """A date window around ``active`` (start, end-or-None) spans, or ``None`` for the whole
    range of ``dates``.

    The window runs from ``before_days`` before the first start to ``after_days`` after the
    last end (an open end counts as its start), clipped to the data; it is returned only when
    it covers less than ``max_fraction`` of the data's range."""
    if len(dates) == 0 or not active:
        return None
    lo, hi = pd.Timestamp(np.min(dates)), pd.Timestamp(np.max(dates))
    starts = [pd.Timestamp(s) for s, _ in active]
    ends = [pd.Timestamp(e) if e is not None else pd.Timestamp(s) for s, e in active]
    w_lo = max(lo, min(starts) - pd.Timedelta(days=before_days))
    w_hi = min(hi, max(ends) + pd.Timedelta(days=after_days))
    if w_hi <= w_lo or (w_hi - w_lo) >= max_fraction * (hi - lo):
        return None
    return w_lo, w_hi


def shortfall_spans(curve: pd.DataFrame, step_days: int) -> list[tuple[Any, Any]]:
    """(first, last + one step) dates with any shortfall in any replication, or ``[]``."""
    short = curve.loc[curve["shortfall_t"] > EPS_T, "date"]
    if short.empty:
        return []
    return [(short.min(), short.max() + pd.Timedelta(days=step_days))]


def fill_rate_ylim(low_pct: float) -> tuple[float, float]:
    """Y limits (in %) of a fill-rate axis whose lowest plotted value is ``low_pct``: from a
    round number below it (0 at most, 90 at least) to just above 100%."""
    if not np.isfinite(low_pct):
        low_pct = 100.0
    bottom = math.floor((low_pct - 3.0) / 5.0) * 5.0
    return float(min(max(bottom, 0.0), 90.0)), 101.5


def percent_axis(ax: Axes, ylim: tuple[float, float]) -> None:
    """Y axis in % with round ticks (every 2, 5, 10 or 20 points, by the range)."""
    span = ylim[1] - ylim[0]
    step = 2 if span <= 12 else 5 if span <= 30 else 10 if span <= 60 else 20
    ax.set_ylim(math.floor(ylim[0] / step) * step, ylim[1])  # the bottom on a tick
    ax.yaxis.set_major_locator(MultipleLocator(step))
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))


def _window_note(xlim: Window, full: Window) -> str:
    return (f"Zoomed to {xlim[0]:%Y-%m-%d} to {xlim[1]:%Y-%m-%d}; "
            f"the run covers {full[0]:%Y-%m-%d} to {full[1]:%Y-%m-%d}.")


def _style(ax: Axes) -> None:
    ax.grid(True, color="0.9", lw=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)


def spare_panel(ax: Axes, others_drawn: bool, empty_message: str) -> None:
    """A grid cell with nothing to draw: hidden when other panels are drawn, else it says
    ``empty_message`` (the figure has no data at all)."""
    if others_drawn:
        ax.set_visible(False)
    else:
        ax.text(0.5, 0.5, empty_message, ha="center", va="center", transform=ax.transAxes,
                color="0.4")


def _reps_text(n: int) -> str:
    return f"{n} replication" + ("" if n == 1 else "s")


# --------------------------------------------------------------------------- the chart

def fan_chart(
    timeseries: pd.DataFrame,
    scenario_name: str,
    replications: int | None = None,
    *,
    by: str = "sector",
    groups: Sequence[str] | None = None,
    events: Sequence[Any] = (),
    window: Window | str | None = "auto",
    max_groups: int = 6,
) -> Figure:
    """Fill rate (%) per ``by`` group over dates: P50 line, P25-P75 and P5-P95 bands, event
    windows shaded and numbered, and a shortfall panel (t per step: median, P5-P95).

    ``timeseries`` is a run's table (``replication``, ``day``, ``date``, ``by``, tonnes).
    ``replications`` defaults to the number in the table. ``events`` are
    :class:`~simulator.analysis.metrics.EventWindow` objects (anything with ``label``,
    ``start``, ``end``, optionally ``disruption``). ``groups`` picks the groups to draw
    (default: see :func:`select_groups`). ``window``: ``"auto"`` (zoom onto the events and
    shortfalls when they are short compared with the horizon), ``None`` (whole run) or a
    (start, end) pair of dates.
    """
    with mpl.rc_context(_RC):
        return _fan_chart(timeseries, scenario_name, replications, by, groups, events,
                          window, max_groups)


def resolve_window(window: Window | str | None, dates: pd.Series,
                   active: Sequence[tuple[Any, Any]]) -> tuple[Window, Window, bool]:
    """(x limits, full data range, zoomed?) for a ``window`` argument."""
    full = (date_span(dates.min(), dates.max()) if len(dates)
            else (pd.Timestamp("2000-01-01"), pd.Timestamp("2001-01-01")))
    if window == "auto":
        w = focus_window(dates, active)
    elif window is None:
        w = None
    elif isinstance(window, str):
        raise ValueError(f"window must be 'auto', None or (start, end), not {window!r}")
    else:
        w = (pd.Timestamp(window[0]), pd.Timestamp(window[1]))
    return (date_span(*w) if w else full), full, w is not None



def _fan_chart(timeseries: pd.DataFrame, scenario_name: str, replications: int | None,
               by: str, groups: Sequence[str] | None, events: Sequence[Any],
               window: Window | str | None, max_groups: int) -> Figure:
    curve = fill_rate_curve(timeseries, by=(by,))
    curve[by] = curve[by].astype(str)
    n_reps = replications if replications is not None else int(curve["replication"].nunique())
    step = _step_days(curve) if len(curve) else 1
    shown, _rest, note = select_groups(curve, by, groups, max_groups)
    colors = stable_colors(curve[by].unique(), shown)
    xlim, full, zoomed = resolve_window(
        window, curve["date"], [*event_spans(events), *shortfall_spans(curve, step)])
    bands = curve["replication"].nunique() > 1

    fig = Figure(figsize=(10.5, 6.4), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2.4, 1))
    what = by.replace("_", " ")
    fig.suptitle(f"{scenario_name}: fill rate by {what} ({_reps_text(n_reps)})",
                 fontweight="bold")

    in_view = (curve["date"] >= xlim[0]) & (curve["date"] <= xlim[1])
    low_seen = 100.0
    sh_max = 0.0
    for name in shown:
        g = curve[(curve[by] == name) & in_view]
        if g.empty:
            continue
        color = colors[name]
        fr = quantile_frame(g, "fill_rate") * 100.0
        sh = quantile_frame(g, "shortfall_t", (5, 50, 95))
        x = fr.index.to_numpy()
        low = float(np.nanmin(fr["p50"]))
        low_seen = min(low_seen, float(np.nanmin(fr["p5"])))
        sh_max = max(sh_max, float(np.nanmax(sh["p95"])))
        top.plot(x, fr["p50"], color=color, lw=1.8, drawstyle="steps-post",
                 label=f"{name} (low {math.floor(low + 1e-9):d}%)")
        bottom.plot(x, sh["p50"], color=color, lw=1.4, drawstyle="steps-post", label=name)
        if bands:
            top.fill_between(x, fr["p5"], fr["p95"], color=color, alpha=0.12, lw=0,
                             step="post")
            top.fill_between(x, fr["p25"], fr["p75"], color=color, alpha=0.28, lw=0,
                             step="post")
            bottom.fill_between(x, sh["p5"], sh["p95"], color=color, alpha=0.18, lw=0,
                                step="post")

    top.axhline(TARGET * 100, color="0.35", ls="--", lw=1, label="95% reference", zorder=0.6)
    percent_axis(top, fill_rate_ylim(low_seen))
    top.set_ylabel("Fill rate (% of demand delivered)")
    bottom.set_ylabel(f"Shortfall\n(t per {step}-day step)")
    bottom.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
    bottom.yaxis.set_major_formatter(FuncFormatter(_tonnes))
    if sh_max <= EPS_T:
        bottom.set_ylim(0, 1)
        bottom.text(0.5, 0.5, "no shortfall", ha="center", va="center",
                    transform=bottom.transAxes, color="0.4")
    else:
        bottom.set_ylim(0, sh_max * 1.12)
    bottom.set_xlabel("Date")
    if curve.empty:
        top.text(0.5, 0.5, "no demand recorded", ha="center", va="center",
                 transform=top.transAxes, color="0.4")
    bottom.set_xlim(*xlim)
    _date_axis(bottom)
    for ax in (top, bottom):
        _style(ax)

    drawn = shade_events([top, bottom], events, xlim, number_ax=top)
    handles, labels = top.get_legend_handles_labels()
    if bands:
        handles += [Patch(color="0.45", alpha=0.45, lw=0), Patch(color="0.45", alpha=0.2, lw=0)]
        labels += ["P25-P75 across replications", "P5-P95 (lines: median)"]
    fig.legend(handles, labels, loc="outside right upper", frameon=False,
               title=what.capitalize())
    if drawn:
        eh, el = event_legend_handles(drawn)
        fig.legend(eh, el, loc="outside lower center", frameon=False, title="Events",
                   ncols=1 if len(el) > 3 else len(el), fontsize=8, title_fontsize=8)
    notes = [n for n in (note, _window_note(xlim, full) if zoomed else None) if n]
    if notes:
        top.set_title(wrap_notes(notes), fontsize=8, color="0.35", loc="left",
                      pad=drawn.title_pad())
    return fig


def wrap_notes(notes: Sequence[str], width: int = 120) -> str:
    """Notes as sentences, one per line, each wrapped at ``width`` characters."""
    lines = []
    for n in notes:
        n = n[0].upper() + n[1:]
        lines.extend(textwrap.wrap(n if n.endswith(".") else n + ".", width))
    return "\n".join(lines)


def stable_colors(all_names: Sequence[str], shown: Sequence[str]) -> dict[str, str]:
    """Colours of :func:`~simulator.viz.curves.group_colors` over every group (so a sector
    keeps its colour across figures) when the palette has enough colours for all of them;
    otherwise over the groups shown only (so no two drawn groups share a colour)."""
    names = sorted({str(n) for n in all_names})
    return group_colors(names if len(names) <= len(PALETTE) else shown)
