"""Write a sweep folder's derived outputs from its finished point files.

``sweep.parquet``, ``points.csv``, ``response_<param>.png/.svg`` per parameter, and per
design ``tornado.csv/.png/.svg`` (oat), ``morris.csv/.png/.svg`` (morris),
``sobol.csv/.png/.svg`` (sobol). Every file is written to a temporary name and renamed, so
readers never see half a file. These outputs are derived: rerunning a sweep rewrites them from
the point files (which are never rewritten). ``sweep.json`` says ``complete`` only once all of
them are written (the last step).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .figures import morris_figure, response_figure, save, sobol_figure, tornado_figure
from .points import Plan
from .run import atomic_write, mark_complete
from .sensitivity import morris_indices, sobol_indices, tornado_table
from .summary import point_summary, sweep_table

__all__ = ["SweepOutputs", "slug", "write_outputs"]


def slug(text: str) -> str:
    """A file-name-safe form of a parameter path."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.")[:80] or "param"


class SweepOutputs(dict):
    """Name -> path of every output written (``table``, ``summary``, ``figures``...), plus the
    frames: ``.table`` (long), ``.summary`` (per point) and ``.indices`` (tornado / Morris /
    Sobol table, or None)."""

    table: pd.DataFrame
    summary: pd.DataFrame
    indices: pd.DataFrame | None = None


def _csv(frame: pd.DataFrame, path: Path) -> Path:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.10g"))
    return path


def write_outputs(plan: Plan, out_dir: str | Path, *, figures: bool = True) -> SweepOutputs:
    """Assemble the tables, indices and figures of ``plan`` in ``out_dir`` (every point must
    have finished), then mark ``sweep.json`` ``complete``. Raises OSError when the folder
    cannot be written (``sweep.json`` then still says ``computed``)."""
    out = Path(out_dir)
    table = sweep_table(plan, out)
    summary = point_summary(table)
    res = SweepOutputs()
    res.table, res.summary, res.indices = table, summary, None
    atomic_write(out / "sweep.parquet", lambda tmp: table.to_parquet(tmp, index=False))
    res["table"] = out / "sweep.parquet"
    res["summary"] = _csv(summary, out / "points.csv")
    figs: list[Path] = []
    design = plan.design.name
    if design == "oat":
        res.indices = tornado_table(plan, table)
        res["indices"] = _csv(res.indices, out / "tornado.csv")
        if figures:
            figs += save(tornado_figure(plan, res.indices), out / "tornado")
    elif design == "morris":
        res.indices = morris_indices(plan, table)
        res["indices"] = _csv(res.indices, out / "morris.csv")
        if figures:
            figs += save(morris_figure(plan, res.indices), out / "morris")
    elif design == "sobol":
        res.indices = sobol_indices(plan, table)
        res["indices"] = _csv(res.indices, out / "sobol.csv")
        if figures:
            figs += save(sobol_figure(plan, res.indices), out / "sobol")
    if figures:
        for param in plan.design.params:
            figs += save(response_figure(plan, table, param), out / f"response_{slug(param)}")
    res["figures"] = figs  # type: ignore[assignment]
    written = [Path(p) for k, p in res.items() if k != "figures"] + figs
    mark_complete(out, [p.name for p in written])
    return res
