"""The ``critmin`` typer app: its global options (``--version``) and the console-script entry
point; the commands register themselves on :data:`app` (:mod:`simulator.cli`)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .common import interrupted

__all__ = ["app", "main"]

app = typer.Typer(
    name="critmin", add_completion=False, no_args_is_help=True,
    pretty_exceptions_enable=False, rich_markup_mode=None,
    help="Discrete-event simulator of critical-mineral supply chains: who runs short of what.",
)


def _version(value: bool) -> None:
    if value:
        from ..version import package_version

        typer.echo(f"critmin {package_version()} (Python {sys.version.split()[0]})")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print critmin's version and exit.")] = False) -> None:
    """Discrete-event simulator of critical-mineral supply chains: who runs short of what."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from ..runner.signals import stop_signals

    try:
        with stop_signals():  # SIGTERM and SIGHUP stop a command as Ctrl-C does
            app(args=argv, prog_name="critmin")
    except KeyboardInterrupt as exc:
        sys.exit(interrupted(exc))
