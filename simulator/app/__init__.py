"""``critmin app``: the analyst's workbench, a local web application (Dash) on loopback.

Open a scenario, change its numbers, run replications on the process pool with progress and
cancel, overlay the run against a pinned reference with paired differences, and save the tweak
as a scenario file; every run is a normal run folder and every figure on screen is the one a
CLI command (shown in the page) writes. Layout: :mod:`.params` (a tweak and its scenario file),
:mod:`.runs` (background runs through the public runner), :mod:`.views` (figures and numbers),
:mod:`.session` (the state), :mod:`.layout` and :mod:`.callbacks` (the page), :mod:`.server`.
Nothing is imported until :func:`serve` is called. See docs/app.md.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["serve"]


def serve(host: str = "127.0.0.1", port: int = 8050, *, open_browser: bool = True,
          scenarios: Path = Path("scenarios"), out: Path = Path("results"),
          workers: int | None = None) -> None:
    """Serve the workbench at ``http://host:port/`` until Ctrl-C (see :mod:`.server`)."""
    from .server import serve as _serve

    _serve(host, port, open_browser=open_browser, scenarios=scenarios, out=out,
           workers=workers)
