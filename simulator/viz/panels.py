"""Multi-panel figures: small multiples per country x sector, origin mix, concentration by
stage and strategic-stockpile levels.

Every function returns a :class:`matplotlib.figure.Figure` (Figure API, no pyplot); save with
:func:`simulator.viz.save_figure` for byte-reproducible PNG and SVG files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..analysis.concentration import origin_mix, stage_concentration
from ..analysis.kpis import fill_rate_curve
from .curves import (
    _RC,
    PALETTE,
    TARGET,
    AutoDateTicks,
    _date_axis,
    _step_days,
    _tonnes,
    group_colors,
)
from .events import (
    DrawnEvents,
    Window,
    event_legend_handles,
    event_spans,
    shade_events,
)
from .fan import (
    EPS_T,
    _reps_text,
    _style,
    _window_note,
    fill_rate_ylim,
    percent_axis,
    quantile_frame,
    resolve_window,
    shortfall_spans,
    spare_panel,
    wrap_notes,
)

__all__ = [
    "concentration_figure",
    "origin_mix_figure",
    "small_multiples",
]

#: Colour of "other origins" in stacked areas, and of China where it appears.
OTHER_COLOR = "#D9D9D9"


def _events_legend(fig: Figure, drawn: Sequence[tuple[int, Any]]) -> None:
    if drawn:
        eh, el = event_legend_handles(drawn)
        fig.legend(eh, el, loc="outside lower center", frameon=False, title="Events",
                   ncols=1 if len(el) > 3 else len(el), fontsize=8, title_fontsize=8)


# --------------------------------------------------------------------------- small multiples

def small_multiples(
    timeseries: pd.DataFrame,
    scenario_name: str,
    replications: int | None = None,
    *,
    events: Sequence[Any] = (),
    only_short: bool = True,
    max_panels: int = 12,
    ncols: int = 4,
    window: Window | str | None = "auto",
) -> Figure:
    """One panel per country x sector: median fill rate with P25-P75 and P5-P95 bands, shared
    axes, event windows shaded (numbered in the first panel's row).

    With ``only_short`` (default) only the pairs with any shortfall in any replication are
    drawn, largest cumulative shortfall first; at most ``max_panels``, and a note says what
    was left out. Tonnes are summed over materials of a pair. Colours are per sector, as in
    the fan chart.
    """
    with mpl.rc_context(_RC):
        return _small_multiples(timeseries, scenario_name, replications, events, only_short,
                                max_panels, ncols, window)


def _small_multiples(timeseries, scenario_name, replications, events, only_short,
                     max_panels, ncols, window) -> Figure:
    curve = fill_rate_curve(timeseries, by=("country", "sector"))
    curve["country"] = curve["country"].astype(str)
    curve["sector"] = curve["sector"].astype(str)
    curve["pair"] = curve["country"] + " " + curve["sector"]
    n_reps = replications if replications is not None else int(curve["replication"].nunique())
    step = _step_days(curve) if len(curve) else 1
    totals = (curve.groupby("pair", sort=True)["shortfall_t"].sum()
              .sort_values(ascending=False, kind="stable"))
    short = totals[totals > EPS_T]
    pool = short if only_short else totals
    pairs = [str(p) for p in pool.index[:max_panels]]
    notes = []
    if only_short:
        never = len(totals) - len(short)
        if never:
            notes.append(f"{never} of {len(totals)} country x sector pairs never short "
                         "(not shown)")
    if len(pool) > len(pairs):
        notes.append(f"showing {len(pairs)} of {len(pool)}"
                     f"{' short' if only_short else ''} pairs, the largest cumulative "
                     "shortfall first (max_panels)")
    xlim, full, zoomed = resolve_window(
        window, curve["date"], [*event_spans(events), *shortfall_spans(curve, step)])
    if zoomed:
        notes.append(_window_note(xlim, full))

    n = max(len(pairs), 1)
    cols = min(ncols, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(max(2.6 * cols, 6.0) + 2.4, 2.2 * rows + 1.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
                         ).reshape(-1)
    # left-aligned, so a long title clears the legend when there are few panels
    fig.suptitle(f"{scenario_name}: fill rate by country and sector "
                 f"({_reps_text(n_reps)})", fontweight="bold", x=0.01, ha="left")
    colors = group_colors(curve["sector"].unique())
    in_view = (curve["date"] >= xlim[0]) & (curve["date"] <= xlim[1])
    low_seen = 100.0
    bands = curve["replication"].nunique() > 1
    drawn: list[tuple[int, Any]] = []
    for i, ax in enumerate(axes):
        if i >= len(pairs):
            spare_panel(ax, bool(pairs), "no shortfall in any country x sector")
            continue
        pair = pairs[i]
        g = curve[(curve["pair"] == pair) & in_view]
        sector = pair.split(" ", 1)[1]
        color = colors[sector]
        fr = quantile_frame(g, "fill_rate") * 100.0
        x = fr.index.to_numpy()
        if bands:
            ax.fill_between(x, fr["p5"], fr["p95"], color=color, alpha=0.14, lw=0,
                            step="post")
            ax.fill_between(x, fr["p25"], fr["p75"], color=color, alpha=0.3, lw=0,
                            step="post")
        ax.plot(x, fr["p50"], color=color, lw=1.5, drawstyle="steps-post")
        ax.axhline(TARGET * 100, color="0.35", ls="--", lw=0.8, zorder=0.6)
        low = float(np.nanmin(fr["p50"])) if len(fr) else 100.0
        low_seen = min(low_seen, float(np.nanmin(fr["p5"])) if len(fr) else 100.0)
        p5_low = float(np.nanmin(fr["p5"])) if len(fr) else 100.0
        low_txt = f"low {math.floor(low + 1e-9):d}%"
        if bands and math.floor(p5_low + 1e-9) < math.floor(low + 1e-9):
            low_txt += f" (P5 {math.floor(p5_low + 1e-9):d}%)"
        ax.set_title(f"{pair}: {low_txt}\n"
                     f"{_tonnes(round(float(totals[pair]) / max(n_reps, 1), 1))} t short "
                     "per replication", fontsize=8, loc="left")
        _style(ax)
        d = shade_events([ax], events, xlim, numbered=False)
        if i == 0:
            drawn = d
    first = axes[0]
    percent_axis(first, fill_rate_ylim(low_seen))
    first.set_xlim(*xlim)
    for i, ax in enumerate(axes):
        if i % cols == 0:
            ax.set_ylabel("Fill rate (%)")
        if i // cols == rows - 1 or i + cols >= len(pairs):
            ax.xaxis.set_tick_params(labelbottom=True)
            _panel_date_axis(ax, max_ticks=7 if cols == 1 else 5)
    handles: list[Any] = [Line2D([], [], color="0.35", ls="--", lw=0.8)]
    labels = ["95% reference"]
    if bands:
        handles = [Line2D([], [], color="0.3", lw=1.5), Patch(color="0.45", alpha=0.5, lw=0),
                   Patch(color="0.45", alpha=0.2, lw=0), *handles]
        labels = ["median across\nreplications", "P25-P75", "P5-P95", *labels]
    eh, el = event_legend_handles(drawn, numbered=False, wrap=True)
    fig.legend(handles + eh, labels + el, loc="outside right upper", frameon=False,
               fontsize=8)
    if notes:
        fig.supxlabel(wrap_notes(notes, 140), fontsize=8, color="0.35")
    return fig


def _panel_date_axis(ax: Any, max_ticks: int = 5) -> None:
    """Concise date ticks for a narrow panel (fewer ticks than the full-width figures)."""
    locator = AutoDateTicks(minticks=3, maxticks=max_ticks)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


# --------------------------------------------------------------------------- origin mix

def _stage_order(stages: Sequence[str], scenario_stages: Sequence[str] | None) -> list[str]:
    present = {str(s) for s in stages}
    order = [s for s in (scenario_stages or []) if s in present]
    return order + sorted(present - set(order))


def _origin_colors(origins: Sequence[str]) -> dict[str, str]:
    """CN always the same colour; others from the palette in sorted order (CN's skipped)."""
    cn = PALETTE[1]  # vermillion
    rest = [c for c in PALETTE if c != cn]
    out = {"CN": cn}
    for i, o in enumerate(sorted(o for o in set(origins) if o not in ("CN", "other"))):
        out[o] = rest[i % len(rest)]
    out["other"] = OTHER_COLOR
    return out


def origin_mix_figure(
    flows: pd.DataFrame,
    production: pd.DataFrame,
    scenario_name: str,
    replications: int | None = None,
    *,
    stages: Sequence[str] | None = None,
    destination: str | None = None,
    top_n: int = 8,
    events: Sequence[Any] = (),
    window: Window | str | None = None,
) -> Figure:
    """Stacked areas of each origin country's share of supply, one panel per stage.

    Shares are :func:`~simulator.analysis.concentration.origin_mix` per month, averaged over
    replications (means of shares stack to 100%). The ``top_n`` origins with the largest
    share at any stage are named (the same colours in every panel); the rest are pooled as
    "other". ``destination=None`` is world production by country;
    a country code shows that country's supply (imports by origin plus own production).
    ``stages`` orders the panels (default: the order found, or the scenario's ``stages``).
    """
    with mpl.rc_context(_RC):
        return _origin_mix_figure(flows, production, scenario_name, replications, stages,
                                  destination, top_n, events, window)


def _origin_mix_figure(flows, production, scenario_name, replications, stages, destination,
                       top_n, events, window) -> Figure:
    found = production["stage"].astype(str).unique() if len(production) else []
    order = _stage_order(found, stages)
    n_reps = (replications if replications is not None
              else int(production["replication"].nunique()) if len(production) else 0)
    wides: dict[str, pd.DataFrame] = {}
    best: dict[str, float] = {}  # an origin's largest mean share at any stage
    for stage in order:
        mix = origin_mix(flows, production, stage=stage, destination=destination)
        if mix.empty:
            continue
        wide = (mix.pivot_table(index="date", columns="origin", values="share",
                                aggfunc="mean", observed=True).fillna(0.0).sort_index())
        wides[stage] = wide
        for o, v in wide.mean().items():
            best[str(o)] = max(best.get(str(o), 0.0), float(v))
    # the same origins (and colours) in every panel: the top_n by their largest share
    ranked = sorted((o for o, v in best.items() if v > 0), key=lambda o: (-best[o], o))
    named = set(ranked[:top_n])
    per_stage = {}
    origins: set[str] = set()
    for stage, wide in wides.items():
        means = wide.mean()
        # largest first at the bottom of the stack; "other" on top
        keep = sorted((str(c) for c in wide.columns if str(c) in named and means[c] > 0),
                      key=lambda o: (-means[o], o))
        rest = [c for c in wide.columns if str(c) not in keep]
        frame = wide[keep].copy()
        if rest and float(wide[rest].to_numpy().sum()) > 0:
            frame["other"] = wide[rest].sum(axis=1)
        per_stage[stage] = frame
        origins.update(frame.columns)
    colors = _origin_colors(sorted(origins))
    n = max(len(per_stage), 1)
    cols = min(2, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(5.2 * cols + 1.6, 2.6 * rows + 1.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, squeeze=False)).reshape(-1)
    where = f"supply to {destination}" if destination else "world production"
    fig.suptitle(f"{scenario_name}: origin mix of {where} by stage "
                 f"({_reps_text(n_reps)}, monthly, mean share)", fontweight="bold")
    all_dates = pd.Series(sorted({d for f in per_stage.values() for d in f.index}))
    xlim, full, zoomed = resolve_window(window, all_dates, event_spans(events))
    drawn: list[tuple[int, Any]] = []
    for i, ax in enumerate(axes):
        if i >= len(per_stage):
            spare_panel(ax, bool(per_stage), "no production recorded")
            continue
        stage, frame = list(per_stage.items())[i]
        x = frame.index.to_numpy()
        ys = [frame[c].to_numpy() * 100.0 for c in frame.columns]
        ax.stackplot(x, *ys, labels=list(frame.columns),
                     colors=[colors[c] for c in frame.columns], lw=0, step="post")
        last = frame.iloc[-1]
        ax.set_title(f"{stage}: " + ", ".join(f"{c} {last[c]:.0%}" for c in frame.columns
                                             if c != "other" and last[c] >= 0.05)
                     + f" (at {frame.index[-1]:%Y-%m})", fontsize=8, loc="left")
        percent_axis(ax, (0, 100))
        ax.set_ylim(0, 100)
        ax.spines[["top", "right"]].set_visible(False)
        if i % cols == 0:
            ax.set_ylabel("Share of supply (%)")
        d = shade_events([ax], events, xlim, color="black", style="lines", numbered=False)
        if i == 0:
            drawn = d
    if per_stage:
        axes[0].set_xlim(*xlim)
        for i, ax in enumerate(axes[:len(per_stage)]):
            if i + cols >= len(per_stage):
                ax.xaxis.set_tick_params(labelbottom=True)
                _date_axis(ax)
                ax.set_xlabel("Date")
    handles = [Patch(color=colors[o], lw=0) for o in _legend_order(origins)]
    fig.legend(handles, _legend_order(origins), loc="outside right upper", frameon=False,
               title="Origin")
    if drawn:
        eh, el = event_legend_handles(drawn, color="black", style="lines", numbered=False,
                                      wrap=True)
        vague = any(getattr(ev, "uncertain", False) for _, ev in drawn)
        title = ("Events (dotted: start and end;\ndash-dot: earliest start\nand latest end)"
                 if vague else "Events (dotted:\nstart and end)")
        fig.legend(eh, el, loc="outside right lower", frameon=False, title=title, fontsize=8,
                   title_fontsize=8)
    if zoomed:
        fig.supxlabel(_window_note(xlim, full), fontsize=8, color="0.35")
    return fig


def _legend_order(origins: set[str]) -> list[str]:
    rest = sorted(o for o in origins if o not in ("CN", "other"))
    return [*(["CN"] if "CN" in origins else []), *rest, *(["other"] if "other" in origins
                                                            else [])]


# --------------------------------------------------------------------------- concentration

def concentration_figure(
    production: pd.DataFrame,
    scenario_name: str,
    replications: int | None = None,
    *,
    stages: Sequence[str] | None = None,
    events: Sequence[Any] = (),
    window: Window | str | None = None,
    china: str = "CN",
) -> Figure:
    """China's share of output and the HHI of output by country, per stage over time (monthly):
    median across replications with a P5-P95 band; the HHI panel marks the 2,500 "highly
    concentrated" line of the US merger guidelines."""
    with mpl.rc_context(_RC):
        return _concentration_figure(production, scenario_name, replications, stages, events,
                                     window, china)


def _concentration_figure(production, scenario_name, replications, stages, events, window,
                          china) -> Figure:
    conc = stage_concentration(production, china=china)
    conc["stage"] = conc["stage"].astype(str)
    order = _stage_order(conc["stage"].unique(), stages)
    n_reps = (replications if replications is not None
              else int(conc["replication"].nunique()) if len(conc) else 0)
    colors = group_colors(order)
    fig = Figure(figsize=(10.5, 6.2), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    fig.suptitle(f"{scenario_name}: concentration of output by stage "
                 f"({_reps_text(n_reps)}, monthly)", fontweight="bold")
    xlim, full, zoomed = resolve_window(window, conc["date"], event_spans(events))
    bands = conc["replication"].nunique() > 1
    for stage in order:
        g = conc[conc["stage"] == stage]
        for ax, col, scale in ((top, "china_share", 100.0), (bottom, "hhi", 1.0)):
            q = quantile_frame(g, col, (5, 50, 95)) * scale
            x = q.index.to_numpy()
            ax.plot(x, q["p50"], color=colors[stage], lw=1.8, drawstyle="steps-post",
                    label=stage)
            if bands:
                ax.fill_between(x, q["p5"], q["p95"], color=colors[stage], alpha=0.18, lw=0,
                                step="post")
    top.set_ylabel(f"{china} share of output (%)")
    percent_axis(top, (0, 102))
    bottom.set_ylabel("HHI of output by country\n(0-10,000)")
    bottom.set_ylim(0, 10_400)
    bottom.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    bottom.axhline(2500, color="0.35", ls="--", lw=0.9, zorder=0.6,
                   label="2,500: highly concentrated")
    bottom.set_xlabel("Date")
    if len(conc):
        bottom.set_xlim(*xlim)
    else:
        top.text(0.5, 0.5, "no production recorded", ha="center", va="center",
                 transform=top.transAxes, color="0.4")
    _date_axis(bottom)
    for ax in (top, bottom):
        _style(ax)
    drawn = shade_events([top, bottom], events, xlim, number_ax=top) if len(conc) else DrawnEvents()
    handles, labels = bottom.get_legend_handles_labels()
    if bands:
        handles.append(Patch(color="0.5", alpha=0.3, lw=0))
        labels.append("P5-P95 across\nreplications\n(lines: median)")
    fig.legend(handles, labels, loc="outside right upper", frameon=False, title="Stage")
    _events_legend(fig, drawn)
    if zoomed:
        top.set_title(_window_note(xlim, full), fontsize=8, color="0.35", loc="left",
                      pad=drawn.title_pad())
    return fig
