"""The run report's "Plants built on price" section (``projects.csv``; docs/markets.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from .markup import _e, _table

__all__ = ["projects_section"]


def _date(start: dt.date, days: pd.Series) -> str:
    days = days.dropna()
    if days.empty:
        return "-"
    mid = start + dt.timedelta(days=int(np.median(days)))
    lo = start + dt.timedelta(days=int(np.percentile(days, 5)))
    hi = start + dt.timedelta(days=int(np.percentile(days, 95)))
    return f"{mid.isoformat()} ({lo.isoformat()} to {hi.isoformat()})"


def projects_section(run_dir: Path, start: dt.date, replications: int) -> list[str]:
    """The section's HTML parts (none when the run has no plant built on price)."""
    path = run_dir / "projects.csv"
    if not path.is_file():
        return []
    table = pd.read_csv(path)
    if table.empty:
        return []
    rows = []
    for fid, g in table.groupby("facility", sort=True):
        n = max(replications, 1)
        committed = g["committed_day"].notna()
        built = g["completed"].fillna(0.0) > 0
        rows.append([fid, f"{committed.sum() / n:.0%}", f"{built.sum() / n:.0%}",
                     _date(start, g["committed_day"]), _date(start, g["start_day"])])
    return ['<section id="projects"><h2>Plants built on price</h2>',
            "<p>Plants with <code>invest</code> (docs/markets.md, \"Supply response\"): "
            "committed once their price held at or above their incentive price, built with "
            "their completion probability, started after their lead time. Dates: median "
            f"(P5 to P95) over the replications where it happened ({_e(replications)} "
            "replications; <code>projects.csv</code>).</p>",
            '<div class="scroll">' + _table(
                ["Plant", "Committed", "Built", "Committed on", "Started on"], rows,
                numeric_from=1) + "</div></section>"]
