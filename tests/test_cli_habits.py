"""Command-line habits an analyst expects (issue 13, item 6)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest


def test_version() -> None:
    """`critmin --version` was "No such option" (exit 2)."""
    out = subprocess.run([sys.executable, "-m", "simulator", "--version"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"critmin {importlib.metadata.version('critmin')} (Python 3.")


def _critmin(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


@pytest.mark.parametrize("args", [
    ("run", "nonexistent.yaml"),
    ("validate", "nonexistent.yaml"),
    ("compare", "nonexistent.yaml", "nonexistent.yaml"),
    ("sweep", "nonexistent.yaml"),
    ("sweep", "nonexistent.yaml", "--param", "demand.growth_pa=0,0.1"),
    ("report", "nonexistent.yaml"),
])
def test_missing_file_says_no_such_file(args: tuple[str, ...], tmp_path) -> None:
    """A missing file read ``nonexistent.yaml:0:0: <root>: scenario file not found: ...``
    (run, validate), needed --param (sweep), or had other wordings (compare, report)."""
    out = _critmin(*args, cwd=tmp_path)
    assert out.returncode == 66, out.stderr
    assert out.stderr.strip() == "nonexistent.yaml: no such file"
    assert out.stdout == ""
