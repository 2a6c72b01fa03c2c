"""Strategic-stockpile figures: holdings per stockpile over time, across replications."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .curves import _RC, _date_axis, _tonnes, group_colors
from .events import (
    DrawnEvents,
    Window,
    event_legend_handles,
    event_spans,
    shade_events,
)
from .fan import (
    _reps_text,
    _style,
    _window_note,
    quantile_frame,
    resolve_window,
    spare_panel,
    wrap_notes,
)

__all__ = ["stockpile_figure", "stockpile_groups"]


def stockpile_groups(scenario: Any) -> dict[tuple[str, str], str]:
    """Legend labels per (country, material) of the scenario's stockpiles: the ids held by
    that country for that material (``{("US", "ndfeb_magnet"): "us_ndfeb_reserve"}``)."""
    out: dict[tuple[str, str], list[str]] = {}
    for sid, sp in getattr(scenario, "stockpiles", {}).items():
        out.setdefault((str(sp.country), str(sp.material)), []).append(str(sid))
    return {k: ", ".join(v) for k, v in out.items()}


def stockpile_figure(
    stockpiles: pd.DataFrame,
    scenario_name: str,
    replications: int | None = None,
    *,
    labels: Mapping[tuple[str, str], str] | None = None,
    events: Sequence[Any] = (),
    window: Window | str | None = None,
) -> Figure:
    """Strategic-stockpile holdings over time (t): median and P5-P95 band across replications.

    ``stockpiles`` is the run's ``stockpiles`` table (``stockpiles.parquet``: holdings at the
    end of each step, tonnes released and bought, per stockpile): one panel per stockpile,
    each with its own scale in tonnes (a reserve of tens of tonnes next to one of thousands
    stays readable), shared dates, event windows shaded. Each panel's title gives the median
    holdings at the start and at their lowest, and the median tonnes released and bought per
    replication.

    A run's ``timeseries`` (no ``holdings_t`` column; run folders written before
    ``stockpiles.parquet`` existed) gives the older view: per demand sector and step the
    holdings of the stockpiles its buyers may draw on (``stockpile_t``), one line per
    (country, material), named by ``labels`` (see :func:`stockpile_groups`); reserves that
    only supply facilities are not in that table and so not drawn.
    """
    with mpl.rc_context(_RC):
        if "holdings_t" in stockpiles.columns:
            return _stockpile_panels(stockpiles, scenario_name, replications, events, window)
        return _stockpile_figure(stockpiles, scenario_name, replications, labels or {},
                                 events, window)


def _stockpile_panels(sp: pd.DataFrame, scenario_name: str, replications: int | None,
                      events: Sequence[Any], window: Window | str | None) -> Figure:
    n_reps = (replications if replications is not None
              else int(sp["replication"].nunique()) if len(sp) else 0)
    names = sp["stockpile"].astype(str) if len(sp) else pd.Series([], dtype=object)
    ids = sorted(names.unique())
    n = max(len(ids), 1)
    cols = 1 if n <= 4 else 2
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(10.5 if cols == 1 else 13.0, 1.9 * rows + 1.7), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, squeeze=False)).reshape(-1)
    fig.suptitle(f"{scenario_name}: strategic stockpile holdings ({_reps_text(n_reps)})",
                 fontweight="bold")
    colors = group_colors(ids)
    dates = sp["date"] if len(sp) else pd.Series([], dtype="datetime64[ns]")
    xlim, full, zoomed = resolve_window(window, dates, event_spans(events))
    bands = bool(len(sp)) and sp["replication"].nunique() > 1
    titles: list[str] = []
    for i, ax in enumerate(axes):
        if i >= len(ids):
            spare_panel(ax, bool(ids), "no stockpiles in this run")
            continue
        sid = ids[i]
        g = sp[names == sid]
        color = colors[sid]
        q = quantile_frame(g, "holdings_t", (5, 50, 95))
        x = q.index.to_numpy()
        if bands:
            ax.fill_between(x, q["p5"], q["p95"], color=color, alpha=0.2, lw=0, step="post")
        ax.plot(x, q["p50"], color=color, lw=1.8, drawstyle="steps-post")
        moved = g.groupby("replication", observed=True)[["released_t", "bought_t"]].sum()
        first = g.iloc[0]
        start, low = float(q["p50"].iloc[0]), float(np.nanmin(q["p50"]))
        top = float(np.nanmax(q["p95"])) if len(q) else 0.0
        ax.set_ylim(0, top * 1.08 if top > 0 else 1.0)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.yaxis.set_major_formatter(FuncFormatter(_tonnes))
        _style(ax)
        titles.append(
            f"{sid} ({first['country']} {first['material']}): start {_t(start)}, "
            f"low {_t(low)}; per replication (median) released "
            f"{_t(float(moved['released_t'].median()))}, bought "
            f"{_t(float(moved['bought_t'].median()))}")
    shown = [ax for ax in axes[:len(ids)]]
    drawn = (shade_events(shown, events, xlim, number_ax=shown[0]) if shown and len(sp)
             else DrawnEvents())
    for i, (ax, title) in enumerate(zip(shown, titles, strict=True)):
        ax.set_title(title, fontsize=8, loc="left", pad=drawn.title_pad() if i < cols else 4.0)
    if len(sp):
        axes[0].set_xlim(*xlim)
    for i, ax in enumerate(shown):
        if i + cols >= len(ids):
            ax.xaxis.set_tick_params(labelbottom=True)
            _date_axis(ax)
            ax.set_xlabel("Date")
    fig.supylabel("Holdings at the end of each step (t)", fontsize=10)
    handles: list[Any] = [Line2D([], [], color="0.3", lw=1.8)]
    labs = ["median across\nreplications"]
    if bands:
        handles.append(Patch(color="0.5", alpha=0.3, lw=0))
        labs.append("P5-P95 across\nreplications")
    if ids:
        fig.legend(handles, labs, loc="outside right upper", frameon=False, fontsize=8)
    if drawn:
        eh, el = event_legend_handles(drawn, wrap=True)
        fig.legend(eh, el, loc="outside right lower", frameon=False, title="Events",
                   fontsize=8, title_fontsize=8)
    if zoomed:
        fig.supxlabel(_window_note(xlim, full), fontsize=8, color="0.35")
    return fig


def _t(value: float) -> str:
    """Tonnes for a title: one decimal below 10 t (0 t for nothing), else whole tonnes."""
    if abs(value) < 0.05:
        return "0 t"
    return f"{value:,.1f} t" if abs(value) < 10 else f"{_tonnes(round(value))} t"


def _stockpile_figure(timeseries, scenario_name, replications, labels, events,
                      window) -> Figure:
    ts = timeseries
    n_reps = (replications if replications is not None
              else int(ts["replication"].nunique()) if len(ts) else 0)
    held = ts[ts["stockpile_t"] > 0] if len(ts) else ts
    keys = sorted({(str(c), str(m)) for c, m in
                   zip(held.get("country", []), held.get("material", []), strict=False)})
    fig = Figure(figsize=(10.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    fig.suptitle(f"{scenario_name}: strategic stockpile holdings ({_reps_text(n_reps)})",
                 fontweight="bold")
    names = {k: labels.get(k, f"{k[0]} {k[1]}") for k in keys}
    colors = group_colors(names.values())
    xlim, full, zoomed = resolve_window(window, ts["date"] if len(ts) else pd.Series([]),
                                        event_spans(events))
    bands = len(ts) and ts["replication"].nunique() > 1
    for key in keys:
        sel = ts[(ts["country"].astype(str) == key[0]) & (ts["material"].astype(str) == key[1])]
        per = (sel.groupby(["replication", "date"], observed=True)["stockpile_t"].max()
               .reset_index())
        q = quantile_frame(per, "stockpile_t", (5, 50, 95))
        x = q.index.to_numpy()
        name = names[key]
        start, low = float(q["p50"].iloc[0]), float(np.nanmin(q["p50"]))
        ax.plot(x, q["p50"], color=colors[name], lw=1.8, drawstyle="steps-post",
                label=f"{name}: {key[0]} {key[1]} (start {_tonnes(round(start))} t, "
                      f"low {_tonnes(round(low))} t)")
        if bands:
            ax.fill_between(x, q["p5"], q["p95"], color=colors[name], alpha=0.18, lw=0,
                            step="post")
    ax.set_ylabel("Holdings (t)")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(_tonnes))
    ax.set_xlabel("Date")
    if not keys:
        ax.text(0.5, 0.5, "no stockpile holdings visible to demand sectors in this run",
                ha="center", va="center", transform=ax.transAxes, color="0.4")
        ax.set_ylim(0, 1)
    if len(ts):
        ax.set_xlim(*xlim)
    _date_axis(ax)
    _style(ax)
    drawn = shade_events([ax], events, xlim, number_ax=ax) if len(ts) else DrawnEvents()
    handles, labs = ax.get_legend_handles_labels()
    labs = [lab.replace(" (start", "\n(start") for lab in labs]
    if bands and keys:
        handles.append(Patch(color="0.5", alpha=0.3, lw=0))
        labs.append("P5-P95 across\nreplications\n(lines: median)")
    if handles:
        fig.legend(handles, labs, loc="outside right upper", frameon=False, title="Stockpile",
                   fontsize=8)
    if drawn:
        eh, el = event_legend_handles(drawn, wrap=True)
        fig.legend(eh, el, loc="outside right lower", frameon=False, title="Events",
                   fontsize=8, title_fontsize=8)
    notes = []
    unseen = [f"{name} ({k[0]} {k[1]})" for k, name in sorted(labels.items())
              if k not in names]
    if unseen:
        notes.append("not drawn (no demand sector draws on them; they supply facilities): "
                     + ", ".join(unseen))
    if zoomed:
        notes.append(_window_note(xlim, full))
    if notes:
        ax.set_title(wrap_notes(notes, 130), fontsize=8, color="0.35", loc="left",
                     pad=drawn.title_pad())
    return fig
