"""What ``critmin run`` and ``critmin compare`` do is a library call (issue 13): the run folder
with its figures (:func:`simulator.runs.execute_run`) and the comparison folder
(:func:`simulator.comparison.compare_runs`), callable without typer or rich."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.comparison import CompareError, compare_runs
from simulator.exit_codes import EXIT_USAGE
from simulator.report.run_figures import RUN_FILES
from simulator.runner import SequentialEvaluator
from simulator.runs import RunEvents, execute_run
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"


def test_the_library_needs_no_cli() -> None:
    code = ("import sys, simulator.api, simulator.runs, simulator.comparison; "
            "bad = [m for m in ('typer', 'rich', 'simulator.cli') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("results")
    sc = load_scenario(TINY)
    dirs = []
    for _ in range(2):
        done = execute_run(sc, [0, 1], 3, SequentialEvaluator(), out, state={"seed": 3})
        assert done.stopped is None and done.kept is None and done.late_signal is None
        dirs.append(done.run_dir)
    return dirs


def test_execute_run_writes_the_whole_run_folder(runs) -> None:
    (run_dir, _) = runs
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(RUN_FILES)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["replications_completed"] == 2
    assert isinstance(RunEvents(), RunEvents)


def test_compare_runs_writes_the_comparison_folder(runs, tmp_path) -> None:
    said: list[str] = []
    done = compare_runs(runs, out=tmp_path / "cmp", notify=said.append)
    assert done.folder == tmp_path / "cmp"
    assert {"kpis.csv", "pairs.csv", "compare.json", "report.html"} <= {
        p.name for p in done.folder.iterdir()}
    assert all(p.exists() for p in done.figures) and done.report.exists()
    assert [i.run_dir for i in done.inputs] == runs
    assert set(done.kpis["scenario"]) == {i.name for i in done.inputs}
    assert said[:len(done.notes)] == done.notes  # the notes, then any others
    assert not list(tmp_path.glob(".cmp.tmp-*"))  # published whole


def test_compare_runs_errors_carry_their_exit_code(runs, tmp_path) -> None:
    with pytest.raises(CompareError) as bad:
        compare_runs(runs, out=tmp_path / "cmp", sectors=["no_such_sector"])
    assert bad.value.code == EXIT_USAGE and "--sector" in str(bad.value)
    assert not (tmp_path / "cmp").exists()
    with pytest.raises(CompareError, match="at least two"):
        compare_runs(runs[:1])
