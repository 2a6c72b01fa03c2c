"""Command-line habits an analyst expects (issue 13, item 6)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys


def test_version() -> None:
    """`critmin --version` was "No such option" (exit 2)."""
    out = subprocess.run([sys.executable, "-m", "simulator", "--version"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"critmin {importlib.metadata.version('critmin')} (Python 3.")
