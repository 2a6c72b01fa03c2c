"""``critmin report RUN_DIR``: one self-contained HTML file on a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..exit_codes import EXIT_INVALID, EXIT_MISSING
from .common import guarded
from .root import app

__all__ = ["report"]


@app.command("report")
@guarded
def report(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run folder.")],
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="FILE", help="HTML file to write (default: RUN_DIR/report.html).")
    ] = None,
    max_panels: Annotated[int, typer.Option(
        "--max-panels", min=1, help="Most country x sector panels in the small multiples.")
    ] = 12,
) -> None:
    """Write a self-contained HTML report (figures, KPI tables, events, scenario, manifest)."""
    from ..report import DamagedRunFolder, RunFolderError, write_report

    if not run_dir.exists():
        typer.echo(f"{run_dir}: no such file", err=True)
        raise typer.Exit(EXIT_MISSING)
    try:
        path = write_report(run_dir, out, max_panels=max_panels)
    except RunFolderError as exc:
        typer.echo(f"critmin: {exc}", err=True)
        raise typer.Exit(EXIT_MISSING) from None
    except DamagedRunFolder as exc:
        typer.echo(f"critmin: damaged run folder: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    typer.echo(f"Report: {path}")

