"""Price fan charts: each priced material's price per market tier over time, across
replications (``prices.parquet``; docs/markets.md)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .curves import _RC, PALETTE, _date_axis
from .events import (
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
)

__all__ = ["moving_spans", "price_figure", "price_overlay_figure"]


def moving_spans(prices: pd.DataFrame, tolerance: float = 0.01) -> list[tuple[Any, Any]]:
    """(first, last) dates on which some price is more than ``tolerance`` away from its first
    value (where the market moved), or ``[]``."""
    first = prices.groupby(["replication", "material", "market"], observed=True)[
        "price_usd_per_kg"].transform("first")
    moved = prices.loc[(prices["price_usd_per_kg"] / first - 1.0).abs() > tolerance, "date"]
    return [] if moved.empty else [(moved.min(), moved.max())]


def price_figure(prices: pd.DataFrame, scenario_name: str, replications: int | None = None,
                 *, events: Sequence[Any] = (), window: Window | str | None = "auto",
                 ceilings: Mapping[tuple[str, str], float] | None = None,
                 tier_notes: Mapping[str, str] | None = None) -> Figure:
    """One panel per priced material (USD/kg, its own scale): per market tier, the median
    price and its P5-P95 band across replications, event windows shaded and numbered.
    ``window="auto"`` zooms onto the events and the dates on which prices moved when they
    are short against the horizon (as :func:`~simulator.viz.fan.fan_chart`). ``ceilings``
    ((material, tier) -> USD/kg, :func:`simulator.scenario.tiers.price_ceilings`) draws a
    tier's ceiling as a dotted line where its P95 comes within half of it. ``tier_notes``
    (material -> text, :func:`simulator.analysis.tiers.tier_notes`) adds a line to that
    material's legend: whose price its export tier is when a control hits only some buyers.

    ``prices`` is a run's ``prices`` table (replication, day, date, material, market,
    price_usd_per_kg). Raises :exc:`ValueError` when it has no rows (no ``market.prices``).
    """
    if prices.empty:
        raise ValueError("no prices in this run (the scenario sets no market.prices)")
    with mpl.rc_context(_RC):
        return _price_figure(prices, scenario_name, replications, events, window,
                             ceilings or {}, tier_notes or {})


#: A tier's price ceiling is drawn when its P95 comes within this fraction of it.
CEILING_SHOWN_FROM = 0.5


def _ceiling_line(ax: Any, ceiling: float | None, p95_max: float, color: Any,
                  label: str) -> None:
    if ceiling is not None and p95_max >= CEILING_SHOWN_FROM * ceiling:
        ax.axhline(ceiling, color=color, lw=1.0, ls=":", label=label)


NOTE_WIDTH = 72
"""Characters per line of a tier note in a legend (a longer line widens the legend, and
the constrained layout then shrinks the axes to make room)."""


SIDE_NOTE_WIDTH = 44
"""Characters per line of a tier note in a legend beside its panel."""


def _note_in_legend(ax: Any, note: str | None, beside: bool = False) -> None:
    """The axes' legend, with ``note`` as its last entry (no handle), wrapped to
    :data:`NOTE_WIDTH` characters a line; ``beside`` puts it to the right of the panel
    (never over the data; the note wrapped to :data:`SIDE_NOTE_WIDTH`) instead of at the
    emptiest spot inside it."""
    handles, labels = ax.get_legend_handles_labels()
    if note:
        width = SIDE_NOTE_WIDTH if beside else NOTE_WIDTH
        text = "\n".join(textwrap.wrap(note, width, break_on_hyphens=False))
        handles, labels = [*handles, Patch(alpha=0.0, lw=0)], [*labels, text]
    where: dict[str, Any] = ({"loc": "upper left", "bbox_to_anchor": (1.01, 1.0),
                              "borderaxespad": 0.0} if beside else {"loc": "best"})
    ax.legend(handles, labels, fontsize=8, frameon=True, framealpha=0.9, **where)


def tier_note(note: str | None, *markets: str) -> str | None:
    """The parts of a material's tier note (``; ``-separated, each starting with its tier,
    :func:`simulator.analysis.tiers.tier_notes`) about any of ``markets``, in the note's
    order; None if none is."""
    if not note:
        return None
    starts = tuple(f"{m}{sep}" for m in markets for sep in (": ", " in "))
    parts = [p for p in note.split("; ") if p.startswith(starts)]
    return "; ".join(parts) or None


def _price_figure(prices: pd.DataFrame, name: str, replications: int | None,
                  events: Sequence[Any], window: Window | str | None,
                  ceilings: Mapping[tuple[str, str], float],
                  tier_notes: Mapping[str, str]) -> Figure:
    materials = sorted(str(m) for m in prices["material"].unique())
    markets = sorted(str(m) for m in prices["market"].unique())
    colors = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(markets)}
    cols = min(2, len(materials))
    rows = math.ceil(len(materials) / cols)
    fig = Figure(figsize=(10.5, 1.2 + 3.0 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, sharex=True, squeeze=False).ravel()
    n = replications or int(prices["replication"].nunique())
    fig.suptitle(f"{name}: prices by market tier, USD/kg ({_reps_text(n)})",
                 fontweight="bold", x=0.01, ha="left")
    dates = pd.to_datetime(prices["date"])
    xlim, full, zoomed = resolve_window(window, dates,
                                        [*event_spans(events), *moving_spans(prices)])
    shown = prices[(dates >= xlim[0]) & (dates <= xlim[1])]
    drawn = None
    for ax, material in zip(axes, materials, strict=False):
        sel = shown[shown["material"].astype(str) == material]
        for market in markets:
            one = sel[sel["market"].astype(str) == market]
            if one.empty:
                continue
            q = quantile_frame(one, "price_usd_per_kg", (5, 50, 95))
            x = q.index.to_numpy()
            ax.plot(x, q["p50"], color=colors[market], lw=2.0, drawstyle="steps-post",
                    label=f"{market}: median, peak {q['p50'].max():,.0f}")
            if one["replication"].nunique() > 1:
                ax.fill_between(x, q["p5"], q["p95"], color=colors[market], alpha=0.18,
                                lw=0, step="post")
            cap = ceilings.get((material, market))
            _ceiling_line(ax, cap, float(q["p95"].max()), colors[market],
                          f"{market}: ceiling {cap:,.0f} (assumption)" if cap else "")
        ax.set_ylim(bottom=0)
        ax.set_title(material, loc="left", fontsize=10, pad=16)  # clear of the event bubbles
        ax.set_ylabel("USD/kg")
        # the note's parts about the tiers drawn (a tier nobody buys in has no price)
        _note_in_legend(ax, tier_note(tier_notes.get(material),
                                      *(str(m) for m in sel["market"].unique())))
        _style(ax)
        drawn = shade_events([ax], events, xlim, number_ax=ax)
    for ax in axes[len(materials):]:
        ax.set_visible(False)
    for ax in axes[len(materials) - cols:len(materials)]:
        ax.set_xlabel("Date")
    axes[0].set_xlim(*xlim)
    _date_axis(axes[len(materials) - 1])
    handles, labels = [Patch(color="0.5", alpha=0.3, lw=0)], ["P5-P95 across replications"]
    if drawn:
        eh, el = event_legend_handles(drawn)
        handles += eh
        labels += el
    legend = fig.legend(handles, labels, loc="outside lower center", frameon=False, fontsize=8,
                        ncols=1 if len(labels) > 3 else len(labels),
                        # the zoom note under the panels, clear of their titles and bubbles
                        title=_window_note(xlim, full) if zoomed else None, title_fontsize=8)
    legend.get_title().set_color("0.35")
    return fig


def price_overlay_figure(prices: Mapping[str, pd.DataFrame], material: str, *,
                         events: Mapping[str, Sequence[Any]] | None = None,
                         window: Window | str | None = "auto",
                         ceilings: Mapping[str, Mapping[tuple[str, str], float]] | None = None,
                         tier_notes: Mapping[str, str] | None = None) -> Figure:
    """One material's price in each scenario of ``prices`` (name -> run ``prices`` table, in
    order; the first is the reference): one panel per market tier, per scenario the median
    USD/kg and its P5-P95 band across replications, the events shaded as in the fill-rate
    overlay (events only some scenarios have: a strip and a legend prefix naming them).
    ``ceilings`` (scenario -> (material, tier) -> USD/kg) draws each scenario's ceiling as a
    dotted line in its color where its P95 comes within half of it. ``tier_notes``
    (material -> text) adds a line to the export tier's legend (as :func:`price_figure`).

    Raises :exc:`KeyError` when no scenario prices ``material``."""
    with mpl.rc_context(_RC):
        return _price_overlay(prices, material, events or {}, window, ceilings or {},
                              (tier_notes or {}).get(material))


def _price_overlay(prices: Mapping[str, pd.DataFrame], material: str,
                   events: Mapping[str, Sequence[Any]], window: Window | str | None,
                   ceilings: Mapping[str, Mapping[tuple[str, str], float]],
                   note: str | None) -> Figure:
    from .compare import _owners_text, _split_events, scenario_colors

    names = list(prices)
    sel = {n: p[p["material"].astype(str) == material] for n, p in prices.items()}
    if all(p.empty for p in sel.values()):
        raise KeyError(f"no scenario prices {material!r}")
    markets = sorted({str(m) for p in sel.values() for m in p["market"].unique()})
    colors = scenario_colors(names)
    every = pd.concat([p for p in sel.values() if len(p)], ignore_index=True)
    dates = pd.to_datetime(every["date"])
    spans = [s for n in names for s in event_spans(events.get(n, ()))]
    xlim, full, zoomed = resolve_window(window, dates, [*spans, *moving_spans(every)])
    # wide: each tier's legend sits to the right of its panel, clear of the price paths
    fig = Figure(figsize=(13.5, 1.6 + 2.8 * len(markets)), layout="constrained")
    axes = fig.subplots(len(markets), 1, sharex=True, squeeze=False).ravel()
    priced = [n for n in names if len(sel[n])]
    unpriced = [n for n in names if not len(sel[n])]
    fig.suptitle(f"{material}: price by market tier, USD/kg ({len(priced)} of {len(names)} "
                 "scenarios price it" + (f"; not {', '.join(unpriced)}" if unpriced else "")
                 + ")", fontweight="bold", x=0.01, ha="left")
    for ax, market in zip(axes, markets, strict=True):
        peaks: dict[str, float] = {}  # scenario -> highest P95 shown
        for n in names:
            one = sel[n][sel[n]["market"].astype(str) == market]
            one = one[(pd.to_datetime(one["date"]) >= xlim[0])
                      & (pd.to_datetime(one["date"]) <= xlim[1])]
            if one.empty:
                continue
            q = quantile_frame(one, "price_usd_per_kg", (5, 50, 95))
            x = q.index.to_numpy()
            role = " (reference)" if n == names[0] else ""
            ax.plot(x, q["p50"], color=colors[n], lw=2.0, drawstyle="steps-post",
                    label=f"{n}{role}: peak {q['p50'].max():,.0f}",
                    zorder=2.6 if n == names[0] else 2.2)
            if one["replication"].nunique() > 1:
                ax.fill_between(x, q["p5"], q["p95"], color=colors[n], alpha=0.16, lw=0,
                                step="post")
            peaks[n] = float(q["p95"].max())
        caps = {n: ceilings.get(n, {}).get((material, market)) for n in peaks}
        caps = {n: c for n, c in caps.items() if c is not None}
        if len(set(caps.values())) == 1:  # one ceiling: one grey line
            cap = next(iter(caps.values()))
            _ceiling_line(ax, cap, max(peaks[n] for n in caps), "0.35",
                          f"ceiling {cap:,.0f} (assumption)")
        else:
            for n, cap in caps.items():
                _ceiling_line(ax, cap, peaks[n], colors[n], f"{n}: ceiling {cap:,.0f} "
                              "(assumption)")
        ax.set_ylim(bottom=0)
        ax.set_ylabel("USD/kg")
        ax.set_title(f"market {market}", loc="left", fontsize=10)
        _note_in_legend(ax, tier_note(note, market), beside=True)
        _style(ax)
    common, own = _split_events(events, names)
    drawn = shade_events(list(axes), common, xlim, number_ax=axes[0])
    eh, el = event_legend_handles(drawn)
    for owners, group in own.items():
        color = colors[owners[0]]
        drawn = shade_events(list(axes), group, xlim, number_ax=axes[0], owner_color=color,
                             after=drawn, first_number=len(el) + 1)
        h, lab = event_legend_handles(drawn, owner_color=color,
                                      prefix=_owners_text(owners, names))
        eh, el = eh + h, el + lab
    axes[0].set_title(f"market {markets[0]}", loc="left", fontsize=10,
                      pad=drawn.title_pad())  # above the event numbers
    if el:  # what the shading and the dashed lines are
        fig.legend(eh, el, loc="outside lower center", frameon=False, fontsize=8,
                   ncols=1 if len(el) > 2 else len(el))
    axes[-1].set_xlabel("Date")
    axes[-1].set_xlim(*xlim)
    _date_axis(axes[-1])
    if zoomed:
        axes[0].annotate(_window_note(xlim, full), (0.0, 1.0), xycoords="axes fraction",
                         xytext=(0, drawn.title_pad() + 14), textcoords="offset points",
                         fontsize=8, color="0.35")
    return fig
