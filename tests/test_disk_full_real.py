"""A real full disk, not a simulated ENOSPC: ``critmin run`` into a small tmpfs stops with
exit 74 naming the kept staging folder; after the file system grows, ``--resume`` finishes
the run and its files are those of a run that never stopped.

Needs root and a kernel that lets this process mount a tmpfs (skipped otherwise)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
ARGS = ["-n", "40", "--seed", "2", "-j", "1"]


def _critmin(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "simulator", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def small_disk(tmp_path):
    """A 128 KiB tmpfs (a tiny run needs ~250 KiB), unmounted afterwards."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.mark.slow
def test_a_full_disk_keeps_the_finished_work_and_resume_completes_it(tmp_path, small_disk):
    full = _critmin("run", str(TINY), *ARGS, "--out", str(small_disk / "out"))
    assert full.returncode == 74, full.stdout + full.stderr
    assert "Traceback" not in full.stderr and "No space left on device" in full.stderr
    (staging,) = (small_disk / "out" / "tiny").iterdir()
    assert staging.name.startswith(".")  # nothing published
    assert f"resume with: critmin run --resume {staging}" in " ".join(full.stderr.split())
    saved = len((staging / "journal.jsonl").read_text().splitlines())
    assert 1 <= saved < 40

    grown = subprocess.run(["mount", "-o", "remount,size=4m", str(small_disk)],
                           capture_output=True, text=True)
    assert grown.returncode == 0, grown.stderr
    resumed = _critmin("run", "--resume", str(staging))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    (run_dir,) = (small_disk / "out" / "tiny").iterdir()
    assert not run_dir.name.startswith(".")

    reference = _critmin("run", str(TINY), *ARGS, "--out", str(tmp_path / "ref"))
    assert reference.returncode == 0, reference.stderr
    (ref_dir,) = (tmp_path / "ref" / "tiny").iterdir()

    def files(d: Path) -> dict[str, str]:
        return {f["name"]: f["sha256"] for f in
                json.loads((d / "manifest.json").read_text())["files"]}

    assert files(run_dir) == files(ref_dir)  # every table, CSV and figure byte-identical
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["replications_completed"] == 40
