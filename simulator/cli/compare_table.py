"""The standard-output table of ``critmin compare``: per group, each scenario's mean and the
paired difference against the reference with its 95% CI (rows:
:func:`simulator.comparison.table_rows`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import typer

from ..comparison import TABLE_METRICS

__all__ = ["print_table"]


def _cell(metric: str, mean: float, lo: float = np.nan, hi: float = np.nan, *,
          signed: bool = False) -> str:
    """``mean`` with its unit, then ``[lo, hi]`` without units: ``-3.4 pp [-4.5, -2.2]``."""
    from ..report import format_range

    return format_range(metric, mean, lo, hi, signed=signed, clip=False)


_METRIC_LABELS = {
    "fill_rate": "fill rate",
    "trough_fill_rate": "trough fill rate",
    "cumulative_shortfall_t": "shortfall (t/rep)",
    "days_below_threshold": "days below 90%",
    "time_to_recover_days": "time to recover (a)",
}


def print_table(kpis: pd.DataFrame, inputs: Sequence[Any], sectors: Sequence[str],
                level: str = "sector") -> None:
    """Print the rows of ``kpis`` (``kpis.csv``) for ``sectors`` at ``level``; ``inputs``
    have ``name`` and ``replications``, the first is the reference."""
    from rich.table import Table

    from .output import print_rich

    names = [i.name for i in inputs]
    n = inputs[0].replications
    what = "sector" if level == "sector" else "hardest-hit demand sector"
    table = Table(title=f"{' vs '.join(names)}: {what} means over replications "
                        f"(n={n}), paired differences vs {names[0]} [95% CI]")
    table.add_column("Sector" if level == "sector" else "Demand sector")
    table.add_column("Metric")
    for name in names:
        table.add_column(name, justify="right")
    for name in names[1:]:
        table.add_column(f"{name} - {names[0]}" if len(names) > 2 else "diff [95% CI]",
                         justify="right")
    sec = kpis[kpis["level"] == level]
    for s in sectors:
        for j, metric in enumerate(TABLE_METRICS):
            rows = sec[(sec["group"] == s) & (sec["metric"] == metric)].set_index("scenario")
            if rows.empty:
                continue
            label = _METRIC_LABELS.get(metric, metric)
            if metric == "units_short":
                unit = next((u for u in rows.get("unit", []) if isinstance(u, str) and u), "")
                if not unit:
                    continue  # the group declares no units
                label = f"{unit} not built (/rep)"
            vals = [_cell(metric, rows.loc[nm, "mean"]) if nm in rows.index else "-"
                    for nm in names]
            diffs = []
            for nm in names[1:]:
                if nm not in rows.index:
                    diffs.append("-")
                    continue
                r = rows.loc[nm]
                text = _cell(metric, r["diff_mean"], r["diff_ci95_low"], r["diff_ci95_high"],
                             signed=True)
                flag = r["diff_ci_excludes_zero"]
                diffs.append(text + (" *" if isinstance(flag, bool | np.bool_) and flag
                                     else ""))
            table.add_row(s if j == 0 else "", label, *vals, *diffs,
                          end_section=j == len(TABLE_METRICS) - 1)
    print_rich(table)
    if level == "sector":
        typer.echo("* the 95% CI excludes 0. Fill-rate differences in percentage points (pp). "
                   "(a) mean over the replications that recovered.")

