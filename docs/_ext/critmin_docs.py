"""Sphinx extension of the critmin docs: generate the pages and figures that come from code.

At ``builder-inited`` (every build, before any page is read) it writes into ``docs/_generated/``
(git-ignored):

- ``scenario-reference.md`` from the pydantic models (``scenario_reference.py``);
- ``cli-reference.md`` from the Typer app (``cli_reference.py``);
- ``baseline-network.png``, the network of ``scenarios/baseline.yaml`` (``network_diagram.py``);
- ``quickstart-fill-rate.png``, the figure of the quickstart's second run (:data:`QUICKSTART`),
  which ``tests/test_docs_site.py`` checks is the command the page shows.

Files are only rewritten when their content changes, so incremental builds stay incremental.

It also lets pages mention pages that other work adds later: a line ending in
``<!-- needs: NAME -->`` is kept (without the marker) when ``docs/NAME.md`` exists and dropped
otherwise, so the build never fails on a page that is not there yet.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import cli_reference  # noqa: E402
import network_diagram  # noqa: E402
import scenario_reference  # noqa: E402

#: The quickstart's run with a shock: scenario, replications, seed, --set overrides.
QUICKSTART = ("scenarios/china_controls_2025_04.yaml", 5, 1, ("end_date=2026-01-01",))


def quickstart_command() -> str:
    path, n, seed, sets = QUICKSTART
    return f"critmin run {path} -n {n} --seed {seed}" + "".join(f" --set {s}" for s in sets)


def quickstart_figure(root: Path) -> bytes:
    """The ``fill_rate.png`` that :func:`quickstart_command` writes."""
    import tempfile

    from simulator.api import write_run_folder
    from simulator.runner import run_scenario
    from simulator.scenario import load_scenario

    path, n, seed, sets = QUICKSTART
    scenario = load_scenario(root / path, overrides=list(sets))
    results = run_scenario(scenario, n, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = write_run_folder(results, scenario, out_root=tmp, seed=seed,
                                   replications=n, overrides=list(sets))
        return (run_dir / "fill_rate.png").read_bytes()


NEEDS = re.compile(r"\s*<!-- needs: ([\w./-]+) -->\s*$")


def write_if_changed(path: Path, data: str | bytes) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if path.exists() and path.read_bytes() == raw:
        return False
    path.write_bytes(raw)
    return True


#: Reference pages kept in the repository, so they read in a checkout (and on GitHub) too:
#: path under docs/ -> function that renders it. ``tests/test_docs_site.py`` fails when one
#: is stale; ``python docs/_ext/critmin_docs.py`` rewrites them.
REFERENCE_PAGES = {"reference/scenario.md": scenario_reference.render,
                   "reference/cli.md": cli_reference.render}


def write_reference_pages(srcdir: Path) -> list[Path]:
    """Rewrite the reference pages that differ from what the code renders; the changed
    ones."""
    return [srcdir / rel for rel, render in REFERENCE_PAGES.items()
            if write_if_changed(srcdir / rel, render())]


def generate(srcdir: Path) -> list[Path]:
    """Write the reference pages and every generated file under ``srcdir/_generated``;
    returns the changed ones."""
    gen = srcdir / "_generated"
    changed = write_reference_pages(srcdir)
    tmp = gen / "baseline-network.tmp.png"
    network_diagram.write_network_png(srcdir.parent / "scenarios" / "baseline.yaml", tmp)
    if write_if_changed(gen / "baseline-network.png", tmp.read_bytes()):
        changed.append(gen / "baseline-network.png")
    tmp.unlink()
    if write_if_changed(gen / "quickstart-fill-rate.png", quickstart_figure(srcdir.parent)):
        changed.append(gen / "quickstart-fill-rate.png")
    return changed


def resolve_needs(text: str, srcdir: Path) -> str:
    """Drop lines marked ``<!-- needs: NAME -->`` whose page is missing; unmark the others."""
    out = []
    for line in text.split("\n"):
        m = NEEDS.search(line)
        if m is None:
            out.append(line)
        elif (srcdir / f"{m.group(1)}.md").exists():
            out.append(line[: m.start()])
    return "\n".join(out)


def _builder_inited(app: Any) -> None:
    generate(Path(app.srcdir))


def _source_read(app: Any, docname: str, source: list[str]) -> None:
    if "<!-- needs:" in source[0]:
        source[0] = resolve_needs(source[0], Path(app.srcdir))


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _builder_inited)
    app.connect("source-read", _source_read)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    for path in write_reference_pages(HERE.parent):
        print(f"rewrote {path.relative_to(HERE.parent.parent)}")
