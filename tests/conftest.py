"""Shared test helpers: small scenarios built in Python."""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from simulator.scenario.checks import check_scenario
from simulator.scenario.models import Scenario

# With PYTHONDONTWRITEBYTECODE set (some sandboxes and CI images), every `python -m simulator`
# the tests start compiled the whole package from source again (~0.15-0.2 s CPU of each
# ~1 s start; the suite starts a few hundred). Subprocesses keep their bytecode in a cache
# under the temp folder instead: the source tree still gets no __pycache__. So does this
# process (each xdist worker), for what it imports from here on: pytest rewrote the asserts
# of every test module, and Python compiled the package, again in each worker at every run
# (collection 8.7 -> 3.7 s CPU per worker once the cache is warm).
if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
    os.environ["PYTHONPYCACHEPREFIX"] = str(
        Path(tempfile.gettempdir()) / f"critmin-tests-pycache-{os.getuid()}")
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    sys.pycache_prefix = os.environ["PYTHONPYCACHEPREFIX"]
    sys.dont_write_bytecode = False

CHAIN: dict[str, Any] = {
    "name": "chain",
    "start_date": "2024-01-01",
    "end_date": "2026-01-01",
    "simulation": {"step_days": 7, "warmup_days": 182},
    "stages": ["mine", "separation"],
    "countries": {"AU": {"name": "Australia"}, "MY": {"name": "Malaysia"},
                  "JP": {"name": "Japan"}},
    "materials": {"ore": {"stage": "mine"}, "oxide": {"stage": "separation"}},
    "recipes": {
        "mining": {"stage": "mine", "outputs": {"ore": 1.0}},
        "refining": {"stage": "separation", "inputs": {"ore": 1.0}, "outputs": {"oxide": 0.8}},
    },
    "facilities": {
        "au_mine": {"country": "AU", "recipe": "mining", "capacity_tpy": 2000},
        "my_refinery": {"country": "MY", "recipe": "refining", "capacity_tpy": 2000},
    },
    "demand": {"jp_ev": {"country": "JP", "sector": "ev", "material": "oxide",
                         "rate_tpy": 1000, "cover_days": 30}},
    "sourcing": {
        "my_ore": {"country": "MY", "material": "ore", "suppliers": {"AU": 1.0}},
        "jp_oxide": {"country": "JP", "material": "oxide", "suppliers": {"MY": 1.0}},
    },
    "lead_times": {"domestic_days": 7, "default_days": 21, "lanes": {"MY": {"JP": 7}}},
}


def run_file_digests(run_dir: Path) -> dict[str, str]:
    """sha256 of every file in a run folder but its manifest, by path in the folder (a table is
    a folder of parts: ``timeseries.parquet/part-00000.parquet``...)."""
    import hashlib

    return {p.relative_to(run_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run_dir.rglob("*")) if p.is_file() and p.name != "manifest.json"}


def load_module(path: Path, name: str | None = None) -> ModuleType:
    """Import the Python file at ``path`` (a script or docs extension, not a package
    module) as a module named ``name`` (default: the file's stem)."""
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def deep_update(base: dict, patch: dict) -> dict:
    """Recursively merge ``patch`` into a copy of ``base`` (a ``None`` value deletes a key)."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def make_scenario(data: dict | None = None, **patch: Any) -> Scenario:
    """A validated scenario from ``data`` (default: the 3-node chain) patched by ``patch``.

    Fails the test if the result has cross-reference problems.
    """
    s = Scenario.model_validate(deep_update(data or CHAIN, patch))
    problems = check_scenario(s)
    assert not problems, problems
    return s


@pytest.fixture
def chain() -> Scenario:
    return make_scenario()


def critmin_in_process(*args: str, cwd: str | os.PathLike[str] | None = None,
                       ) -> subprocess.CompletedProcess[str]:
    """``critmin ARGS`` run in this process: the real app, its exit code and its two streams
    (typer's CliRunner), as ``subprocess.run(..., capture_output=True, text=True)`` returns
    them, without a new interpreter (~1 s CPU of imports each). For tests whose point is
    not a real process (signals, kills, what the interpreter prints, memory): those keep
    ``python -m simulator``. An exception the app does not turn into an exit code is raised.
    Give ``-j 1`` to runs that are not tiny: a pool the default ``-j`` starts from here is a
    forkserver's (pytest-xdist runs threads), whose workers import the package again.
    """
    from typer.testing import CliRunner

    from simulator.cli import app

    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        result = CliRunner(env={"CRITMIN_DEBUG": None}).invoke(app, list(args),
                                                              prog_name="critmin")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["critmin", *args], result.exit_code, result.stdout,
                                       result.stderr)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules with a test marked ``slow`` run first, each kept whole (a module-scoped fixture
    is set up once), in collection order otherwise: with two xdist workers, a long test
    collected last would run alone while the other worker idles at the end."""
    slow = {item.module for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.module not in slow)
