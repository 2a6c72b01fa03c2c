"""Sweep figures (matplotlib ``Figure`` objects, no pyplot), saved as PNG and SVG.

- :func:`response_figure`: the output KPI against one swept parameter: median and P5-P95
  band across replications (one line per value of a second grid parameter), or, for sampled
  designs, each point's mean with its P5-P95 range;
- :func:`tornado_figure`: one-at-a-time swings around the base point;
- :func:`morris_figure`: mu* with bootstrap 95 % CIs, and mu* against sigma;
- :func:`sobol_figure`: first-order and total indices with bootstrap 95 % CIs.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..viz.curves import PALETTE
from .points import Plan

__all__ = ["kpi_label", "morris_figure", "param_label", "response_figure", "save",
           "sobol_figure", "tornado_figure"]

_RC = {"svg.hashsalt": "critmin", "svg.fonttype": "path", "font.size": 9}
_KPI_LABELS = {
    "fill_rate": "fill rate (%)", "trough_fill_rate": "worst-step fill rate (%)",
    "cumulative_shortfall_t": "cumulative shortfall (t)",
    "days_below_threshold": "days below 90 % fill rate (days)",
    "resilience_loss_pct_days": "resilience loss (%-days)",
    "time_to_survive_days": "time to survive (days)",
    "time_to_recover_days": "time to recover (days)",
    "stockpile_drawdown_t": "stockpile drawdown (t)", "demand_t": "demand (t)",
    "delivered_t": "delivered (t)",
}
_UNITS = (("_tpy", "t/yr"), ("_days", "days"), ("_pa", "per yr"), ("_t", "t"))
_PERCENT = ("fill_rate", "trough_fill_rate")


def kpi_label(kpi: str) -> str:
    """Axis label of a KPI, with its unit."""
    return _KPI_LABELS.get(kpi, kpi)


def param_label(path: str) -> str:
    """Axis label of a parameter path, with the unit its name carries."""
    for suffix, unit in _UNITS:
        if path.endswith(suffix):
            return f"{path} ({unit})"
    return path


def _scope(plan: Plan) -> str:
    demand = plan.spec.output.demand
    return "all demand" if demand == "all" else demand


def _short(path: str) -> str:
    """The last two segments of a parameter path (titles, legends)."""
    return ".".join(path.split(".")[-2:])


def _title(fig: Figure, plan: Plan, what: str, note: str) -> None:
    spec = plan.spec
    fig.suptitle(f"{plan.base.name}: {what}", fontsize=11, x=0.02, ha="left")
    text = (f"sweep {spec.name}, design {spec.design}, {len(plan.points)} points x "
            f"N = {spec.replications} replication(s), seed {spec.seed}. {note}")
    fig.text(0.02, 0.935, textwrap.fill(text, 130), fontsize=8, color="#444444", ha="left",
             va="top")


def _y_axis(ax, kpi: str) -> None:
    if kpi in _PERCENT:
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.6g}"))
    ax.set_ylabel(f"{kpi_label(kpi)}")
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def response_figure(plan: Plan, table: pd.DataFrame, param: str) -> Figure:
    """Output KPI against ``param``. Grid and one-at-a-time designs: median and P5-P95 band
    over the replications at each value (pooled over parameters other than a second grid
    parameter, which gets one line per value); other designs: per point, the mean and its
    P5-P95 range."""
    out = plan.spec.output
    rows = table[(table["kpi"] == out.kpi) & (table["demand_id"] == out.demand)]
    if plan.design.name == "oat":
        rows = rows[rows["oat_param"].isin(["", param])]
    fig = Figure(figsize=(7.5, 4.6), layout="constrained")
    fig.get_layout_engine().set(rect=(0, 0, 1, 0.9))
    ax = fig.add_subplot()
    others = [p for p in plan.design.params if p != param]
    by = None
    if plan.design.name in ("grid", "oat"):
        by = others[0] if plan.design.name == "grid" and others else None
        groups = [(None, rows)] if by is None else list(rows.groupby(by, sort=True))
        for i, (key, grp) in enumerate(groups):
            color = PALETTE[i % len(PALETTE)]
            q = (grp.groupby(param, sort=True)["value"]
                 .quantile([0.05, 0.5, 0.95]).unstack())
            x = q.index.to_numpy()
            label = "median" if by is None else f"{key:g}" if isinstance(
                key, int | float) else str(key)
            ax.plot(x, q[0.5], marker="o", color=color, label=label, linewidth=1.6)
            ax.fill_between(x, q[0.05], q[0.95], color=color, alpha=0.18, linewidth=0,
                            label="P5-P95" if by is None else None)
        note = "Lines: median over replications; bands: P5-P95."
        if len(others) > (1 if by else 0) and plan.design.name == "grid":
            note += " Pooled over " + ", ".join(others[1:] if by else others) + "."
    else:
        per = rows.groupby("point", sort=True)["value"]
        mean, lo, hi = per.mean(), per.quantile(0.05), per.quantile(0.95)
        x = rows.drop_duplicates("point").set_index("point")[param].reindex(mean.index)
        ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], fmt="o", markersize=3.5,
                    color=PALETTE[0], ecolor="#9ab8d6", elinewidth=0.8, label="point mean")
        ax.plot([], [], color="#9ab8d6", label="P5-P95 over replications")
        note = "Dots: mean over replications per point; bars: P5-P95."
    ax.set_xlabel(param_label(param))
    _y_axis(ax, out.kpi)
    legend_title = param_label(by) if plan.design.name == "grid" and by else None
    ax.legend(frameon=False, fontsize=8, loc="best", title=legend_title, title_fontsize=8)
    _title(fig, plan, f"{kpi_label(out.kpi).split(' (')[0]} of {_scope(plan)} vs "
           f"{_short(param)}", note)
    return fig


def tornado_figure(plan: Plan, tornado: pd.DataFrame) -> Figure:
    """Horizontal bars from the base output to the output at each parameter's low and high
    value, the largest swing on top."""
    out = plan.spec.output
    n = len(tornado)
    fig = Figure(figsize=(8, 1.6 + 0.55 * n), layout="constrained")
    fig.get_layout_engine().set(rect=(0, 0, 1, 1 - 0.55 / (1.6 + 0.55 * n)))
    ax = fig.add_subplot()
    base = float(tornado["output_base"].iloc[0]) if n else 0.0
    y = np.arange(n)[::-1]
    for lvl, color in (("low", PALETTE[0]), ("high", PALETTE[1])):
        vals = tornado[f"output_{lvl}"].to_numpy(dtype=float)
        ax.barh(y, vals - base, left=base, color=color, height=0.6,
                label=f"parameter at its {lvl} value")
        for yi, v, pv in zip(y, vals, tornado[lvl], strict=True):
            ax.annotate(f"{pv:g}" if isinstance(pv, int | float) else str(pv),
                        (v, yi), xytext=(3 if v >= base else -3, 0),
                        textcoords="offset points", va="center", fontsize=7,
                        ha="left" if v >= base else "right", color="#333333")
    ax.axvline(base, color="black", linewidth=0.8)
    ax.set_yticks(y, [f"{p}\n(base {b:g})" if isinstance(b, int | float) else p
                      for p, b in zip(tornado["param"], tornado["base"], strict=True)],
                  fontsize=8)
    ax.set_xlabel(f"{kpi_label(out.kpi)} of {_scope(plan)}, mean over replications")
    if out.kpi in _PERCENT:
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.margins(x=0.15)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    _title(fig, plan, f"one-at-a-time sensitivity of {kpi_label(out.kpi).split(' (')[0]}",
           f"Base output {base:,.4g}; sorted by swing.")
    return fig


def morris_figure(plan: Plan, morris: pd.DataFrame) -> Figure:
    """mu* per parameter with its 95 % CI (left) and mu* against sigma (right)."""
    out = plan.spec.output
    unit = kpi_label(out.kpi).rsplit("(", 1)[-1].rstrip(")") if "(" in kpi_label(out.kpi) \
        else ""
    fig = Figure(figsize=(10, 1.8 + 0.5 * len(morris)), layout="constrained")
    fig.get_layout_engine().set(rect=(0, 0, 1, 0.86))
    ax, ax2 = fig.subplots(1, 2, width_ratios=[1.3, 1])
    y = np.arange(len(morris))[::-1]
    ax.barh(y, morris["mu_star"], xerr=morris["mu_star_conf"], color=PALETTE[0], height=0.6,
            capsize=3, label="mu* with 95 % bootstrap CI")
    ax.set_yticks(y, morris["param"], fontsize=8)
    ax.set_xlabel(f"mu* (mean |elementary effect|, {unit} per full range)")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    ax2.scatter(morris["mu_star"], morris["sigma"], color=PALETTE[1], zorder=3)
    for _, r in morris.iterrows():
        ax2.annotate(r["param"].rsplit(".", 1)[-1], (r["mu_star"], r["sigma"]), fontsize=7,
                     xytext=(3, 3), textcoords="offset points")
    ax2.set_xlabel(f"mu* ({unit})")
    ax2.set_ylabel(f"sigma ({unit}): interactions, non-linearity")
    ax2.grid(True, color="#dddddd", linewidth=0.6)
    _title(fig, plan, f"Morris screening of {kpi_label(out.kpi).split(' (')[0]} of "
           f"{_scope(plan)}", "Parameters sorted by mu*.")
    return fig


def sobol_figure(plan: Plan, sobol: pd.DataFrame) -> Figure:
    """First-order (S1) and total (ST) Sobol indices with 95 % bootstrap CIs."""
    out = plan.spec.output
    fig = Figure(figsize=(8, 1.8 + 0.6 * len(sobol)), layout="constrained")
    fig.get_layout_engine().set(rect=(0, 0, 1, 0.86))
    ax = fig.add_subplot()
    y = np.arange(len(sobol))[::-1]
    ax.barh(y + 0.18, sobol["S1"], xerr=sobol["S1_conf"], height=0.34, color=PALETTE[0],
            capsize=3, label="first order S1")
    ax.barh(y - 0.18, sobol["ST"], xerr=sobol["ST_conf"], height=0.34, color=PALETTE[1],
            capsize=3, label="total ST")
    ax.set_yticks(y, sobol["param"], fontsize=8)
    ax.set_xlabel("share of output variance (bars: 95 % bootstrap CI)")
    ax.axvline(0, color="black", linewidth=0.6)
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    _title(fig, plan, f"Sobol indices of {kpi_label(out.kpi).split(' (')[0]} of "
           f"{_scope(plan)}", "Sorted by total index.")
    return fig


def save(fig: Figure, path_without_suffix: str | Path) -> list[Path]:
    """Write ``<path>.png`` and ``<path>.svg`` (:func:`simulator.viz.save_figure`)."""
    from ..viz.curves import save_figure

    return save_figure(fig, path_without_suffix)
