"""``--format table|csv|json`` of the commands that print a table (list, run, compare, sweep).

``table`` is the rich table for people; ``csv`` and ``json`` print the same rows, machine
readable, and nothing else on standard output (messages go to standard error). A rich table
printed to a pipe or a file (standard output not a terminal) is not wrapped or truncated to
80 columns: it is as wide as its content.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer

__all__ = ["FORMAT_OPTION", "OutputFormat", "print_rich", "print_rows", "say"]

WIDE = 100_000
"""Console width used when standard output is not a terminal: wider than any table."""


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FORMAT_OPTION = Annotated[OutputFormat, typer.Option(
    "--format", case_sensitive=False,
    help="table (default), or csv / json on standard output alone (messages on standard "
         "error).")]


def print_rich(renderable: Any) -> None:
    """Print a rich table on standard output: at the terminal's width, or unwrapped and
    untruncated when standard output is a pipe or a file."""
    from rich.console import Console

    wide = not sys.stdout.isatty()
    Console(soft_wrap=True, width=WIDE if wide else None).print(renderable, crop=not wide)


def say(fmt: OutputFormat, message: str) -> None:
    """A message that goes with a table: on standard output for ``table``, else on standard
    error (so csv / json output is the rows alone)."""
    typer.echo(message, err=fmt is not OutputFormat.table)


def _plain(value: Any) -> Any:
    """JSON-ready ``value``: numpy scalars as Python numbers, NaN and infinities as None."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_rows(fmt: OutputFormat, rows: Sequence[Mapping[str, Any]],
               columns: Sequence[str]) -> None:
    """Print ``rows`` (their ``columns``, in order) as CSV with a header or as a JSON list of
    objects; missing values are empty in CSV and null in JSON."""
    records = [{c: _plain(r.get(c)) for c in columns} for r in rows]
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
    elif fmt is OutputFormat.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows({c: ("" if v is None else v) for c, v in r.items()} for r in records)
    else:
        raise ValueError(f"print_rows prints csv or json, not {fmt}")
    sys.stdout.flush()
