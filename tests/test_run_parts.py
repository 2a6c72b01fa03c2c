"""Each run table is a folder of part files (issue 14, bounded memory): a Parquet writer keeps
every row group's metadata until its file closes, so the store begins a new part file every
``PART_ROW_GROUPS`` row groups. The folder reads back as the whole table, in replication order;
the manifest lists and verifies every part."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from simulator.report import DamagedRunFolder, load_run
from simulator.report.rundata import verify_manifest
from simulator.runner import RunWriter, run_scenario, store, write_run
from simulator.runner.tables import TABLES
from simulator.scenario import load_scenario
from tests.conftest import run_file_digests

TINY = Path(__file__).parent / "fixtures" / "tiny.yaml"
# a reserve, so that stockpiles.parquet has rows too
RESERVE = ("stockpiles.jp_reserve={country: JP, material: oxide, holdings_t: 1000, "
           "release: {threshold: 0.9, max_release_tpy: 500}}")
N = 12


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(TINY, overrides=["demand.jp_ev.rate_tpy=2500", RESERVE])


@pytest.fixture(scope="module")
def results(scenario):
    return run_scenario(scenario, N, seed=5)


@pytest.fixture(scope="module")
def single(tmp_path_factory, scenario, results) -> Path:
    """The run folder with the store's limits: one part per table."""
    return write_run(results, scenario, out_root=tmp_path_factory.mktemp("single"))


def _parts(run_dir: Path, table: str) -> list[str]:
    return sorted(p.name for p in (run_dir / f"{table}.parquet").iterdir())


def _small_parts(monkeypatch, per_part: int) -> None:
    monkeypatch.setattr(store, "ROW_GROUP_MIN_ROWS", 1)  # a row group per replication
    monkeypatch.setattr(store, "PART_ROW_GROUPS", per_part)


def test_a_small_run_is_one_part_per_table(single):
    for table in TABLES:
        assert _parts(single, table) == ["part-00000.parquet"], table


@pytest.mark.parametrize("per_part", [1, 5])
def test_several_parts_read_back_as_the_single_part_table(tmp_path, monkeypatch, scenario,
                                                          results, single, per_part):
    _small_parts(monkeypatch, per_part)
    run_dir = write_run(results, scenario, out_root=tmp_path)
    expected = -(-N // per_part)  # 12 parts (lexical order past part-00009), or 3
    for table in TABLES:
        parts = _parts(run_dir, table)
        if table == "prices":  # tiny has no market: no rows, one empty part (the schema)
            assert parts == ["part-00000.parquet"] and len(pd.read_parquet(
                run_dir / "prices.parquet")) == 0 == len(results.prices)
            continue
        assert parts == [f"part-{i:05d}.parquet" for i in range(expected)], table
        for i, part in enumerate(parts):  # each a complete file, the same schema, in order
            meta = pq.ParquetFile(run_dir / f"{table}.parquet" / part).metadata
            assert meta.num_row_groups == min(per_part, N - i * per_part)
            assert meta.schema.to_arrow_schema() == store.schema(table)
        whole = run_dir / f"{table}.parquet"
        back = pd.read_parquet(whole)
        pd.testing.assert_frame_equal(back, pd.read_parquet(single / f"{table}.parquet"))
        assert pq.read_table(whole).equals(pq.read_table(single / f"{table}.parquet"))
        # replication, then day (then the labels), as the run made them
        pd.testing.assert_frame_equal(back, getattr(results, table), check_categorical=False)
        assert back["replication"].is_monotonic_increasing
        assert str(back["date"].dtype) == "datetime64[ns]"
        assert back["material"].dtype == "category"
        assert len(back) > 0
        for _, rep in back.groupby("replication", observed=True):
            assert rep["day"].is_monotonic_increasing
    # a reader of the run folder sees the same tables
    run = load_run(run_dir, tables=("flows", "stockpiles"))
    ref = load_run(single, tables=("flows", "stockpiles"))
    pd.testing.assert_frame_equal(run.timeseries, ref.timeseries)
    pd.testing.assert_frame_equal(run.table("stockpiles"), ref.table("stockpiles"))


def test_streamed_and_in_memory_runs_write_the_same_parts(tmp_path, monkeypatch, scenario,
                                                          results):
    _small_parts(monkeypatch, 4)
    memory = write_run(results, scenario, out_root=tmp_path / "memory")
    with RunWriter(scenario, out_root=tmp_path / "streamed") as writer:
        streamed = writer.close(run_scenario(scenario, N, seed=5, sink=writer))
    assert run_file_digests(streamed) == run_file_digests(memory)
    assert _parts(streamed, "timeseries") == [f"part-0000{i}.parquet" for i in range(3)]


def test_the_manifest_lists_and_verifies_every_part(tmp_path, monkeypatch, scenario, results):
    _small_parts(monkeypatch, 5)
    run_dir = write_run(results, scenario, out_root=tmp_path)
    files = {f["name"]: f for f in json.loads((run_dir / "manifest.json").read_text())["files"]}
    on_disk = {p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*")
               if p.is_file() and p.name != "manifest.json"}
    assert set(files) == on_disk
    for table in TABLES:
        for i in range(1 if table == "prices" else 3):  # (no prices: one empty part)
            entry = files[f"{table}.parquet/part-{i:05d}.parquet"]
            path = run_dir / entry["name"]
            assert entry["bytes"] == path.stat().st_size
            assert entry["sha256"] == store.file_sha256(path)
    assert verify_manifest(run_dir)["status"] == "complete"


def _damaged(run_dir: Path, what: str) -> str:
    """Damage one part of ``run_dir``; the path (in the folder) the message must name."""
    folder = run_dir / "flows.parquet"
    if what == "corrupt":
        part = folder / "part-00001.parquet"
        data = bytearray(part.read_bytes())
        data[200:210] = bytes(10)
        part.write_bytes(bytes(data))
    elif what == "truncated":
        part = folder / "part-00002.parquet"
        part.write_bytes(part.read_bytes()[:100])
    elif what == "missing":
        part = folder / "part-00001.parquet"
        part.unlink()
    elif what == "added":  # another run's part: it would be read with the others
        part = folder / "part-00003.parquet"
        part.write_bytes((folder / "part-00000.parquet").read_bytes())
    else:
        raise AssertionError(what)
    return part.relative_to(run_dir).as_posix()


@pytest.mark.parametrize("what", ["corrupt", "truncated", "missing", "added"])
def test_a_damaged_part_is_named_by_its_path(tmp_path, monkeypatch, scenario, results, what):
    _small_parts(monkeypatch, 5)
    run_dir = write_run(results, scenario, out_root=tmp_path)
    name = _damaged(run_dir, what)
    with pytest.raises(DamagedRunFolder) as err:
        verify_manifest(run_dir)
    assert str(err.value).count("\n") == 0 and str(run_dir / name) in str(err.value)
    with pytest.raises(DamagedRunFolder, match=name):
        load_run(run_dir, tables=("flows",))


def test_hidden_files_in_a_table_folder_are_not_parts(tmp_path, scenario, results):
    run_dir = write_run(results, scenario, out_root=tmp_path)
    (run_dir / "timeseries.parquet" / ".DS_Store").write_bytes(b"x")  # Parquet readers skip it
    verify_manifest(run_dir)
    assert len(load_run(run_dir).timeseries) == len(results.timeseries)


def test_the_workbench_reads_one_group_of_a_folder_of_parts(tmp_path, monkeypatch, scenario,
                                                             results, single):
    from simulator.app.views import Group, RunView

    _small_parts(monkeypatch, 5)
    run_dir = write_run(results, scenario, out_root=tmp_path)
    group = Group("demand_id", "jp_ev", "jp_ev")
    view = RunView.from_folder(run_dir, group)
    ref = RunView.from_folder(single, group)
    assert view.replications == ref.replications == N
    assert len(view.timeseries) > 0
    pd.testing.assert_frame_equal(view.timeseries, ref.timeseries)


def test_a_run_folder_with_one_file_per_table_still_reads(tmp_path, scenario, results, single):
    """Run folders written before the parts held one Parquet file per table."""
    import shutil

    from simulator.app.views import Group, RunView

    old = tmp_path / single.name
    shutil.copytree(single, old)
    for table in TABLES:
        folder = old / f"{table}.parquet"
        part = (folder / "part-00000.parquet").rename(tmp_path / "part")
        folder.rmdir()
        part.rename(folder)  # the single file, where the folder was
    manifest = json.loads((old / "manifest.json").read_text())
    for entry in manifest["files"]:
        entry["name"] = entry["name"].removesuffix("/part-00000.parquet")
    (old / "manifest.json").write_text(json.dumps(manifest))
    assert (old / "timeseries.parquet").is_file()
    run, ref = load_run(old, tables=("stockpiles",)), load_run(single, tables=("stockpiles",))
    pd.testing.assert_frame_equal(run.timeseries, ref.timeseries)
    pd.testing.assert_frame_equal(run.table("stockpiles"), ref.table("stockpiles"))
    group = Group("demand_id", "jp_ev", "jp_ev")
    pd.testing.assert_frame_equal(RunView.from_folder(old, group).timeseries,
                                  RunView.from_folder(single, group).timeseries)
