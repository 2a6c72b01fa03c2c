"""``critmin validate``, ``critmin schema`` and ``critmin list``: scenario files and what is
in a folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..exit_codes import EXIT_INVALID, EXIT_MISSING
from ..scenario.errors import ScenarioError
from .common import err, guarded, report_leftovers, report_problems
from .output import FORMAT_OPTION, OutputFormat, print_rich, print_rows
from .root import app

__all__ = ["list_", "schema", "validate"]


@app.command()
@guarded
def validate(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Scenario YAML files.")],
    strict: Annotated[bool, typer.Option(
        "--strict", help="Treat warnings (contradictory or no-op events) as errors.")] = False,
) -> None:
    """Check scenario files; print `OK FILE` or every problem as `file:line:col: path: msg`."""
    from ..scenario import load_scenario_with_warnings

    codes = set()
    for f in files:
        try:
            _, found = load_scenario_with_warnings(f)
        except ScenarioError as exc:
            report_problems(exc)
            codes.add(exc.exit_code)
            continue
        for problem in found:
            err(str(problem))
        if strict and found:
            codes.add(EXIT_INVALID)
        else:
            typer.echo(f"OK {f}")
    if codes:
        raise typer.Exit(EXIT_MISSING if EXIT_MISSING in codes else max(codes))


@app.command()
@guarded
def schema(
    out: Annotated[Path | None, typer.Option("--out", metavar="FILE",
                                             help="Write to FILE.")] = None,
) -> None:
    """Print the JSON Schema of scenario files (for editor autocompletion)."""
    from ..scenario import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        err(f"wrote {out}")


@app.command("list")
@guarded
def list_(
    directory: Annotated[Path, typer.Argument(metavar="DIR",
                                              help="Folder of scenarios.")] = Path("scenarios"),
    out: Annotated[Path, typer.Option(
        "--out", metavar="DIR",
        help="Results root folder searched for unfinished runs.")] = Path("results"),
    fmt: FORMAT_OPTION = OutputFormat.table,
) -> None:
    """List the scenarios in DIR (default ./scenarios) with name and description, then any
    unfinished (killed) runs under --out with the command that resumes them."""
    from ..scenario import load_scenario_with_warnings

    if not directory.is_dir():
        err(f"critmin: no such directory: {directory}")
        raise typer.Exit(EXIT_MISSING)
    rows = []
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            sc, _ = load_scenario_with_warnings(path)  # warnings: see critmin validate
            rows.append({"file": path.name, "name": sc.name, "valid": True,
                         "description": " ".join((sc.description or "").split())})
        except ScenarioError as exc:
            rows.append({"file": path.name, "name": None, "valid": False,
                         "description": f"INVALID ({len(exc.problems)} problem(s)): "
                                        f"see `critmin validate {path}`"})
    if fmt is not OutputFormat.table:
        print_rows(fmt, rows, ("file", "name", "description", "valid"))
        report_leftovers(out)
        return
    table = Table("File", "Name", "Description")
    for row in rows:
        table.add_row(row["file"], row["name"] or "-", row["description"])
    print_rich(table)
    report_leftovers(out)
