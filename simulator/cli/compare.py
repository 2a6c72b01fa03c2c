"""``critmin compare A B ...``: compare scenarios, paired by replication.

Each argument is a run folder (read from disk) or a scenario file (run here with the same
``--seed`` and ``-n`` for all, and written under ``<out>/runs/``). Replication ``r`` of every
scenario uses the same random streams (common random numbers), so per-replication differences
against the first scenario cancel the noise the scenarios share.

Writes into ``--out`` (default ``results/compare/<UTC time>-<names>/``):

- ``overlay_<sector>.png`` / ``.svg``: each scenario's median fill rate with its P5-P95 band,
  the events shaded, and the paired difference below (:func:`simulator.viz.overlay_figure`);
- ``overlay_demand_<id>.png`` / ``.svg``: the same for the hardest-hit demand sectors (country
  x sector; :func:`demands_of_interest`), which a sector summed over countries can hide;
- ``kpis.csv``: per level (``sector``: summed over countries; ``demand``: one demand sector),
  group, metric and scenario: mean with 95% CI, P5/P50/P95, and the paired difference against
  the first scenario with its 95% CI (:data:`KPI_COLUMNS`);
- ``compare.json``: the inputs (paths, seeds, replications) and the sectors drawn;
- ``report.html``: one self-contained page with the figures, findings and the sector table
  (:func:`simulator.report.compare_html.build_compare_report`).

Standard output: a table per sector of interest (sector, metric, each scenario's mean, the
difference with its CI).

The work is :func:`simulator.comparison.compare_runs`; this module parses the options, prints
and maps errors to exit codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import err, guarded, replication_progress
from .output import FORMAT_OPTION, OutputFormat, print_rows, say
from .root import app

__all__ = ["compare"]


@app.command("compare")
@guarded
def compare(
    inputs: Annotated[list[Path], typer.Argument(
        metavar="RUN_OR_SCENARIO...",
        help="Two or more run folders or scenario files; the first is the reference.")],
    replications: Annotated[int | None, typer.Option(
        "-n", "--replications", min=1,
        help="Replications of scenario files (default: as the run folders, else 10).")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", min=0,
        help="Root seed of scenario files (default: the run folders' seed, else 0).")] = None,
    sector: Annotated[list[str] | None, typer.Option(
        "--sector", metavar="SECTOR",
        help="Sector to draw an overlay for (repeatable; default: up to 4 with the largest "
             "shortfall).")] = None,
    demand: Annotated[list[str] | None, typer.Option(
        "--demand", metavar="DEMAND_ID",
        help="Demand sector (country x sector, e.g. us_magnet_ev) to draw and tabulate "
             "(repeatable; default: up to 3 whose fill rate falls most).")] = None,
    smooth: Annotated[int | None, typer.Option(
        "--smooth", metavar="DAYS", min=0,
        help="Draw fill rates over a trailing window of DAYS (0: per step; default: "
             "1/40 of the horizon in whole steps, 13 weeks for ten years).")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY.PATH=VALUE",
        help="Override a value in every scenario file (repeatable).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR",
        help="Output folder (default: results/compare/<UTC time>-<names>/).")] = None,
    workers: Annotated[int | None, typer.Option(
        "-j", "--workers", min=1,
        help="Worker processes for scenario files (default: all cores).")] = None,
    disruption: Annotated[str | None, typer.Option(
        "--disruption", metavar="EVENT_ID",
        help="Count the time to first shortfall from this event in every scenario that has "
             "it (default: per demand sector, the first event that can reduce its "
             "supply).")] = None,
    reference: Annotated[list[str] | None, typer.Option(
        "--reference", metavar="NAME",
        help="Scenario the others are differenced against (its name or the input as given; "
             "repeatable: the report shows the differences against each in turn; default: "
             "the first input).")] = None,
    fmt: FORMAT_OPTION = OutputFormat.table,
) -> None:
    """Compare scenarios paired by replication: overlay figures, kpis.csv and a table."""
    from ..comparison import KPI_COLUMNS, CompareError, compare_runs, table_rows
    from .compare_table import print_table

    try:
        done = compare_runs(
            inputs, replications=replications, seed=seed, sectors=sector, demands=demand,
            smooth=smooth, overrides=list(set_ or []), out=out, workers=workers,
            disruption=disruption, references=reference,
            progress=lambda total, _name: replication_progress(total),
            notify=lambda message: err(f"critmin: {message}"))
    except CompareError as exc:
        err(str(exc))
        raise typer.Exit(exc.code) from None
    kpis, demands, sectors = done.kpis, done.demands, done.sectors
    if fmt is not OutputFormat.table:
        print_rows(fmt, table_rows(kpis, demands, level="demand") + table_rows(kpis, sectors),
                   KPI_COLUMNS)
    else:
        if demands:  # who runs short first, then the sectors summed over countries
            print_table(kpis, done.inputs, demands, level="demand")
        print_table(kpis, done.inputs, sectors)
    say(fmt, f"Compare folder: {done.folder}")
    for i in done.inputs:
        if i.source == "scenario file":
            say(fmt, f"Run folder ({i.name}): {i.run_dir}")
    say(fmt, "Figures:        " + "  ".join(str(p) for p in done.figures if p.suffix == ".png"))
    say(fmt, f"Report:         {done.report}")
