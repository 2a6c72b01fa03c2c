"""Replay figures: simulated monthly values relative to the baseline against history."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..viz.curves import PALETTE

_RC = {"svg.hashsalt": "critmin", "svg.fonttype": "path", "font.size": 9}


def relative_series_figure(
    title: str,
    simulated: dict[str, pd.Series],
    history: dict[str, pd.Series] | None = None,
    *,
    ylabel: str = "% of the unperturbed baseline, same month",
    events: list[tuple[str, pd.Timestamp, pd.Timestamp | None]] = (),
    tolerance: dict[str, pd.DataFrame] | None = None,
) -> Figure:
    """Lines for simulated ratios (1.0 = baseline), markers for historical ratios.

    ``events`` are (label, start, end-or-None) windows shaded on the plot; ``tolerance`` maps a
    history label to a frame with ``low``/``high`` columns drawn as error bars.
    """
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(9, 4.8), layout="constrained")
        ax = fig.add_subplot()
        for i, (label, series) in enumerate(simulated.items()):
            ax.plot(series.index, series.to_numpy(), color=PALETTE[i], lw=2,
                    label=f"simulated: {label}", drawstyle="steps-post")
        for i, (label, series) in enumerate((history or {}).items()):
            color = PALETTE[len(simulated) + i]
            if tolerance and label in tolerance:
                tol = tolerance[label]
                mid = series.reindex(tol.index)
                ax.errorbar(tol.index + pd.Timedelta(days=14), mid.to_numpy(),
                            yerr=[mid - tol["low"], tol["high"] - mid], fmt="none",
                            ecolor=color, alpha=0.6, capsize=3)
            ax.plot(series.index + pd.Timedelta(days=14), series.to_numpy(), "o",
                    color=color, label=f"history: {label}")
        for j, (label, start, end) in enumerate(events):
            ax.axvspan(start, end if end is not None else ax.get_xlim()[1], color="0.85",
                       alpha=0.5, lw=0, label=label if j < 4 else None)
        ax.axhline(1.0, color="0.4", lw=0.8, ls="--")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.grid(alpha=0.3)
        ax.set_title(title)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return fig
