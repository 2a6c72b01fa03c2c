"""Shared test helpers: small scenarios built in Python."""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from simulator.scenario.checks import check_scenario
from simulator.scenario.models import Scenario

# With PYTHONDONTWRITEBYTECODE set (some sandboxes and CI images), every `python -m simulator`
# the tests start compiled the whole package from source again (~0.15-0.2 s CPU of each
# ~1 s start; the suite starts a few hundred). Subprocesses keep their bytecode in a cache
# under the temp folder instead: the source tree still gets no __pycache__.
if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
    os.environ["PYTHONPYCACHEPREFIX"] = str(
        Path(tempfile.gettempdir()) / f"critmin-tests-pycache-{os.getuid()}")
    del os.environ["PYTHONDONTWRITEBYTECODE"]

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
