"""Reading run folders: the resolved scenario, the manifest and the tables a run wrote.

Shared by ``critmin report`` and ``critmin compare``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..scenario.models import Scenario

__all__ = ["RUN_TABLE_COLUMNS", "RunData", "RunFolderError", "load_run", "sector_timeseries"]

#: Columns read from ``timeseries.parquet`` (``inventory_t`` is not needed here; a run folder
#: written before the demand response has no ``destroyed_t`` and ``thrifted_t``).
RUN_TABLE_COLUMNS = {
    "timeseries": ["replication", "day", "date", "country", "sector", "demand_id", "material",
                   "demand_t", "delivered_t", "shortfall_t", "stockpile_t", "destroyed_t",
                   "thrifted_t"],
    "flows": None,
    "production": None,
    "stockpiles": None,
    "prices": None,
}


class RunFolderError(FileNotFoundError):
    """A path is not a readable run folder (missing, or without a needed file)."""


class DamagedRunFolder(ValueError):
    """A run folder's files are not what its run wrote: ``manifest.json`` does not parse, a
    file it lists is missing or its sha256 differs (edited or damaged), or a table does not
    read. The message names the file."""


def verify_manifest(run_dir: Path) -> dict[str, Any]:
    """The run folder's manifest (``{}`` without one), after checking that every file it
    lists is there with the size and sha256 it records (each part file of a table's folder is
    listed by its path in the run folder), and that a table's folder holds no file it does not
    list.

    Raises :class:`DamagedRunFolder` naming every file that does not match, one per line."""
    from ..runner.store import file_sha256

    path = run_dir / "manifest.json"
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DamagedRunFolder(f"{path}: not valid JSON ({exc}); the folder cannot be "
                               "trusted") from None
    if not isinstance(manifest, dict):
        raise DamagedRunFolder(f"{path}: not a run manifest")
    problems: list[str] = []
    listed: set[Path] = set()
    for entry in manifest.get("files", []) or []:
        if not isinstance(entry, dict) or "name" not in entry:
            raise DamagedRunFolder(f"{path}: a file entry is not a run manifest's")
        target = run_dir / str(entry["name"])  # a path in the folder: a table's part files
        listed.add(target)                     # are <table>.parquet/part-00000.parquet...
        if not target.is_file():
            problems.append(f"{target}: listed in manifest.json but missing")
        elif "bytes" in entry and target.stat().st_size != entry["bytes"]:
            problems.append(f"{target}: {target.stat().st_size} bytes, manifest.json records "
                            f"{entry['bytes']} (edited or damaged since the run)")
        elif "sha256" in entry and file_sha256(target) != entry["sha256"]:
            problems.append(f"{target}: its sha256 differs from manifest.json (edited or "
                            "damaged since the run)")
    # A table's folder of parts: a part added to it would be read with the others (files
    # Parquet readers skip, hidden or starting with "_", aside).
    for folder in sorted({t.parent for t in listed} - {run_dir}):
        if folder.is_dir():
            problems.extend(f"{f}: not listed in manifest.json (added since the run)"
                            for f in sorted(folder.iterdir())
                            if f not in listed and not f.name.startswith((".", "_")))
    if problems:
        raise DamagedRunFolder("\n".join(problems))
    return manifest


@dataclass
class RunData:
    """One run folder read from disk."""

    path: Path
    scenario: Scenario
    manifest: dict[str, Any]
    timeseries: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def replications(self) -> int:
        """Replications present in the time series."""
        if len(self.timeseries) == 0:
            return int(self.manifest.get("replications_completed", 0) or 0)
        return int(self.timeseries["replication"].nunique())

    @property
    def seed(self) -> int | None:
        s = self.manifest.get("seed")
        return None if s is None else int(s)

    def table(self, name: str) -> pd.DataFrame:
        """``flows``, ``production`` or ``stockpiles`` (read on first use)."""
        if name not in self.tables:
            self.tables[name] = _read_table(self.path, name, RUN_TABLE_COLUMNS.get(name))
        return self.tables[name]


def _read_table(run_dir: Path, name: str, columns: Sequence[str] | None) -> pd.DataFrame:
    path = run_dir / f"{name}.parquet"  # a folder of parts (a file in older run folders)
    if not path.exists():
        raise RunFolderError(f"not a run folder (no {name}.parquet): {run_dir}")
    try:
        if columns is not None:  # the columns this folder has (older runs have fewer)
            import pyarrow.parquet as pq

            from ..runner.store import table_files

            files = table_files(path)
            if files:
                have = set(pq.read_schema(files[0]).names)
                columns = [c for c in columns if c in have]
        return pd.read_parquet(path, columns=list(columns) if columns is not None else None)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise DamagedRunFolder(f"{path}: cannot be read as Parquet ({exc})") from None


def load_run(run_dir: str | os.PathLike[str], tables: Iterable[str] = ()) -> RunData:
    """Read a run folder: the resolved scenario, the manifest (``{}`` if absent), the
    time series and any other ``tables`` (``"flows"``, ``"production"``, ``"stockpiles"``).

    Raises :class:`RunFolderError` when the folder or a needed file is missing,
    :class:`DamagedRunFolder` when a file is not what the run wrote (:func:`verify_manifest`,
    or a table that does not read), and the scenario loader's
    :class:`~simulator.scenario.ScenarioError` when the resolved scenario no longer
    validates."""
    from ..scenario import load_scenario

    path = Path(run_dir)
    if not path.exists():
        raise RunFolderError(f"no such run folder: {path}")
    if not path.is_dir():
        raise RunFolderError(f"not a run folder (not a directory): {path}")
    resolved = path / "scenario.resolved.yaml"
    if not resolved.is_file():
        raise RunFolderError(f"not a run folder (no scenario.resolved.yaml): {path}")
    manifest = verify_manifest(path)
    scenario = load_scenario(resolved)
    ts = _read_table(path, "timeseries", RUN_TABLE_COLUMNS["timeseries"])
    run = RunData(path, scenario, manifest, ts)
    for t in tables:
        run.table(t)
    return run


def sector_timeseries(timeseries: pd.DataFrame) -> pd.DataFrame:
    """The time series summed over countries and materials per sector: one row per
    replication x step x sector with ``demand_id`` = the sector, ``country`` and
    ``material`` = ``"all"``. Stockpiles are set to 0 (reserves shared between countries
    would be counted twice), so ``stockpile_drawdown_t`` is only meaningful per demand
    sector. Demand destroyed by price and thrifted (``destroyed_t``, ``thrifted_t``) are
    summed too when the series has them. Ready for
    :func:`~simulator.analysis.metrics.replication_metrics`."""
    keys = ["replication", "day", "sector"]
    sums = [c for c in ("demand_t", "delivered_t", "shortfall_t", "destroyed_t", "thrifted_t")
            if c in timeseries.columns]
    g = (timeseries.groupby(keys, observed=True, sort=True)
         .agg(date=("date", "first"), **{c: (c, "sum") for c in sums})
         .reset_index())
    g["sector"] = g["sector"].astype(str)
    g["demand_id"] = g["sector"]
    g["country"] = "all"
    g["material"] = "all"
    g["stockpile_t"] = 0.0
    return g
