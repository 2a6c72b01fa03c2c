"""Scenario comparison overlay: one group's fill rate in several scenarios on one chart.

Each scenario has one colour throughout (the first - the baseline of the comparison - gets
the first palette colour): its median fill rate across replications and its P5-P95 band.
Every event window is shaded grey; an event that only some scenarios have is numbered in
the colour of the first scenario that has it, with a strip of that colour along the top.
The lower panel shows the paired difference against the first scenario, per date:
replication r of a scenario minus replication r of the first (common random numbers),
median and P5-P95 across replications, in percentage points.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..analysis.kpis import fill_rate, fill_rate_curve
from .curves import _RC, PALETTE, TARGET, _date_axis, _step_days
from .events import (
    event_legend_handles,
    event_spans,
    shade_events,
)
from .fan import (
    _style,
    _window_note,
    fill_rate_ylim,
    percent_axis,
    quantile_frame,
    resolve_window,
    shortfall_spans,
    wrap_notes,
)

__all__ = ["legend_label", "overlay_figure", "scenario_colors", "signed_tick"]

#: Characters a line of the scenario legend holds: longer labels wrap (a long name after
#: an underscore or hyphen), so the legend right of the panels, and the panels, keep their
#: width whatever the names.
LEGEND_CHARS = 32


def scenario_colors(names: Sequence[str]) -> dict[str, str]:
    """Colour per scenario in the order given (the first is the comparison's baseline)."""
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


def _event_key(ev: Any) -> tuple:
    return (getattr(ev, "id", ev.label), ev.label, pd.Timestamp(ev.start),
            None if ev.end is None else pd.Timestamp(ev.end),
            getattr(ev, "start_range", None), getattr(ev, "end_range", None))


def _split_events(events: Mapping[str, Sequence[Any]], names: Sequence[str]
                  ) -> tuple[list[Any], dict[tuple[str, ...], list[Any]]]:
    """(events every scenario has, {the scenarios that have them: events only some have}),
    the groups in the order of their first scenario."""
    keys = {n: {_event_key(e) for e in events.get(n, ())} for n in names}
    common_keys = set.intersection(*keys.values()) if keys else set()
    common = [e for e in events.get(names[0], ()) if _event_key(e) in common_keys]
    seen = set(common_keys)
    own: dict[tuple[str, ...], list[Any]] = {}
    for n in names:
        for e in events.get(n, ()):
            k = _event_key(e)
            if k not in seen:
                owners = tuple(m for m in names if k in keys[m])
                own.setdefault(owners, []).append(e)
                seen.add(k)
    return common, own


def _owners_text(owners: Sequence[str], names: Sequence[str]) -> str:
    """Legend prefix of events only some scenarios have."""
    if len(owners) == 1:
        return f"{owners[0]} only: "
    missing = [n for n in names if n not in owners]
    if len(missing) == 1:
        return f"all but {missing[0]}: "
    return f"{', '.join(owners)}: "


def _name_lines(name: str, width: int) -> list[str]:
    """``name`` in lines of at most ``width`` characters, cut after ``_``, ``-``, ``.`` or a
    space where it can be (mid-word only for a longer piece)."""
    lines = [""]
    for piece in re.findall(r"[^_\-. ]*[_\-. ]?", name):
        while len(piece) > width:
            if lines[-1]:
                lines.append("")
            lines[-1], piece = piece[:width], piece[width:]
            lines.append("")
        if len(lines[-1]) + len(piece) > width:
            lines.append("")
        lines[-1] += piece
    return [ln for ln in lines if ln] or [name]


def legend_label(name: str, role: str, stat: str, width: int = LEGEND_CHARS) -> str:
    """A scenario's legend label, ``name (role): stat`` (no role: ``name: stat``), in lines
    of at most ``width`` characters: the name (over several lines if longer), then the role
    and the stat, each after the text before it if it fits there, else on a line of its
    own."""
    lines = _name_lines(name, width)
    for sep, part in ((" ", role), (": ", stat)):
        if not part:
            continue
        if len(lines[-1]) + len(sep) + len(part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return "\n".join(lines)


def signed_tick(value: float, _pos: object = None) -> str:
    """A difference-axis tick: ``+2``, ``+0.5``, ``0``, ``-1.5`` (never ``+0`` or ``-0``)."""
    value = round(value, 6)
    return "0" if value == 0 else f"{value:+g}"


def overlay_figure(
    timeseries: Mapping[str, pd.DataFrame],
    group: str,
    *,
    by: str = "sector",
    events: Mapping[str, Sequence[Any]] | None = None,
    replications: Mapping[str, int] | None = None,
    window: tuple[Any, Any] | str | None = "auto",
    smooth_days: int = 0,
) -> Figure:
    """Fill rate of one ``by`` group (e.g. sector ``"ev"``) in each scenario of
    ``timeseries`` (name -> run table, in order; the first is the baseline).

    Top: per scenario, median fill rate and P5-P95 band across replications. Bottom (with
    two or more scenarios): the paired difference (scenario - first) in percentage points,
    median and P5-P95 across replications paired by number. ``events`` maps scenario name
    to its event windows (:func:`~simulator.analysis.metrics.event_windows`). ``window`` as
    in :func:`~simulator.viz.fan.fan_chart`. ``smooth_days`` > one step draws the fill rate
    over a trailing window of that many days (delivered / demanded tonnes in the window, per
    replication), which reads better when lots arrive weekly; the title says so.
    """
    with mpl.rc_context(_RC):
        return _overlay(timeseries, group, by, events or {}, replications or {}, window,
                        smooth_days)


def rolling_fill_rate(curve: pd.DataFrame, steps: int) -> pd.DataFrame:
    """``curve`` (:func:`~simulator.analysis.kpis.fill_rate_curve` of one group) with
    ``fill_rate`` over the trailing ``steps`` steps of each replication (fewer at the start):
    sum of delivered over sum of demanded tonnes, 1 with no demand."""
    c = curve.sort_values(["replication", "day"]).copy()
    g = c.groupby("replication", sort=False)
    dem = g["demand_t"].transform(lambda x: x.rolling(steps, min_periods=1).sum())
    dlv = g["delivered_t"].transform(lambda x: x.rolling(steps, min_periods=1).sum())
    c["fill_rate"] = fill_rate(dlv, dem)
    return c


def _overlay(timeseries, group, by, events, replications, window, smooth_days=0) -> Figure:
    names = list(timeseries)
    if not names:
        raise ValueError("overlay_figure needs at least one scenario")
    colors = scenario_colors(names)
    curves: dict[str, pd.DataFrame] = {}
    for n in names:
        c = fill_rate_curve(timeseries[n], by=(by,))
        c = c[c[by].astype(str) == str(group)]
        curves[n] = c
    if all(c.empty for c in curves.values()):
        raise KeyError(f"no {by} {group!r} in any scenario")
    all_dates = pd.concat([c["date"] for c in curves.values()], ignore_index=True)
    step = next((_step_days(c) for c in curves.values() if len(c)), 1)
    active = [s for n in names for s in [*event_spans(events.get(n, ())),
                                         *shortfall_spans(curves[n], step)]]
    steps = max(1, round(smooth_days / step)) if smooth_days else 1
    if steps > 1:
        curves = {n: rolling_fill_rate(c, steps) for n, c in curves.items()}
    xlim, full, zoomed = resolve_window(window, all_dates, active)
    paired = len(names) > 1

    fig = Figure(figsize=(10.5, 6.6 if paired else 4.8), layout="constrained")
    if paired:
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1))
    else:
        top, bottom = fig.add_subplot(), None
    reps = {n: replications.get(n, int(curves[n]["replication"].nunique())) for n in names}
    same_n = len(set(reps.values())) == 1
    n_txt = (f"{next(iter(reps.values()))} replications each" if same_n
             else ", ".join(f"{n}: {r}" for n, r in reps.items()) + " replications")
    what = {"demand_id": "demand sector"}.get(by, by.replace("_", " "))
    how = f"{steps * step}-day rolling fill rate" if steps > 1 else "fill rate"
    # left-aligned, so a long title does not run into the legend heading on the right;
    # wrapped to the panels' width once the legends are placed (end of this function)
    title = (f"{what.capitalize()} {group}: {how} in {len(names)} scenario"
             f"{'s' if len(names) != 1 else ''} ({n_txt})")
    fig.suptitle(title, fontweight="bold", x=0.01, ha="left")

    low_seen = 100.0
    reference: pd.Series | None = None
    for n in names:
        c = curves[n]
        c = c[(c["date"] >= xlim[0]) & (c["date"] <= xlim[1])]
        if c.empty:
            continue
        q = quantile_frame(c, "fill_rate", (5, 50, 95)) * 100.0
        x = q.index.to_numpy()
        low = float(np.nanmin(q["p50"]))
        low_seen = min(low_seen, float(np.nanmin(q["p5"])))
        role = "(reference)" if n == names[0] and paired else ""
        if n == names[0]:
            reference = q["p50"]
        elif reference is not None and q["p50"].equals(reference):
            role = "(= reference, drawn under it)"
        # the baseline on top, so where the scenarios agree its colour shows
        top.plot(x, q["p50"], color=colors[n], lw=2.0, drawstyle="steps-post",
                 label=legend_label(n, role, f"low {math.floor(low + 1e-9):d}%"),
                 zorder=2.6 if n == names[0] else 2.2)
        if c["replication"].nunique() > 1:
            top.fill_between(x, q["p5"], q["p95"], color=colors[n], alpha=0.16, lw=0,
                             step="post")
    top.axhline(TARGET * 100, color="0.35", ls="--", lw=1, label="95% reference", zorder=0.6)
    percent_axis(top, fill_rate_ylim(low_seen))
    # the group is in the title: a long demand id here ran into the lower panel's label
    top.set_ylabel("Fill rate (% of demand\ndelivered"
                   + (f", trailing {steps * step} days)" if steps > 1 else ")"))
    _style(top)

    if bottom is not None:
        base = curves[names[0]][["replication", "date", "fill_rate"]]
        lo_d, hi_d = 0.0, 0.0
        for n in names[1:]:
            other = curves[n][["replication", "date", "fill_rate"]]
            m = base.merge(other, on=["replication", "date"], suffixes=("_a", "_b"))
            m = m[(m["date"] >= xlim[0]) & (m["date"] <= xlim[1])]
            if m.empty:
                continue
            m["diff"] = (m["fill_rate_b"] - m["fill_rate_a"]) * 100.0
            q = quantile_frame(m, "diff", (5, 50, 95))
            x = q.index.to_numpy()
            bottom.plot(x, q["p50"], color=colors[n], lw=1.6, drawstyle="steps-post")
            bottom.fill_between(x, q["p5"], q["p95"], color=colors[n], alpha=0.18, lw=0,
                                step="post")
            lo_d = min(lo_d, float(np.nanmin(q["p5"])))
            hi_d = max(hi_d, float(np.nanmax(q["p95"])))
        bottom.axhline(0, color="0.2", lw=0.8)
        pad = max(1.0, 0.1 * (hi_d - lo_d))
        bottom.set_ylim(lo_d - pad, hi_d + pad)
        bottom.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        bottom.yaxis.set_major_formatter(FuncFormatter(signed_tick))
        bottom.set_ylabel("Difference vs the\nreference (pp)")  # named in the legend
        bottom.set_xlabel("Date")
        _style(bottom)
        axes = [top, bottom]
    else:
        top.set_xlabel("Date")
        axes = [top]
    axes[-1].set_xlim(*xlim)
    _date_axis(axes[-1])

    common, own = _split_events(events, names)
    drawn = shade_events(axes, common, xlim, number_ax=top)
    eh, el = event_legend_handles(drawn)
    k = len(drawn) + 1
    last = drawn
    for owners, group_events in own.items():
        color = colors[owners[0]]
        d = shade_events(axes, group_events, xlim, owner_color=color, number_ax=top,
                         first_number=k, after=last)
        h, lab = event_legend_handles(d, owner_color=color,
                                      prefix=_owners_text(owners, names))
        eh += h
        el += lab
        k += len(d)
        last = d

    handles, labels = top.get_legend_handles_labels()
    handles.append(Patch(color="0.5", alpha=0.3, lw=0))
    labels.append("P5-P95 across replications\n(lines: median)")
    fig.legend(handles, labels, loc="outside right upper", frameon=False, title="Scenario")
    if eh:
        fig.legend(eh, el, loc="outside lower center", frameon=False, title="Events",
                   ncols=1 if len(el) > 2 else len(el), fontsize=8, title_fontsize=8)
        if len(el) > 4:  # the figure grows with the list, so it does not squeeze the panels
            w, h = fig.get_size_inches()
            fig.set_size_inches(w, h + 0.17 * (len(el) - 4))
    notes = []
    if paired:
        notes.append("lower panel: paired difference per date, replication r minus "
                     f"replication r of {names[0]} (common random numbers)")
    if zoomed:
        notes.append(_window_note(xlim, full))
    if notes:
        top.set_title(wrap_notes(notes), fontsize=8, color="0.35", loc="left",
                      pad=last.title_pad())
    # The scenario legend sits right of the panels: wrap the title and the note to the
    # panels' width as laid out, so neither runs under the legend.
    fig.get_layout_engine().execute(fig)  # the layout alone, as drawing would compute it
    panel_in = top.get_position().width * fig.get_size_inches()[0]
    fig.suptitle("\n".join(textwrap.wrap(title, _chars(panel_in + 0.6, 1.2 * _font_pt()))),
                 fontweight="bold", x=0.01, ha="left")
    if notes:
        top.set_title(wrap_notes(notes, _chars(panel_in, 8.0)), fontsize=8, color="0.35",
                      loc="left", pad=last.title_pad())
    return fig


def _font_pt() -> float:
    return float(mpl.rcParams["font.size"])


def _chars(width_in: float, font_pt: float) -> int:
    """Characters of text at ``font_pt`` that fit ``width_in`` inches (an average glyph
    is about 0.55 em wide in DejaVu Sans)."""
    return max(30, int(width_in * 72.0 / (0.55 * font_pt)))
