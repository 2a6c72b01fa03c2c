"""Damaged run folders are named, not a crash (issue 16, item 2): `critmin report` and
`critmin compare` verify the manifest's checksums and read every table with care; a damaged
or edited file exits 65 naming it (engine v1: a bad manifest or a truncated Parquet file
exited 70 "this is a bug"; an edited kpis.csv went unnoticed)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import critmin_in_process

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"


def critmin(*args: str) -> subprocess.CompletedProcess:
    """In-process: the exit codes and messages are the app's (its error mapping turns an
    unexpected exception into 70; the helper raises it instead)."""
    return critmin_in_process(*args)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    done = critmin("run", str(TINY), "-n", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    (folder,) = [p for p in out.glob("*/*") if p.is_dir()]
    return folder


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy)
    return copy


def _damage(kind: str, folder: Path) -> str:
    """Damage ``folder`` and return the file the message must name."""
    if kind == "manifest":
        (folder / "manifest.json").write_text("{not json", encoding="utf-8")
        return "manifest.json"
    if kind == "truncated_parquet":
        path = folder / "timeseries.parquet" / "part-00000.parquet"  # a folder of parts
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        return "timeseries.parquet/part-00000.parquet"
    if kind == "edited_kpis":
        path = folder / "kpis.csv"
        path.write_text(path.read_text(encoding="utf-8").replace("0.", "0.9", 1),
                        encoding="utf-8")
        return "kpis.csv"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["manifest", "truncated_parquet", "edited_kpis"])
def test_report_names_the_damaged_file(run_dir: Path, tmp_path: Path, kind: str) -> None:
    folder = _copy(run_dir, tmp_path)
    name = _damage(kind, folder)
    out = critmin("report", str(folder))
    assert out.returncode == 65, (out.returncode, out.stderr)
    assert "damaged run folder" in out.stderr and name in out.stderr
    assert "Traceback" not in out.stderr and "bug" not in out.stderr
    assert not (folder / "report.html").exists()


def test_compare_names_the_damaged_file(run_dir: Path, tmp_path: Path) -> None:
    good, bad = _copy(run_dir, tmp_path / "a"), _copy(run_dir, tmp_path / "b")
    _damage("edited_kpis", bad)
    out = critmin("compare", str(good), str(bad), "--out", str(tmp_path / "cmp"))
    assert out.returncode == 65, (out.returncode, out.stderr)
    assert "kpis.csv" in out.stderr and "Traceback" not in out.stderr


def test_an_intact_folder_reads_and_its_manifest_lists_every_file(run_dir: Path,
                                                                  tmp_path: Path) -> None:
    folder = _copy(run_dir, tmp_path)
    listed = {f["name"] for f in json.loads((folder / "manifest.json").read_text())["files"]}
    assert {"timeseries.parquet/part-00000.parquet", "kpis.csv",
            "prices.parquet/part-00000.parquet"} <= listed
    out = critmin("report", str(folder))
    assert out.returncode == 0, out.stderr


def test_every_damaged_file_is_named_at_once(run_dir: Path, tmp_path: Path) -> None:
    """All errors at once: two damaged files are both named, so one fix-and-retry suffices."""
    folder = _copy(run_dir, tmp_path)
    _damage("truncated_parquet", folder)
    _damage("edited_kpis", folder)
    out = critmin("report", str(folder))
    assert out.returncode == 65, (out.returncode, out.stderr)
    assert "timeseries.parquet/part-00000.parquet" in out.stderr and "kpis.csv" in out.stderr, \
        out.stderr
