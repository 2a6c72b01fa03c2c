"""Events on date axes: event windows shaded, responses marked, numbered, in legends.

Events are :class:`~simulator.analysis.anchors.EventWindow` objects (anything with ``label``,
``start``, ``end`` and optionally ``disruption``, ``start_range``, ``end_range``,
``duration_range``). An event whose dates are uncertain (distributions, drawn per
replication) is drawn as the whole window it can fall in, hatched, and its caption says
``uncertain: <low> to <high>``; the central date the scenario holds is not drawn as if it
were certain. Shared by every figure of :mod:`simulator.viz`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

__all__ = [
    "EVENT_FACE",
    "DrawnEvents",
    "Window",
    "event_caption",
    "event_legend_handles",
    "event_spans",
    "is_window",
    "outer_span",
    "shade_events",
]

#: Face colour of event windows (alternating shades tell adjacent windows apart).
EVENT_FACE = ("0.55", "0.35")
Window = tuple[pd.Timestamp, pd.Timestamp]

#: Event types drawn as windows (shaded from start to end, an open-ended one to the figure's
#: edge) even when they cut no demand sector's supply: policy events and shocks. Every other
#: event that cuts none (agreements, stockpile policies, offtakes, subsidies, price floors,
#: substitution) and new plants are responses: a dashed line at their start.
WINDOW_TYPES = ("export_control", "facility_outage", "logistics_disruption", "tariff",
                "demand_shock")


def is_window(ev: Any) -> bool:
    """Whether ``ev`` is drawn as a window (a disruption, or a policy event or shock that
    cuts no one's supply) rather than marked at its start as a response."""
    return bool(getattr(ev, "disruption", True)) or getattr(ev, "type", None) in WINDOW_TYPES


def _as_ts(x: Any) -> pd.Timestamp | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else pd.Timestamp(x)


def _ranges(ev: Any) -> tuple[Any, Any]:
    """(start_range, end_range) of an event window (None when certain or not given)."""
    return getattr(ev, "start_range", None), getattr(ev, "end_range", None)


def outer_span(ev: Any) -> tuple[Any, Any]:
    """(earliest start, latest end) an event can have in any replication (end None: open)."""
    s_rng, e_rng = _ranges(ev)
    start = s_rng[0] if s_rng is not None else ev.start
    end = e_rng[1] if e_rng is not None else ev.end
    return start, end


def event_spans(events: Sequence[Any]) -> list[tuple[Any, Any]]:
    """(start, end) of the disruptions among ``events`` (for :func:`focus_window`): the
    whole window an uncertain one can fall in."""
    return [outer_span(e) for e in events if getattr(e, "disruption", True)]


# --------------------------------------------------------------------------- event drawing

def _short_date(d: Any) -> str:
    return pd.Timestamp(d).strftime("%Y-%m-%d")


def event_caption(ev: Any) -> str:
    """``label (start to end)`` of an event window; ``from start`` when open-ended;
    ``label (uncertain: low to high, 30-90 days)`` when its start is drawn per replication
    (then its length, or its end), ``label (start, end uncertain: low to high)`` when only
    its end is."""
    s_rng, e_rng = _ranges(ev)
    if s_rng is not None:
        d_rng = getattr(ev, "duration_range", None)
        tail = ("" if ev.end is None
                else f", {d_rng[0]} days" if d_rng is not None and d_rng[0] == d_rng[1]
                else f", {d_rng[0]}-{d_rng[1]} days" if d_rng is not None
                else f", ends {_short_date(e_rng[0])} to {_short_date(e_rng[1])}"
                if e_rng is not None else f", to {_short_date(ev.end)}")
        when = f"uncertain: {_short_date(s_rng[0])} to {_short_date(s_rng[1])}{tail}"
    elif e_rng is not None:
        when = (f"{_short_date(ev.start)}, end uncertain: {_short_date(e_rng[0])} to "
                f"{_short_date(e_rng[1])}")
    elif ev.end is not None:
        when = f"{_short_date(ev.start)} to {_short_date(ev.end)}"
    else:
        when = f"from {_short_date(ev.start)}"
    return f"{ev.label} ({when})"


def _visible(events: Sequence[Any], xlim: Window | None) -> list[Any]:
    if xlim is None:
        return list(events)
    lo, hi = xlim
    out = []
    for ev in events:
        first, last = outer_span(ev)
        start, end = pd.Timestamp(first), _as_ts(last)
        if start > hi or (end is not None and end < lo):
            continue
        s_rng = _ranges(ev)[0]
        if not is_window(ev) and (
                pd.Timestamp(s_rng[1]) < lo if s_rng is not None else start < lo):
            continue  # a response that began before the window: a line we cannot draw
        out.append(ev)
    return out


#: Hatching of the window an uncertain event date can fall in.
UNCERTAIN_HATCH = "////"


def _uncertain_span(ax: Axes, a: pd.Timestamp, b: pd.Timestamp, face: str,
                    alpha: float) -> None:
    """The window an uncertain event can fall in: a light hatched span."""
    ax.axvspan(a, b, facecolor=mpl.colors.to_rgba(face, alpha * 0.6),
               edgecolor=mpl.colors.to_rgba(face, min(1.0, alpha * 3)), hatch=UNCERTAIN_HATCH,
               lw=0, zorder=0)


def _draw_one(ax: Axes, ev: Any, xlim: Window, face: str, alpha: float, style: str,
              color: str | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Draw one event on ``ax``; the (from, to) the number bubble centres on."""
    lo, hi = xlim
    s_rng, e_rng = _ranges(ev)
    first, last = outer_span(ev)
    start = max(pd.Timestamp(first), lo)
    end = hi if last is None else min(pd.Timestamp(last), hi)
    if not is_window(ev):
        if s_rng is None:
            ax.axvline(start, color=color or "0.3", lw=1.0, ls=(0, (4, 3)), zorder=0.5)
            return start, start
        a, b = max(pd.Timestamp(s_rng[0]), lo), min(pd.Timestamp(s_rng[1]), hi)
        _uncertain_span(ax, a, b, color or "0.3", alpha)
        return a, b
    if style == "lines":
        for edge in (start, end):
            if lo < edge < hi:
                ax.axvline(edge, color=color or "black", lw=0.9,
                           ls=":" if s_rng is None and e_rng is None else "-.", zorder=3)
        return start, end
    if s_rng is None and e_rng is None:
        ax.axvspan(start, end, color=face, alpha=alpha, lw=0, zorder=0)
        return start, end
    # in force in every replication: from the latest start to the earliest end
    sure_a = pd.Timestamp(s_rng[1] if s_rng is not None else ev.start)
    sure_b = hi if ev.end is None else pd.Timestamp(e_rng[0] if e_rng is not None else ev.end)
    if sure_a < sure_b:
        ax.axvspan(max(sure_a, lo), min(sure_b, hi), color=face, alpha=alpha, lw=0, zorder=0)
    _uncertain_span(ax, start, end, face, alpha)
    return start, end


class DrawnEvents(list):
    """``(number, event)`` pairs drawn by :func:`shade_events`; ``rows`` is how many rows of
    number markers sit above the axes (0 when unnumbered), for the title's padding."""

    rows: int = 0
    placed: list[tuple[float, int]]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.placed = []

    def title_pad(self) -> float:
        return 4.0 + 11.0 * self.rows


def shade_events(axes: Sequence[Axes], events: Sequence[Any], xlim: Window,
                 *, color: str | None = None, number_ax: Axes | None = None,
                 first_number: int = 1, alpha: float = 0.13, style: str = "span",
                 numbered: bool = True, after: DrawnEvents | None = None,
                 owner_color: str | None = None) -> DrawnEvents:
    """Shade event windows and mark responses with a dashed line on every axes.

    ``events`` have ``start``, ``end`` (None = open-ended: shaded to the edge), ``label``
    and optionally ``disruption`` (default True) and ``type``; :func:`is_window` tells a
    window from a response. With ``numbered``, each drawn event gets a number (from
    ``first_number``) in a bubble above ``number_ax`` (default: the first axes); bubbles that
    would touch are stacked. Returns the ``(number, event)`` pairs drawn, for
    :func:`event_legend_handles`. ``color`` overrides the grey shading (scenario colours in
    the comparison overlay). ``style="lines"`` marks a window's start and end with dotted
    lines instead of shading it (for stacked areas, where shading would not show). ``after``:
    the result of an earlier call on the same axes, so new bubbles avoid its bubbles.
    ``owner_color`` keeps the grey shading but colours the number bubbles and a strip along
    the top of ``number_ax`` (events of one scenario in a comparison)."""
    lo, hi = xlim
    width = max((hi - lo).total_seconds(), 1.0)
    number_ax = number_ax if number_ax is not None else axes[0]
    drawn = DrawnEvents()
    if after is not None:
        drawn.placed = list(after.placed)
        drawn.rows = after.rows
    placed = drawn.placed
    k = first_number
    for i, ev in enumerate(_visible(events, xlim)):
        window = is_window(ev)
        face = color or EVENT_FACE[i % 2]
        for ax in axes:
            a, b = _draw_one(ax, ev, xlim, face, alpha, style, color)
            if window and style != "lines" and owner_color is not None and ax is number_ax:
                ax.axvspan(a, b, ymin=0.985, ymax=1.0, color=owner_color, lw=0, zorder=0.4)
        if numbered:
            # over the middle of a closed window (or of the window an uncertain date can
            # fall in); at the start of an open-ended one (its middle would depend on the
            # window drawn) or of a response
            closed = (window and ev.end is not None) or _ranges(ev)[0] is not None
            x = a + (b - a) / 2 if closed else a
            frac = (x - lo).total_seconds() / width
            level = 0
            while any(abs(frac - f) < 0.028 and lv == level for f, lv in placed):
                level += 1
            placed.append((frac, level))
            drawn.rows = max(drawn.rows, level + 1)
            number_ax.annotate(
                str(k), xy=(x, 1.0), xycoords=("data", "axes fraction"),
                xytext=(0, 3 + 11 * level), textcoords="offset points", ha="center",
                va="bottom", fontsize=7, color="white", fontweight="bold",
                annotation_clip=False,
                bbox={"boxstyle": "circle,pad=0.25", "fc": owner_color or color or "0.35",
                      "lw": 0},
            )
        drawn.append((k, ev))
        k += 1
    return drawn


def event_legend_handles(drawn: Sequence[tuple[int, Any]], *, color: str | None = None,
                         alpha: float = 0.13, prefix: str = "", style: str = "span",
                         numbered: bool = True, wrap: bool = False,
                         owner_color: str | None = None) -> tuple[list[Any], list[str]]:
    """Legend handles and labels ``(n) label (dates)`` for :func:`shade_events` output
    (without ``(n)`` unless ``numbered``; dates on a second line with ``wrap``)."""
    handles, labels = [], []
    for i, (k, ev) in enumerate(drawn):
        uncertain = any(r is not None for r in _ranges(ev))
        if uncertain and style != "lines":
            face = color or (EVENT_FACE[i % 2] if is_window(ev) else "0.3")
            handles.append(Patch(facecolor=mpl.colors.to_rgba(face, alpha * 1.5),
                                 edgecolor=owner_color or mpl.colors.to_rgba(face, 0.6),
                                 hatch=UNCERTAIN_HATCH, lw=1.5 if owner_color else 0))
        elif is_window(ev) and style == "lines":
            handles.append(Line2D([], [], color=color or "black", lw=0.9,
                                  ls="-." if uncertain else ":"))
        elif is_window(ev) and owner_color is not None:
            handles.append(Patch(facecolor=mpl.colors.to_rgba(EVENT_FACE[i % 2], alpha * 2.5),
                                 edgecolor=owner_color, lw=1.5))
        elif is_window(ev):
            handles.append(Patch(color=color or EVENT_FACE[i % 2], alpha=alpha * 2.5, lw=0))
        else:
            handles.append(Line2D([], [], color=color or "0.3", lw=1.0, ls=(0, (4, 3))))
        caption = event_caption(ev)
        if wrap:
            caption = caption.replace(" (", "\n(", 1)
        labels.append(f"({k}) {prefix}{caption}" if numbered else f"{prefix}{caption}")
    return handles, labels


