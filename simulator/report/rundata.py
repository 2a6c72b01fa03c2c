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

#: Columns read from ``timeseries.parquet`` (``inventory_t`` is not needed here).
RUN_TABLE_COLUMNS = {
    "timeseries": ["replication", "day", "date", "country", "sector", "demand_id", "material",
                   "demand_t", "delivered_t", "shortfall_t", "stockpile_t"],
    "flows": None,
    "production": None,
    "stockpiles": None,
    "prices": None,
}


class RunFolderError(FileNotFoundError):
    """A path is not a readable run folder (missing, or without a needed file)."""


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
    path = run_dir / f"{name}.parquet"  # a file, or a folder of parts (streamed writes)
    if not path.exists():
        raise RunFolderError(f"not a run folder (no {name}.parquet): {run_dir}")
    if columns is not None:
        import pyarrow.parquet as pq

        have = set(pq.read_schema(path).names) if path.is_file() else None
        if have is not None:
            columns = [c for c in columns if c in have]
    return pd.read_parquet(path, columns=list(columns) if columns is not None else None)


def load_run(run_dir: str | os.PathLike[str], tables: Iterable[str] = ()) -> RunData:
    """Read a run folder: the resolved scenario, the manifest (``{}`` if absent), the
    time series and any other ``tables`` (``"flows"``, ``"production"``, ``"stockpiles"``).

    Raises :class:`RunFolderError` when the folder or a needed file is missing, and the
    scenario loader's :class:`~simulator.scenario.ScenarioError` when the resolved scenario
    no longer validates."""
    from ..scenario import load_scenario

    path = Path(run_dir)
    if not path.exists():
        raise RunFolderError(f"no such run folder: {path}")
    if not path.is_dir():
        raise RunFolderError(f"not a run folder (not a directory): {path}")
    resolved = path / "scenario.resolved.yaml"
    if not resolved.is_file():
        raise RunFolderError(f"not a run folder (no scenario.resolved.yaml): {path}")
    scenario = load_scenario(resolved)
    manifest_path = path / "manifest.json"
    manifest = (json.loads(manifest_path.read_text(encoding="utf-8"))
                if manifest_path.is_file() else {})
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
    sector. Ready for :func:`~simulator.analysis.metrics.replication_metrics`."""
    keys = ["replication", "day", "sector"]
    g = (timeseries.groupby(keys, observed=True, sort=True)
         .agg(date=("date", "first"), demand_t=("demand_t", "sum"),
              delivered_t=("delivered_t", "sum"), shortfall_t=("shortfall_t", "sum"))
         .reset_index())
    g["sector"] = g["sector"].astype(str)
    g["demand_id"] = g["sector"]
    g["country"] = "all"
    g["material"] = "all"
    g["stockpile_t"] = 0.0
    return g
