"""Runs that survive a crash (issue 14): a full disk, corrupt parts, ``critmin run --resume``.

Every finished replication is saved (checksummed part + fsync'd journal line) in the hidden
staging folder; a run stopped by a full disk or a SIGKILL is continued with ``--resume`` and
gives the same files, byte for byte, as a run that was never stopped.
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.runner import journal as journal_mod
from simulator.runner.tables import TABLES

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
N, SEED = 5, 3


def _cli(*args: str):
    return CliRunner().invoke(app, [*args])


def _files(run_dir: Path) -> dict[str, str]:
    """A run folder's files and their sha256, as its manifest lists them."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    return {f["name"]: f["sha256"] for f in manifest["files"]}


def assert_same_run(mine: Path, reference: Path) -> None:
    """Every table equal and every file of the manifest byte-identical."""
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(mine / f"{name}.parquet"),
                                      pd.read_parquet(reference / f"{name}.parquet"))
    assert _files(mine) == _files(reference)
    m = json.loads((mine / "manifest.json").read_text())
    assert m["status"] == "complete" and m["replications_completed"] == N
    assert sorted(p.relative_to(mine).as_posix() for p in mine.rglob("*") if p.is_file()) == \
        sorted([*_files(mine), "manifest.json"])


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref")
    result = _cli("run", str(TINY), "-n", str(N), "--seed", str(SEED), "-j", "1",
                  "--out", str(out))
    assert result.exit_code == 0, result.output
    (run_dir,) = (out / "tiny").iterdir()
    return run_dir


def _full_disk_after(monkeypatch, writes: int) -> list[Path]:
    """Let ``writes`` atomic writes through (run.json is the first), then ENOSPC."""
    real, calls = journal_mod.write_atomic, []

    def write_atomic(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) > writes:
            path.with_name(f".{path.name}.tmp").write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(journal_mod, "write_atomic", write_atomic)
    return calls


def _killed_run(tmp_path: Path, monkeypatch, scenario: Path = TINY, saved: int = 2) -> Path:
    """A run stopped by a full disk after ``saved`` replications: its staging folder."""
    _full_disk_after(monkeypatch, 1 + saved)
    out = tmp_path / "out"
    result = _cli("run", str(scenario), "-n", str(N), "--seed", str(SEED), "-j", "1",
                  "--out", str(out))
    monkeypatch.undo()
    assert result.exit_code == 74, result.output
    (staging,) = (out / "tiny").iterdir()
    return staging


def test_full_disk_exits_74_and_keeps_finished_work(tmp_path, monkeypatch, reference):
    staging = _killed_run(tmp_path, monkeypatch)
    # nothing visible: only the hidden staging folder, with two journaled replications
    assert staging.name.startswith(".") and ".tmp-" in staging.name
    lines = (staging / "journal.jsonl").read_text().splitlines()
    assert [json.loads(line)["replication"] for line in lines] == [0, 1]
    assert sorted(p.name for p in (staging / "parts").glob("r*.part")) == [
        "r000000.part", "r000001.part"]

    result = _cli("run", "--resume", str(staging), "-j", "1")
    assert result.exit_code == 0, result.output
    assert "2 of 5 replication(s) saved" in result.output
    (run_dir,) = (tmp_path / "out" / "tiny").iterdir()  # published; staging folder gone
    assert_same_run(run_dir, reference)


def test_resumed_run_writes_the_same_part_files(tmp_path, monkeypatch):
    """With a small part limit (several part files per table), a resumed run's parts are
    byte-identical to those of a run never stopped."""
    from simulator.runner import store

    def limits() -> None:
        monkeypatch.setattr(store, "ROW_GROUP_MIN_ROWS", 1)  # a row group per replication
        monkeypatch.setattr(store, "PART_ROW_GROUPS", 2)     # two per part: 3 parts for 5

    limits()
    ref = _cli("run", str(TINY), "-n", str(N), "--seed", str(SEED), "-j", "1",
               "--out", str(tmp_path / "ref"))
    assert ref.exit_code == 0, ref.output
    (reference,) = (tmp_path / "ref" / "tiny").iterdir()
    monkeypatch.undo()
    staging = _killed_run(tmp_path, monkeypatch)
    limits()
    result = _cli("run", "--resume", str(staging), "-j", "1")
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "out" / "tiny").iterdir()
    assert sorted(f for f in _files(run_dir) if f.startswith("timeseries")) == [
        f"timeseries.parquet/part-0000{i}.parquet" for i in range(3)]
    assert_same_run(run_dir, reference)


def test_full_disk_message_names_the_resume_command(tmp_path, monkeypatch):
    _full_disk_after(monkeypatch, 2)
    result = _cli("run", str(TINY), "-n", "3", "-j", "1", "--out", str(tmp_path))
    assert result.exit_code == 74, result.output
    (staging,) = (tmp_path / "tiny").iterdir()
    assert "No space left on device" in result.output
    assert f"resume with: critmin run --resume {staging}" in result.output
    assert "Traceback" not in result.output


def test_full_disk_before_any_replication_leaves_nothing(tmp_path, monkeypatch):
    _full_disk_after(monkeypatch, 1)
    result = _cli("run", str(TINY), "-n", "2", "-j", "1", "--out", str(tmp_path))
    assert result.exit_code == 74, result.output
    assert list((tmp_path / "tiny").iterdir()) == []


def test_corrupt_part_and_journal_line_are_named_and_rerun(tmp_path, monkeypatch, reference):
    staging = _killed_run(tmp_path, monkeypatch)
    part = staging / "parts" / "r000001.part"
    data = bytearray(part.read_bytes())
    data[100:110] = bytes(10)  # flip bytes in the middle
    part.write_bytes(bytes(data))
    with (staging / "journal.jsonl").open("a") as f:
        f.write('{"replication": 2, "part": "r0000')  # a torn line

    result = _cli("run", "--resume", str(staging), "-j", "1")
    assert result.exit_code == 0, result.output
    assert (f"{part}: sha256 does not match the journal (corrupt); replication 1 will be "
            "run again") in result.output
    assert "journal.jsonl:3: unreadable journal line (ignored)" in result.output
    assert "1 of 5 replication(s) saved" in result.output
    (run_dir,) = (tmp_path / "out" / "tiny").iterdir()
    assert_same_run(run_dir, reference)


def test_truncated_part_is_rerun(tmp_path, monkeypatch, reference):
    staging = _killed_run(tmp_path, monkeypatch)
    part = staging / "parts" / "r000000.part"
    part.write_bytes(part.read_bytes()[:1000])
    result = _cli("run", "--resume", str(staging), "-j", "1")
    assert result.exit_code == 0, result.output
    assert f"{part}: sha256 does not match" in result.output
    assert_same_run(next((tmp_path / "out" / "tiny").iterdir()), reference)


def test_resume_refuses_a_changed_scenario(tmp_path, monkeypatch):
    scenario = tmp_path / "tiny.yaml"
    shutil.copy(TINY, scenario)
    staging = _killed_run(tmp_path, monkeypatch, scenario)
    scenario.write_text(TINY.read_text() + "\ndescription: edited\n")

    result = _cli("run", "--resume", str(staging))
    assert result.exit_code == 65, result.output
    assert "refusing to resume" in result.output and str(scenario) in result.output
    assert staging.is_dir()  # still there, untouched
    assert len((staging / "journal.jsonl").read_text().splitlines()) == 2


def test_resume_refuses_a_run_started_by_another_model(tmp_path, monkeypatch):
    """Saved replications of another version of the model would mix with this one's."""
    import simulator.fingerprint

    staging = _killed_run(tmp_path, monkeypatch)
    state = json.loads((staging / "run.json").read_text())
    assert state["model"] == simulator.fingerprint.model_fingerprint()
    monkeypatch.setattr(simulator.fingerprint, "model_fingerprint", lambda: "0123456789abcdef")
    result = _cli("run", "--resume", str(staging))
    assert result.exit_code == 65, result.output
    assert "another version of critmin's model" in " ".join(result.output.split())
    assert state["model"] in result.output and "0123456789abcdef" in result.output
    assert len((staging / "journal.jsonl").read_text().splitlines()) == 2  # untouched


def test_resume_takes_no_scenario_options(tmp_path, monkeypatch):
    staging = _killed_run(tmp_path, monkeypatch)
    result = _cli("run", "--resume", str(staging), "-n", "7")
    assert result.exit_code == 2, result.output
    assert "--resume" in result.output


def test_resume_of_a_folder_that_is_not_a_run(tmp_path):
    result = _cli("run", "--resume", str(tmp_path))
    assert result.exit_code == 65, result.output
    assert "not a resumable run" in result.output
    assert _cli("run", "--resume", str(tmp_path / "nope")).exit_code == 66


def test_leftover_runs_are_listed_with_the_resume_command(tmp_path, monkeypatch):
    staging = _killed_run(tmp_path, monkeypatch)
    state = json.loads((staging / "run.json").read_text())
    state["pid"] = 2 ** 22 + 1  # beyond pid_max: a writer that is gone
    (staging / "run.json").write_text(json.dumps(state))
    hint = f"unfinished run {staging} (2 of 5 replication(s) saved); resume it with: " \
           f"critmin run --resume {staging}"

    listed = _cli("list", str(ROOT / "scenarios"), "--out", str(tmp_path / "out"))
    assert listed.exit_code == 0, listed.output
    assert hint in listed.output
    run = _cli("run", str(TINY), "--out", str(tmp_path / "out"), "-j", "1")
    assert run.exit_code == 0, run.output
    assert hint in run.output


def test_a_library_run_folder_is_not_offered_for_resume(tmp_path):
    """RunWriter used from Python (no scenario file) leaves a staging folder that critmin
    neither lists nor tries to resume."""
    from simulator.runner import RunWriter
    from simulator.scenario import load_scenario

    writer = RunWriter(load_scenario(TINY), out_root=tmp_path)
    writer.__enter__()
    state = json.loads((writer.tmp / "run.json").read_text())
    state["pid"] = 2 ** 22 + 1
    (writer.tmp / "run.json").write_text(json.dumps(state))
    assert list(journal_mod.leftovers(tmp_path)) == []
    result = _cli("run", "--resume", str(writer.tmp))
    assert result.exit_code == 65 and "not a resumable run" in result.output, result.output
    writer.abort()


class _Boom:
    """Unpickling this would create ``marker`` (a stand-in for running any code)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _craft_pickle_part(staging: Path, replication: int, marker: Path) -> Path:
    """Replace a part with a zstd pickle (the old part format) whose unpickling runs code,
    and rewrite its journal line so the sha256 matches: what a crafted folder would hold."""
    import hashlib
    import pickle

    import pyarrow as pa

    raw = pickle.dumps(_Boom(marker))
    data = pa.Codec("zstd").compress(raw, asbytes=True) + len(raw).to_bytes(8, "little")
    part = staging / "parts" / f"r{replication:06d}.part"
    part.write_bytes(data)
    journal = staging / "journal.jsonl"
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    for line in lines:
        if line["replication"] == replication:
            line.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    journal.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return part


def test_crafted_pickle_part_is_refused_by_path_and_never_unpickled(tmp_path, monkeypatch,
                                                                    reference):
    import pickle

    staging = _killed_run(tmp_path, monkeypatch)
    marker = tmp_path / "pwned"
    part = _craft_pickle_part(staging, 1, marker)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("a part was unpickled")

    monkeypatch.setattr(pickle, "loads", no_unpickling)
    monkeypatch.setattr(pickle, "load", no_unpickling)
    progress = journal_mod.read_progress(staging)
    assert 1 not in progress.parts and 0 in progress.parts
    assert any(p.startswith(f"{part}: refused: not a critmin part") for p in progress.problems)
    # loading it directly (a journal that says it checked out) is refused too, by path
    progress.parts[1] = (part.name, journal_mod.hashlib.sha256(part.read_bytes()).hexdigest())
    with pytest.raises(ValueError, match=str(part)):
        progress.load(1)
    monkeypatch.undo()

    result = _cli("run", "--resume", str(staging), "-j", "1")
    assert result.exit_code == 0, result.output
    assert f"{part}: refused: not a critmin part" in result.output
    assert "replication 1 will be run again" in result.output
    assert not marker.exists()
    assert_same_run(next((tmp_path / "out" / "tiny").iterdir()), reference)


def test_part_with_the_right_magic_but_a_pickle_inside_is_refused(tmp_path, monkeypatch):
    from simulator.runner import codec

    staging = _killed_run(tmp_path, monkeypatch)
    marker = tmp_path / "pwned"
    part = _craft_pickle_part(staging, 0, marker)
    data = codec.MAGIC + part.read_bytes()
    part.write_bytes(data)
    progress = journal_mod.read_progress(staging)
    progress.parts[0] = (part.name, journal_mod.hashlib.sha256(data).hexdigest())
    with pytest.raises(codec.PartError, match=str(part)):
        progress.load(0)
    assert not marker.exists()
