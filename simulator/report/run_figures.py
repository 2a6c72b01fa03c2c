"""The figures of a run folder, drawn from the data the runner returns.

The runner (:mod:`simulator.runner.store`) writes a run folder's tables and manifest and draws
nothing; whoever writes the folder passes :func:`draw_run_figures` as its ``figures`` hook, which
draws into the staging folder before the manifest lists the files, so the figures appear with the
folder, whole, or not at all.
"""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..runner.store import DATA_FILES

if TYPE_CHECKING:
    from ..runner.replications import RunResults
    from ..scenario.models import Scenario

__all__ = ["FIGURE_FILES", "RUN_FILES", "FiguresOnWorkers", "draw_run_figures"]

#: The figures :func:`draw_run_figures` writes.
FIGURE_FILES = ("fill_rate.png", "fill_rate.svg")
#: Files every run folder of ``critmin run`` holds (manifest.json last, written after the others).
RUN_FILES = (*DATA_FILES[:-1], *FIGURE_FILES, DATA_FILES[-1])


def draw_run_figures(folder: Path, results: RunResults, scenario: Scenario) -> list[Path]:
    """Draw ``fill_rate.png`` and ``.svg`` (fill rate by sector over time, and the shortfall)
    into ``folder`` from the run's per-step sector curves; the paths written."""
    return draw_curve_figures(folder, results.curve_frame(scenario.start_date), scenario.name,
                              results.replications)


def draw_curve_figures(folder: Path, curve_frame: Any, name: str,
                       replications: int) -> list[Path]:
    """:func:`draw_run_figures` from the run's ``results.curve_frame`` (picklable arguments:
    what a worker process is sent)."""
    from ..viz.curves import fill_rate_figure, save_figure

    return save_figure(fill_rate_figure(curve_frame, name, replications), folder / "fill_rate")


class FiguresOnWorkers:
    """A ``figures`` hook that draws :func:`draw_run_figures`'s files on a worker of
    ``evaluator`` (idle once the replications are done) while the run's tables are written
    here: the same files, a second or so sooner on two cores. It draws in this process when
    the evaluator runs in this process, is spent (a cancelled run killed its workers) or its
    worker dies."""

    def __init__(self, evaluator: Any):
        self.evaluator = evaluator

    def __call__(self, folder: Path, results: RunResults, scenario: Scenario) -> Any:
        args = (folder, results.curve_frame(scenario.start_date), scenario.name,
                results.replications)
        if getattr(self.evaluator, "in_process", True):
            return draw_curve_figures(*args)
        try:
            future = self.evaluator.submit(draw_curve_figures, *args)
        except (RuntimeError, BrokenProcessPool):  # shut down or killed
            return draw_curve_figures(*args)
        return _DrawnElsewhere(future, args)


class _DrawnElsewhere:
    def __init__(self, future: Future, args: tuple):
        self.future, self.args = future, args

    def result(self) -> list[Path]:
        try:
            return self.future.result()
        except BrokenProcessPool:  # the worker died (or was killed): draw them here
            return draw_curve_figures(*self.args)
