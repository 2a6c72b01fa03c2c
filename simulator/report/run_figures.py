"""The figures of a run folder, drawn from the data the runner returns.

The runner (:mod:`simulator.runner.store`) writes a run folder's tables and manifest and draws
nothing; whoever writes the folder passes :func:`draw_run_figures` as its ``figures`` hook, which
draws into the staging folder before the manifest lists the files, so the figures appear with the
folder, whole, or not at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..runner.store import DATA_FILES

if TYPE_CHECKING:
    from ..runner.replications import RunResults
    from ..scenario.models import Scenario

__all__ = ["FIGURE_FILES", "RUN_FILES", "draw_run_figures"]

#: The figures :func:`draw_run_figures` writes.
FIGURE_FILES = ("fill_rate.png", "fill_rate.svg")
#: Files every run folder of ``critmin run`` holds (manifest.json last, written after the others).
RUN_FILES = (*DATA_FILES[:-1], *FIGURE_FILES, DATA_FILES[-1])


def draw_run_figures(folder: Path, results: RunResults, scenario: Scenario) -> list[Path]:
    """Draw ``fill_rate.png`` and ``.svg`` (fill rate by sector over time, and the shortfall)
    into ``folder`` from the run's per-step sector curves; the paths written."""
    from ..viz.curves import fill_rate_figure, save_figure

    fig = fill_rate_figure(results.curve_frame(scenario.start_date), scenario.name,
                           results.replications)
    return save_figure(fig, folder / "fill_rate")
