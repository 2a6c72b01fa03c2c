"""``critmin app``: the workbench in the browser (docs/app.md; needs the ``app`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..exit_codes import EXIT_UNAVAILABLE
from .common import err, guarded
from .root import app

__all__ = ["app_"]


@app.command("app")
@guarded
def app_(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8050,
    no_browser: Annotated[bool, typer.Option("--no-browser",
                                             help="Do not open a browser.")] = False,
    scenarios: Annotated[Path, typer.Option("--scenarios", metavar="DIR",
                                            help="Folder of scenarios to list.")] = Path(
        "scenarios"),
    out: Annotated[Path, typer.Option("--out", metavar="DIR",
                                      help="Results root of the runs.")] = Path("results"),
    workers: Annotated[int | None, typer.Option(
        "-j", "--workers", min=1, help="Worker processes (default: all cores).")] = None,
) -> None:
    """Open the workbench: tweak a scenario, run it, compare it with a reference (docs/app.md)."""
    try:
        from ..app import serve
        from ..app.server import create_app  # noqa: F401  (fails early without the extra)
    except ImportError as exc:
        err(f"critmin: error: the app needs its extra: pip install 'critmin[app]' ({exc})")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    serve(host, port, open_browser=not no_browser, scenarios=scenarios, out=out,
          workers=workers)
