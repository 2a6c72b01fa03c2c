"""Every script in docs/examples/ runs (in a subprocess, from the repository root).

A script naming ``(requires: PACKAGE)`` in its docstring is skipped when PACKAGE is not
installed.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "docs" / "examples").glob("*.py")
                  if p.name != "tiny_network.py")


def test_examples_exist():
    assert {p.name for p in EXAMPLES} >= {"ema_replicator.py", "salib_problemspec.py",
                                          "sweep_api.py"}


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script: Path):
    for package in re.findall(r"\(requires: (\w+)\)", script.read_text(encoding="utf-8")):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{package} is not installed")
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
