"""A run's per-replication summaries on disk as they arrive: the parent's memory stays flat.

:class:`Spill` is what :class:`~simulator.runner.results.RunResults` keeps when a run streams
into a :class:`~simulator.runner.store.RunWriter`. Every :data:`CHUNK` replications (in
replication order) it

- appends the rows of ``kpis``, ``metrics``, ``projects`` and ``balance`` to those CSV files in
  the run's staging folder (the same bytes as writing the concatenation at the end);
- appends the ``kpis`` and ``metrics`` rows of each demand sector, and the sector statistics of
  each sector, to one file per group (Arrow IPC, :mod:`~simulator.runner.codec`), so that
  ``summary.csv``, ``metrics_summary.csv`` and the console table are computed exactly, one
  group at a time;
- appends the fill-rate curves (float32, steps x sectors) to ``curves.f32``, a chunk of
  replications at a time, column-major, so that the figure's percentiles per step are computed
  exactly, a block of steps at a time (:data:`BLOCK_BYTES` of working memory).

Memory: a chunk of payload summaries, the first :data:`FIGURE_MAX_REPLICATIONS` curves (the
figure draws them as they are), and per replication a few integers in the caller's lists. The
group files are read one group at a time: n replications x that group's columns.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .codec import frame_from_ipc, frame_to_ipc
from .summaries import (
    FIGURE_MAX_REPLICATIONS,
    SUMMARY_COLUMNS,
    SectorCurve,
    combine_sector_stats,
    curve_frame,
    long_frame,
)

__all__ = ["BLOCK_BYTES", "CHUNK", "CurveSpill", "GroupSpill", "Spill", "write_csv"]

#: Replications buffered in memory before they are written out.
CHUNK = 256
#: Working memory for the exact per-step percentiles of the figure (about).
BLOCK_BYTES = 8 << 20
_Q = np.arange(101, dtype=np.float64)


def write_csv(df: pd.DataFrame, f: Any, header: bool = True) -> None:
    """The run's CSV dialect (``f``: a path or an open text file)."""
    df.to_csv(f, index=False, header=header, lineterminator="\n", date_format="%Y-%m-%d")


class GroupSpill:
    """Rows of a table appended per group (one file each); read back one group at a time."""

    def __init__(self, folder: Path, by: str):
        self.folder, self.by = folder, by
        folder.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, Path] = {}

    def append(self, df: pd.DataFrame) -> None:
        for key, rows in df.groupby(self.by, sort=False, observed=True):
            key = str(key)
            path = self.files.setdefault(key, self.folder / f"{len(self.files):06d}.arrows")
            data = frame_to_ipc(rows.reset_index(drop=True))
            with path.open("ab") as f:
                f.write(len(data).to_bytes(8, "little"))
                f.write(data)

    def groups(self) -> Iterator[tuple[str, pd.DataFrame]]:
        """``(key, rows)`` per group, keys sorted (as ``groupby(sort=True)`` orders them)."""
        for key in sorted(self.files):
            yield key, self.read(key)

    def read(self, key: str) -> pd.DataFrame:
        parts = []
        with self.files[key].open("rb") as f:
            while head := f.read(8):
                parts.append(frame_from_ipc(f.read(int.from_bytes(head, "little"))))
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


class CurveSpill:
    """Fill-rate curves on disk; the figure's input (:func:`curve_frame`) computed from them."""

    def __init__(self, path: Path):
        self.path = path
        self.first: SectorCurve | None = None
        self.head: list[tuple[int, SectorCurve]] = []
        self.odd: dict[int, tuple[int, SectorCurve]] = {}  # seq -> curve of another layout
        self.ids: list[int] = []
        self.chunks: list[tuple[int, int]] = []  # (byte offset, replications)
        self._buffer: list[np.ndarray] = []
        self._size = 0

    @property
    def count(self) -> int:
        return len(self.ids)

    def add(self, replication: int, curve: SectorCurve) -> None:
        if self.first is None:
            self.first = curve
        if len(self.ids) < FIGURE_MAX_REPLICATIONS:
            self.head.append((replication, curve))
        else:
            self.head.clear()
        seq = len(self.ids)
        self.ids.append(replication)
        if not self.first.same_layout(curve):
            self.odd[seq] = (replication, curve)
            return
        self._buffer.append(np.concatenate([curve.fill_rate.ravel(), curve.shortfall_t.ravel()]))
        if len(self._buffer) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        block = np.ascontiguousarray(np.stack(self._buffer).T)  # [columns, replications]
        with self.path.open("ab") as f:
            f.write(block.tobytes())
        self.chunks.append((self._size, len(self._buffer)))
        self._size += block.nbytes
        self._buffer.clear()

    def _columns(self, j0: int, j1: int) -> np.ndarray:
        """Columns ``j0:j1`` of every same-layout curve: float32 [j1 - j0, replications]."""
        out = []
        with self.path.open("rb") as f:
            for offset, reps in self.chunks:
                f.seek(offset + j0 * reps * 4)
                out.append(np.frombuffer(f.read((j1 - j0) * reps * 4), np.float32)
                           .reshape(j1 - j0, reps))
        return np.concatenate(out, axis=1)

    def curve_frame(self, start_date: dt.date) -> pd.DataFrame:
        """As :func:`~simulator.runner.summaries.curve_frame` of every curve added."""
        self.flush()
        n = self.count
        if n <= FIGURE_MAX_REPLICATIONS:
            return curve_frame(self.head, start_date)
        first = self.first
        assert first is not None
        if self.odd:  # not one layout: every curve as it is (does not happen with one scenario)
            return curve_frame(list(self._all()), start_date)
        steps, sectors = first.fill_rate.shape
        width = steps * sectors
        columns = max(1, BLOCK_BYTES // (n * 24))
        pct = np.empty((101, 2 * width), np.float64)
        for j0 in range(0, 2 * width, columns):
            j1 = min(2 * width, j0 + columns)
            pct[:, j0:j1] = np.percentile(self._columns(j0, j1).astype(np.float64), _Q, axis=1)
        fill = pct[:, :width].reshape(101, steps, sectors)
        short = pct[:, width:].reshape(101, steps, sectors)
        pseudo = [SectorCurve(first.days, first.sectors, fill[k], short[k]) for k in range(101)]
        return long_frame(list(range(101)), pseudo, start_date)

    def _all(self) -> Iterator[tuple[int, SectorCurve]]:
        first = self.first
        assert first is not None
        steps, sectors = first.fill_rate.shape
        width = steps * sectors
        chunk: np.ndarray | None = None
        uniform = 0
        for seq, r in enumerate(self.ids):
            if seq in self.odd:
                yield self.odd[seq]
                continue
            row = uniform % CHUNK
            if row == 0:
                offset, reps = self.chunks[uniform // CHUNK]
                with self.path.open("rb") as f:
                    f.seek(offset)
                    chunk = np.frombuffer(f.read(2 * width * reps * 4), np.float32) \
                        .reshape(2 * width, reps)
            assert chunk is not None
            values = chunk[:, row]
            yield r, SectorCurve(first.days, first.sectors,
                                 values[:width].reshape(steps, sectors).copy(),
                                 values[width:].reshape(steps, sectors).copy())
            uniform += 1


class Spill:
    """Per-replication summaries of a run streamed to ``folder`` (spill files) and to the CSV
    files of ``csv_folder`` (the staging folder); see the module docstring."""

    CSV = ("balance", *SUMMARY_COLUMNS)

    def __init__(self, folder: Path, csv_folder: Path):
        self.folder, self.csv_folder = folder, csv_folder
        folder.mkdir(parents=True, exist_ok=True)
        self.kpis = GroupSpill(folder / "kpis", "demand_id")
        self.metrics = GroupSpill(folder / "metrics", "demand_id")
        self.stats = GroupSpill(folder / "sector_stats", "sector")
        self.curves = CurveSpill(folder / "curves.f32")
        self._buffer: dict[str, list[pd.DataFrame]] = {}
        self._written: set[str] = set()
        self._dtypes: dict[str, pd.Series] = {}
        self._sector_summary: pd.DataFrame | None = None
        # The kpis, metrics and sector_stats rows of the first chunk, until a second one comes:
        # a run of up to CHUNK replications is summarised from them as the in-memory results
        # are, and writes no group file.
        self._whole: dict[str, pd.DataFrame] | None = {}
        self.closed = False

    def add(self, p: Any) -> None:
        """One finished replication's summaries (call in replication order)."""
        r = np.int32(p.replication)
        for name, table in p.summaries.items():
            self._buffer.setdefault(name, []).append(table)
        self._buffer.setdefault("balance", []).append(p.balance.assign(replication=r))
        self._buffer.setdefault("sector_stats", []).append(p.sector_stats.assign(replication=r))
        self.curves.add(p.replication, p.curve)
        if len(self._buffer["balance"]) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        """Write out the buffered replications."""
        for name, parts in self._buffer.items():
            if not parts:
                continue
            table = pd.concat(parts, ignore_index=True)
            if name in ("kpis", "metrics", "sector_stats"):
                self._group(name, table)
            if name == "sector_stats":
                continue
            if name == "balance":
                table = table[["replication", *[c for c in table.columns if c != "replication"]]]
            self._dtypes.setdefault(name, table.dtypes)
            with (self.csv_folder / f"{name}.csv").open("a", encoding="utf-8", newline="") as f:
                write_csv(table, f, header=name not in self._written)
            self._written.add(name)
        self._buffer.clear()
        self.curves.flush()

    def _group(self, name: str, table: pd.DataFrame) -> None:
        """The first chunk stays in memory; a second one sends both to the group files."""
        spills = {"kpis": self.kpis, "metrics": self.metrics, "sector_stats": self.stats}
        if self._whole is not None:
            if name not in self._whole:
                self._whole[name] = table
                return
            for kept, rows in self._whole.items():
                spills[kept].append(rows)
            self._whole = None
        spills[name].append(table)

    def finish(self) -> None:
        """Flush, and write the CSVs no replication wrote (as the in-memory results do)."""
        self.flush()
        for name in self.CSV:
            if name not in self._written:
                write_csv(_empty(name), self.csv_folder / f"{name}.csv")
                self._written.add(name)

    def summaries(self) -> dict[str, pd.DataFrame]:
        """``summary.csv`` and ``metrics_summary.csv``, exact: from the rows in memory when one
        chunk was written, else one demand sector at a time (read back from the group files)."""
        from ..analysis.kpis import kpi_percentiles
        from ..analysis.metrics import summarize

        self.flush()
        if self._whole is not None:  # one chunk: summarised whole, as the in-memory path does
            kpis, metrics = self._whole.get("kpis"), self._whole.get("metrics")
            return {"summary": pd.DataFrame() if kpis is None or not len(kpis)
                    else kpi_percentiles(kpis),
                    "metrics_summary": pd.DataFrame() if metrics is None or not len(metrics)
                    else summarize(metrics)}
        return {"summary": _rows_of(kpi_percentiles(g) for _, g in self.kpis.groups()),
                "metrics_summary": _rows_of(summarize(g) for _, g in self.metrics.groups())}

    def sector_summary(self) -> pd.DataFrame:
        """As :func:`~simulator.runner.summaries.combine_sector_stats` over every replication."""
        if self._sector_summary is None:
            self.flush()
            if self._whole is not None:
                whole = self._whole.get("sector_stats")
                self._sector_summary = combine_sector_stats([] if whole is None else [whole])
                return self._sector_summary
            parts = [combine_sector_stats([g]) for _, g in self.stats.groups()]
            self._sector_summary = (combine_sector_stats([]) if not parts
                                    else pd.concat(parts, ignore_index=True))
        return self._sector_summary

    def curve_frame(self, start_date: dt.date) -> pd.DataFrame:
        return self.curves.curve_frame(start_date)

    def table(self, name: str) -> pd.DataFrame:
        """A per-replication table read back from its CSV file (in ``csv_folder``)."""
        if not self.closed:
            self.flush()
        path = self.csv_folder / f"{name}.csv"
        if name not in self._written or not path.exists():
            return _empty(name)
        df = pd.read_csv(path)
        for col, dtype in self._dtypes.get(name, pd.Series(dtype=object)).items():
            if col in df and str(df[col].dtype) != str(dtype):
                with contextlib.suppress(TypeError, ValueError):
                    df[col] = df[col].astype(dtype)
        return df

    def close(self, run_dir: Path | None = None) -> None:
        """Remove the spill files (after :meth:`sector_summary` is cached); CSVs are then read
        from ``run_dir`` (the published run folder)."""
        self.sector_summary()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.closed = True
        if run_dir is not None:
            self.csv_folder = run_dir


def _empty(name: str) -> pd.DataFrame:
    if name == "balance":
        return pd.DataFrame({"replication": pd.Series([], dtype=np.int32)})
    return pd.DataFrame({c: [] for c in SUMMARY_COLUMNS.get(name, [])})


def _rows_of(frames: Iterator[pd.DataFrame]) -> pd.DataFrame:
    """The rows of per-group result frames as one frame built as the whole would be (from
    records), or an empty frame when there is no group (as the in-memory path writes)."""
    rows: list[dict] = []
    columns: list[str] | None = None
    for df in frames:
        columns = columns or list(df.columns)
        rows.extend(df.to_dict("records"))
    return pd.DataFrame(rows, columns=columns) if columns is not None else pd.DataFrame()
