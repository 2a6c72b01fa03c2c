"""The results store: one folder per run, written atomically.

``<out_root>/<scenario name>/<UTC YYYYmmddTHHMMSSZ>-<first 8 hex of the scenario sha256>/``
holds the resolved scenario, ``manifest.json``, tidy Parquet tables, CSV ledgers and KPIs, and
figures. Everything is written into a hidden sibling folder first and renamed into place, so a
run folder either exists complete or not at all. Tables, the resolved YAML and the figures are
byte-for-byte reproducible for the same scenario and seed; only the manifest carries times.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import itertools
import json
import os
import platform
import shutil
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..analysis.kpis import kpi_percentiles, sector_kpis
from ..scenario.models import Scenario
from ..viz.curves import fill_rate_figure, save_figure
from .replications import TABLES, RunResults, tidy

__all__ = ["RUN_FILES", "package_version", "write_run"]

#: Files every run folder holds (manifest.json last, written after the others).
RUN_FILES = (
    "scenario.resolved.yaml", "timeseries.parquet", "flows.parquet", "production.parquet",
    "balance.csv", "kpis.csv", "summary.csv", "fill_rate.png", "fill_rate.svg", "manifest.json",
)


def package_version() -> str:
    """critmin's installed version, else ``simulator.__version__``, else ``0+unknown``."""
    try:
        return importlib.metadata.version("critmin")
    except importlib.metadata.PackageNotFoundError:
        import simulator

        return str(getattr(simulator, "__version__", "0+unknown"))


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path, compression="snappy")


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n", date_format="%Y-%m-%d")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _iso(ts) -> str | None:
    return None if ts is None else ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _make_temp_dir(parent: Path, name: str) -> Path:
    for i in itertools.count():
        tmp = parent / (f".{name}.tmp-{os.getpid()}" + (f"-{i}" if i else ""))
        try:
            tmp.mkdir()
        except FileExistsError:
            continue
        return tmp
    raise AssertionError("unreachable")


def _publish(tmp: Path, parent: Path, name: str) -> Path:
    """Rename ``tmp`` to ``parent/name`` (or ``name-2``, ``name-3``... if taken)."""
    for n in itertools.count(1):
        target = parent / (name if n == 1 else f"{name}-{n}")
        if target.exists():
            continue
        try:
            os.rename(tmp, target)
        except OSError:
            if target.exists():  # lost a race with another writer
                continue
            raise
        return target
    raise AssertionError("unreachable")


def write_run(
    results: RunResults,
    scenario: Scenario,
    *,
    out_root: str | os.PathLike[str] = "results",
    seed: int | None = None,
    replications: int | None = None,
    overrides: Sequence[str] = (),
    version: str | None = None,
    executor: str = "sequential",
) -> Path:
    """Write ``results`` of ``scenario`` to a new run folder and return its path.

    ``seed`` and ``replications`` default to those recorded in ``results``; ``overrides`` are
    the ``--set`` strings applied to the scenario (for the record). The manifest's ``status``
    is ``complete``, or ``interrupted`` when fewer replications finished than were requested.
    """
    from ..scenario import dump_scenario_yaml, scenario_sha256

    sha = scenario_sha256(scenario)
    started = results.started_at
    if started is None:
        raise ValueError("results.started_at is not set")
    name = f"{started.strftime('%Y%m%dT%H%M%SZ')}-{sha[:8]}"
    parent = Path(out_root) / scenario.name
    parent.mkdir(parents=True, exist_ok=True)
    tmp = _make_temp_dir(parent, name)
    try:
        _write_contents(tmp, results, scenario, dump_scenario_yaml(scenario))
        manifest = {
            "critmin_version": version or package_version(),
            "status": "complete" if results.complete else "interrupted",
            "scenario": {"name": scenario.name, "sha256": sha,
                         "start_date": scenario.start_date.isoformat(),
                         "end_date": scenario.end_date.isoformat()},
            "seed": results.seed if seed is None else seed,
            "replications": results.replications_requested if replications is None
            else replications,
            "replications_completed": results.replications,
            "executor": executor,
            "overrides": list(overrides),
            "started_at": _iso(results.started_at),
            "finished_at": _iso(results.finished_at),
            "wall_seconds": round((results.finished_at - started).total_seconds(), 6)
            if results.finished_at else None,
            "replication_wall_seconds": [round(s, 6) for s in results.wall_seconds],
            "events_per_replication": list(results.event_counts),
            "step_days": results.step_days,
            "environment": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                **{pkg: _dist_version(pkg) for pkg in
                   ("numpy", "pandas", "simpy", "pyarrow", "matplotlib", "pydantic")},
            },
            "files": [
                {"name": p.name, "bytes": p.stat().st_size, "sha256": _sha256(p)}
                for p in sorted(tmp.iterdir())
            ],
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                           encoding="utf-8")
        return _publish(tmp, parent, name)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise


def _write_contents(folder: Path, results: RunResults, scenario: Scenario,
                    resolved_yaml: str) -> None:
    (folder / "scenario.resolved.yaml").write_text(resolved_yaml, encoding="utf-8")
    for table in TABLES:
        _write_parquet(tidy(table, getattr(results, table)), folder / f"{table}.parquet")
    _write_csv(results.balance_table(), folder / "balance.csv")
    kpis = sector_kpis(results.timeseries)
    _write_csv(kpis, folder / "kpis.csv")
    _write_csv(kpi_percentiles(kpis), folder / "summary.csv")
    fig = fill_rate_figure(results.timeseries, scenario.name, results.replications)
    save_figure(fig, folder / "fill_rate")
