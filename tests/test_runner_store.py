"""Replications, tidy frames and the atomic, reproducible results store."""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from simulator.api import write_run_folder
from simulator.report.run_figures import RUN_FILES
from simulator.runner import RunInterrupted, run_one, run_scenario, write_run
from simulator.runner import store as store_mod
from simulator.runner.store import DATA_FILES
from simulator.scenario import load_scenario, scenario_sha256
from tests.conftest import run_file_digests

TINY = Path(__file__).parent / "fixtures" / "tiny.yaml"
RUN_DIR = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}(-\d+)?$")

TS_COLUMNS = ["replication", "day", "date", "country", "sector", "demand_id", "material",
              "demand_t", "delivered_t", "shortfall_t", "inventory_t", "stockpile_t",
              "destroyed_t", "thrifted_t"]
FLOW_COLUMNS = ["replication", "day", "date", "origin", "destination", "material", "tonnes"]
PRODUCTION_COLUMNS = ["replication", "day", "date", "facility", "country", "stage", "material",
                      "tonnes"]
STOCKPILE_COLUMNS = ["replication", "day", "date", "stockpile", "country", "material",
                     "holdings_t", "released_t", "bought_t"]
FILES = {"scenario.resolved.yaml", "manifest.json", "timeseries.parquet", "flows.parquet",
         "production.parquet", "stockpiles.parquet", "prices.parquet", "balance.csv",
         "kpis.csv", "summary.csv", "metrics.csv", "metrics_summary.csv", "projects.csv",
         "fill_rate.png",
         "fill_rate.svg"}
assert set(RUN_FILES) == FILES and RUN_FILES[-1] == DATA_FILES[-1] == "manifest.json"
PARQUET = {n for n in FILES if n.endswith(".parquet")}  # folders of part files


@pytest.fixture(scope="module")
def tiny():
    # short of supply so the KPIs and figures have something to show
    return load_scenario(TINY, overrides=["demand.jp_ev.rate_tpy=2500"])


@pytest.fixture(scope="module")
def results(tiny):
    return run_scenario(tiny, replications=2, seed=11)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_frames_have_run_columns(tiny, results):
    assert list(results.timeseries.columns) == TS_COLUMNS
    assert list(results.flows.columns) == FLOW_COLUMNS
    assert list(results.production.columns) == PRODUCTION_COLUMNS
    for df in (results.timeseries, results.flows, results.production):
        assert df["replication"].dtype == np.int32
        assert df["day"].dtype == np.int32
        assert df["date"].dtype == np.dtype("datetime64[ns]")
        expected = pd.Timestamp(tiny.start_date) + pd.to_timedelta(df["day"], unit="D")
        assert (df["date"] == expected).all()
        assert sorted(df["replication"].unique()) == [0, 1]
        assert isinstance(df.index, pd.RangeIndex)
    ts = results.timeseries
    assert ts["day"].min() == 0 and ts["day"].max() < tiny.horizon_days
    keys = ts[["replication", "day", "demand_id"]].astype(str).agg("|".join, axis=1)
    assert keys.is_unique


def test_rows_sorted_by_replication_day_labels(results):
    ts = results.timeseries
    order = ts.sort_values(["replication", "day", "country", "sector", "demand_id"],
                           kind="stable").index
    assert list(order) == list(ts.index)


def test_run_results_bookkeeping(results):
    assert results.replications == 2 and results.complete
    assert len(results.event_counts) == 2 and all(n > 0 for n in results.event_counts)
    assert len(results.wall_seconds) == 2
    assert set(results.balance) == {0, 1}
    table = results.balance_table()
    assert list(table.columns[:2]) == ["replication", "material"]
    assert table["ok"].all()
    assert results.started_at is not None and results.finished_at >= results.started_at


def test_replication_matches_single_run(tiny, results):
    alone = run_one(tiny, seed=11, replication=1)
    rep1 = results.timeseries[results.timeseries["replication"] == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone.timeseries.reset_index(drop=True), rep1,
                                  check_categorical=False)


def test_run_one_is_picklable_for_process_pools(tiny):
    frames = pickle.loads(pickle.dumps(run_one(tiny, 0, 0)))
    assert frames.replication == 0 and len(frames.timeseries) > 0
    assert pickle.loads(pickle.dumps(run_one)) is run_one


def test_write_run_layout_and_manifest(tmp_path, tiny, results):
    run_dir = write_run_folder(results, tiny, out_root=tmp_path, seed=11, replications=2,
                               overrides=["demand.jp_ev.rate_tpy=2500"], version="9.9.9")
    assert run_dir.parent == tmp_path / "tiny"
    assert RUN_DIR.match(run_dir.name), run_dir.name
    assert run_dir.name.endswith(scenario_sha256(tiny)[:8])
    assert {p.name for p in run_dir.iterdir()} == FILES
    # nothing else left next to it: the temp folder was renamed, not copied
    assert [p.name for p in (tmp_path / "tiny").iterdir()] == [run_dir.name]

    m = json.loads((run_dir / "manifest.json").read_text())
    assert m["status"] == "complete"
    assert m["critmin_version"] == "9.9.9"
    assert m["scenario"]["name"] == "tiny"
    assert m["scenario"]["sha256"] == scenario_sha256(tiny)
    assert m["seed"] == 11 and m["replications"] == 2 and m["replications_completed"] == 2
    assert m["overrides"] == ["demand.jp_ev.rate_tpy=2500"]
    assert m["events_per_replication"] == results.event_counts
    assert m["started_at"].endswith("Z") and m["finished_at"].endswith("Z")
    assert m["wall_seconds"] >= 0
    for key in ("python", "numpy", "simpy"):
        assert m["environment"][key]
    listed = {f["name"]: f for f in m["files"]}
    # a table is a folder of parts, listed part by part (a small run: one part)
    assert set(listed) == {f"{n}/part-00000.parquet" if n in PARQUET else n
                           for n in FILES - {"manifest.json"}}
    for name, entry in listed.items():
        assert entry["sha256"] == digest(run_dir / name)
        assert entry["bytes"] == (run_dir / name).stat().st_size


def test_parquet_columns_exact_and_no_index(tmp_path, tiny, results):
    run_dir = write_run(results, tiny, out_root=tmp_path)
    for name, cols in (("timeseries", TS_COLUMNS), ("flows", FLOW_COLUMNS),
                       ("production", PRODUCTION_COLUMNS)):
        schema = pq.read_schema(run_dir / f"{name}.parquet" / "part-00000.parquet")
        assert schema.names == cols
        back = pd.read_parquet(run_dir / f"{name}.parquet")
        assert len(back) == len(getattr(results, name))
        assert str(back["date"].dtype) == "datetime64[ns]"
    # tiny has no stockpiles: an empty table with the schema
    sp = pq.read_table(run_dir / "stockpiles.parquet")
    assert sp.schema.names == STOCKPILE_COLUMNS and sp.num_rows == 0
    assert pq.ParquetFile(run_dir / "stockpiles.parquet" / "part-00000.parquet"
                          ).metadata.num_row_groups == 0
    assert len(results.stockpiles) == 0
    assert list(results.stockpiles.columns) == STOCKPILE_COLUMNS
    kpis = pd.read_csv(run_dir / "kpis.csv")
    assert list(kpis.columns[:3]) == ["replication", "demand_id", "country"]
    assert len(kpis) == 2  # 2 replications x 1 demand sector
    assert (kpis["fill_rate"] < 1).all()
    assert pd.read_csv(run_dir / "balance.csv")["ok"].all()


def test_the_runner_draws_nothing(tmp_path, tiny, results):
    """The runner returns data; the figures are the caller's (``figures`` hook)."""
    run_dir = write_run(results, tiny, out_root=tmp_path)
    assert {p.name for p in run_dir.iterdir()} == set(DATA_FILES)
    listed = {f["name"] for f in json.loads((run_dir / "manifest.json").read_text())["files"]}
    assert listed == {f"{n}/part-00000.parquet" if n in PARQUET else n
                      for n in set(DATA_FILES) - {"manifest.json"}}


def test_same_seed_gives_identical_files(tmp_path, tiny):
    a = write_run_folder(run_scenario(tiny, replications=2, seed=5), tiny, out_root=tmp_path)
    b = write_run_folder(run_scenario(tiny, replications=2, seed=5), tiny, out_root=tmp_path)
    assert a != b  # a second run in the same second gets its own folder
    assert run_file_digests(a) == run_file_digests(b)
    assert len(run_file_digests(a)) == len(FILES) - 1  # each table one part


def test_failed_write_leaves_nothing(tmp_path, tiny, results, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store_mod, "_write_contents", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_run(results, tiny, out_root=tmp_path)
    assert list((tmp_path / "tiny").iterdir()) == []


def test_interrupted_run_keeps_finished_replications(tmp_path, tiny):
    def stop_after_first(frames):
        if frames.replication == 0:
            raise KeyboardInterrupt

    with pytest.raises(RunInterrupted) as info:
        run_scenario(tiny, replications=3, seed=0, on_done=stop_after_first)
    partial = info.value.partial
    assert partial.replications == 1 and not partial.complete
    assert set(partial.timeseries["replication"].unique()) == {0}
    run_dir = write_run(partial, tiny, out_root=tmp_path)
    m = json.loads((run_dir / "manifest.json").read_text())
    assert m["status"] == "interrupted"
    assert m["replications"] == 3 and m["replications_completed"] == 1


def test_replications_must_be_positive(tiny):
    with pytest.raises(ValueError):
        run_scenario(tiny, replications=0)


def test_metrics_files_hold_every_replication_and_summarize_them(tmp_path, tiny, results):
    """metrics.csv: one row per replication x demand sector with the resilience metrics of
    docs/metrics.md (its fill rate and shortfall agree with kpis.csv); metrics_summary.csv:
    their mean, CI and percentiles per demand sector, recomputed here from metrics.csv."""
    import pandas as pd

    from simulator.analysis.metrics import METRIC_COLUMNS

    run_dir = write_run(results, tiny, out_root=tmp_path, seed=11, replications=2)
    m = pd.read_csv(run_dir / "metrics.csv")
    k = pd.read_csv(run_dir / "kpis.csv")
    assert list(m.columns) == METRIC_COLUMNS
    assert len(m) == len(k) and sorted(m["replication"].unique()) == [0, 1]
    merged = m.merge(k, on=["replication", "demand_id"], suffixes=("", "_k"))
    assert (merged["fill_rate"] - merged["fill_rate_k"]).abs().max() < 1e-12
    assert (merged["cumulative_shortfall_t"] - merged["cumulative_shortfall_t_k"]).abs().max() \
        < 1e-9
    s = pd.read_csv(run_dir / "metrics_summary.csv")
    row = s[(s["metric"] == "cumulative_shortfall_t")].iloc[0]
    mine = m[m["demand_id"] == row["demand_id"]]["cumulative_shortfall_t"]
    assert row["n"] == 2 and row["mean"] == pytest.approx(mine.mean())


RESERVE = ("stockpiles.jp_reserve={country: JP, material: oxide, holdings_t: 1000, "
           "release: {threshold: 0.9, max_release_tpy: 500}}")


def test_stockpiles_parquet_one_row_per_replication_step_and_stockpile(tmp_path):
    sc = load_scenario(TINY, overrides=["demand.jp_ev.rate_tpy=2500", RESERVE])
    results = run_scenario(sc, replications=2, seed=3)
    run_dir = write_run(results, sc, out_root=tmp_path)
    schema = pq.read_schema(run_dir / "stockpiles.parquet" / "part-00000.parquet")
    assert schema.names == STOCKPILE_COLUMNS
    assert str(schema.field("stockpile").type) == "dictionary<values=string, indices=int32, " \
        "ordered=0>"
    back = pd.read_parquet(run_dir / "stockpiles.parquet")
    ts = results.timeseries
    assert len(back) == len(ts)  # one demand sector, one stockpile: one row per step each
    assert (back["day"].to_numpy() == ts["day"].to_numpy()).all()
    assert (back["date"] == ts["date"]).all()
    assert set(back["stockpile"].astype(str)) == {"jp_reserve"}
    # short throughout: the reserve releases at its cap, 500 t/yr, every step until empty
    rep0 = back[back["replication"] == 0]
    cap = 500.0 / 365.0 * 7
    before = rep0["holdings_t"] + rep0["released_t"]
    assert rep0["released_t"].to_numpy() == pytest.approx(np.minimum(before, cap).to_numpy())
    assert rep0["holdings_t"].iloc[0] > 500.0 and rep0["holdings_t"].iloc[-1] == 0.0
    assert (rep0["bought_t"] == 0.0).all()
    m = json.loads((run_dir / "manifest.json").read_text())
    assert "stockpiles.parquet/part-00000.parquet" in {f["name"] for f in m["files"]}



def test_figures_drawn_elsewhere_never_land_after_a_failed_close(tmp_path, tiny, results,
                                                                 monkeypatch):
    """A figures hook that draws in another worker (a future) while the tables are written:
    when writing fails (a full disk), close waits for the drawing before the staging folder
    is removed, so no figure re-creates it afterwards."""
    import errno
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from simulator.atomic import atomic_write

    sc, res = tiny, results
    pool = ThreadPoolExecutor(1)
    started = threading.Event()

    def slow_figure(folder: Path) -> list[Path]:
        started.set()
        time.sleep(0.5)
        return [atomic_write(folder / "fill_rate.png", lambda p: p.write_bytes(b"png"))]

    def figures(folder, _results, _scenario):
        return pool.submit(slow_figure, folder)

    def full_disk(*_args, **_kwargs):
        assert started.wait(5)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_mod, "_write_contents", full_disk)
    with pytest.raises(OSError), store_mod.RunWriter(sc, out_root=tmp_path,
                                                    figures=figures) as writer:
        writer.close(res)
    pool.shutdown(wait=True)
    assert not any(tmp_path.rglob("fill_rate.png")), list(tmp_path.rglob("*"))
