"""The package layering (issue 13): the engine and the runner compute and return data, the
presentation layers (viz, report, cli, app) draw and print it; the command line is a thin
``simulator/cli/`` package. Checked on the import statements (ast), so no import can slip in
at module level or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIMULATOR = Path(__file__).resolve().parents[1] / "simulator"

#: Modules the data layers (engine, runner) must not import.
PRESENTATION = ("simulator.viz", "simulator.report", "simulator.cli", "simulator.app",
                "typer", "rich", "matplotlib", "dash")
#: Most lines in a module of the command-line package.
CLI_MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SIMULATOR.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _offending(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(name for name in imported(path)
                  if any(name == f or name.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("layer", ["engine", "runner"])
def test_data_layers_import_no_presentation(layer: str) -> None:
    bad = {str(p.relative_to(SIMULATOR)): _offending(p, PRESENTATION)
           for p in sorted((SIMULATOR / layer).rglob("*.py"))}
    assert not {k: v for k, v in bad.items() if v}


def test_cli_is_a_thin_package() -> None:
    assert not (SIMULATOR / "cli.py").exists()
    modules = sorted((SIMULATOR / "cli").glob("*.py"))
    assert modules
    long = {p.name: n for p in modules
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > CLI_MAX_LINES}
    assert not long


def test_only_the_cli_imports_the_cli() -> None:
    """The library (api, comparison, report...) never calls back into the command line."""
    users = sorted(str(p.relative_to(SIMULATOR)) for p in SIMULATOR.rglob("*.py")
                   if p.parent.name != "cli" and p.name != "__main__.py"
                   and _offending(p, ("simulator.cli", "typer")))
    assert users == []


def test_imported_resolves_relative_imports() -> None:
    names = imported(SIMULATOR / "api.py")
    assert "simulator.scenario" in names
    assert "simulator.engine.run_replication" in names
