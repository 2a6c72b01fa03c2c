"""The results store: one folder per run, written atomically, filled as replications finish.

``<out_root>/<scenario name>/<UTC YYYYmmddTHHMMSSZ>-<first 8 hex of the scenario sha256>/``
holds the resolved scenario, ``manifest.json``, tidy Parquet tables, CSV ledgers and KPIs, and
the figures the caller draws. Everything is written into a hidden sibling folder
(``.<name>.tmp-<pid>``) first and renamed into place, so a run folder either exists complete
or not at all.

:class:`RunWriter` is the sink :func:`~simulator.runner.run_scenario` streams into: each finished
replication's tables are appended to ``timeseries.parquet``, ``flows.parquet``,
``production.parquet``, ``stockpiles.parquet`` and ``prices.parquet`` as Parquet row groups
(consecutive replications grouped until a group holds :data:`ROW_GROUP_MIN_ROWS` timeseries
rows; with the baseline, one replication per row group; after :data:`LARGE_RUN_AFTER`
replications, groups of about :data:`ROW_GROUP_BYTES_LARGE` of Arrow data). Each table is a
folder of part files, ``part-00000.parquet``, ``part-00001.parquet``... in replication order,
each a complete Parquet file with the table's schema, a new one begun when the open one holds
:data:`PART_ROW_GROUPS` row groups: a Parquet writer keeps every row group's metadata until its
file is closed (~35 KB per row group over the five tables), so the parent's memory does not
grow with the number of replications. ``pandas.read_parquet`` and
``pyarrow.parquet.read_table`` read such a folder as the whole table, in order.
:meth:`RunWriter.close` then writes the ledgers and KPIs, lets its ``figures`` hook draw into the
staging folder (:func:`simulator.report.run_figures.draw_run_figures`, passed by the command line,
the workbench and :func:`simulator.api.write_run_folder`: the runner returns data, presentation
draws it), writes the manifest and publishes the folder. :func:`write_run` does the same for
in-memory results. Tables, CSVs, the resolved YAML and the figures are byte-for-byte reproducible
for the same scenario, seed and replications, whatever executor ran them; only the manifest
carries times and the executor.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import itertools
import json
import os
import platform
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..analysis.kpis import kpi_percentiles
from ..analysis.metrics import summarize
from ..fingerprint import model_fingerprint
from ..scenario.models import Scenario
from ..version import package_version
from .journal import JOURNAL, PARTS, STATE, Journal, read_progress, update_state
from .replications import ReplicationPayload, RunResults, format_ids
from .spill import Spill, write_csv
from .summaries import SUMMARY_COLUMNS
from .tables import LABEL_COLUMNS, TABLES, combine_tables, schema, to_arrow

__all__ = ["DATA_FILES", "PART_ROW_GROUPS", "ROW_GROUP_MIN_ROWS", "FigureWriter", "RunWriter",
           "package_version", "table_files", "write_run"]

#: Files the store writes in every run folder (manifest.json last, written after the others);
#: a ``figures`` hook adds its own before the manifest
#: (:data:`simulator.report.run_figures.RUN_FILES`).
#: The hidden folder of a staging folder where a streamed run's summaries wait
#: (:class:`~simulator.runner.spill.Spill`).
SPILL = ".spill"
DATA_FILES = (
    "scenario.resolved.yaml", "timeseries.parquet", "flows.parquet", "production.parquet",
    "stockpiles.parquet", "prices.parquet", "balance.csv", "kpis.csv", "metrics.csv",
    "projects.csv", "summary.csv", "metrics_summary.csv", "manifest.json",
)
FigureWriter = Callable[[Path, RunResults, Scenario], object]
"""Draws a run's figures into its staging folder: ``figures(folder, results, scenario)``. It is
called before the tables are finished; if it returns an object with a ``result()`` method (a
``concurrent.futures.Future``: figures drawn elsewhere), that is waited for, and its exception
raised, before the manifest is written."""
#: A Parquet row group holds whole consecutive replications, at least this many timeseries
#: rows (unless it is the last).
ROW_GROUP_MIN_ROWS = 10_000
#: After this many replications, a row group holds replications until their Arrow tables
#: take :data:`ROW_GROUP_BYTES_LARGE` (fewer row groups' metadata held until the files close;
#: the files of runs up to this size are unchanged). 64 MiB: 9 baseline replications.
LARGE_RUN_AFTER = 1_000
ROW_GROUP_BYTES_LARGE = 64 << 20
#: Replications waiting for their row group are combined into one table per file every this
#: many: a replication's own tables cost the parent ~3x their Arrow bytes (Arrow and pandas
#: objects per column; on Dask, views that keep the whole received message alive), so a
#: 64 MiB group of small replications (2,600 of a 4-facility network) held ~250 MiB and left
#: the heap fragmented. Combined, waiting replications cost their Arrow bytes; the files are
#: the same (:func:`~simulator.runner.tables.combine_tables` of combined parts in order).
COMPACT_EVERY = 64
#: Each table is a folder of part files (``timeseries.parquet/part-00000.parquet``, ...); a
#: part is closed, and the next begun, when it holds this many row groups. A Parquet writer
#: keeps every row group's metadata until its file is closed (~7 KB per row group and table),
#: so the parent holds at most this many row groups' (~9 MiB over the five tables), whatever
#: the number of replications. 256: one part for runs up to 256 baseline replications (a row
#: group per replication), ~2,300 baseline replications per part after :data:`LARGE_RUN_AFTER`.
PART_ROW_GROUPS = 256


def part_name(index: int) -> str:
    """The file name of a table's ``index``-th part: ``part-00000.parquet``... (zero-padded:
    lexical order is replication order, which is the order Parquet readers take the parts)."""
    return f"part-{index:05d}.parquet"


def table_files(path: Path) -> list[Path]:
    """The Parquet files of a run table ``<run folder>/<table>.parquet``, in replication
    order: its part files, or the path itself for a run folder written when a table was one
    file. Empty if it is neither."""
    if path.is_file():
        return [path]
    return sorted(path.glob("part-*.parquet")) if path.is_dir() else []


def _parquet_options(table: str) -> dict:
    """zstd; dictionary encoding for the label columns only (replication, day and date compress
    as well without, and the tonnes rarely repeat): about 100 MiB per 1,000 baseline
    replications. Min/max statistics only on replication, day and date (what readers filter
    on): less encoding work in the parent process, which writes every replication."""
    return {"compression": "zstd", "use_dictionary": list(LABEL_COLUMNS[table]),
            "write_statistics": ["replication", "day", "date"]}


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n", date_format="%Y-%m-%d")


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (read in 1 MiB blocks)."""
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


def _adopt(staging: Path, parent: Path, name: str) -> Path:
    """Take over an unfinished run's staging folder (renamed for this process); drop what
    its writer had streamed (rewritten from the journal's parts)."""
    for i in itertools.count():
        tmp = parent / (f".{name}.tmp-{os.getpid()}" + (f"-{i}" if i else ""))
        if tmp == staging:
            break
        if tmp.exists():
            continue
        os.rename(staging, tmp)
        break
    for f in tmp.iterdir():
        if f.name not in (STATE, JOURNAL, PARTS):
            if f.is_dir():
                shutil.rmtree(f)
            else:
                f.unlink()
    return tmp


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


class RunWriter:
    """A run folder being written: the sink for :func:`~simulator.runner.run_scenario`.

    Use as a context manager; :meth:`add` appends a finished replication's tables (in
    replication order), :meth:`close` finishes and publishes the folder and returns its path.
    Leaving the ``with`` block without :meth:`close` (an exception) removes the temp folder.
    ``figures`` (optional) draws the run's figures into the folder before the manifest lists
    its files; without it the folder holds :data:`DATA_FILES` only.
    """

    def __init__(self, scenario: Scenario, *, out_root: str | os.PathLike[str] = "results",
                 started_at: dt.datetime | None = None, overrides: Sequence[str] = (),
                 version: str | None = None, state: dict | None = None,
                 resume: Path | None = None, figures: FigureWriter | None = None):
        from ..scenario import scenario_sha256

        self.scenario = scenario
        self.sha = scenario_sha256(scenario)
        self.started_at = started_at or dt.datetime.now(dt.UTC)
        self.name = f"{self.started_at.strftime('%Y%m%dT%H%M%SZ')}-{self.sha[:8]}"
        self.parent = Path(out_root) / scenario.name
        self.overrides = list(overrides)
        self.version = version
        self.kept: Path | None = None
        self.tmp: Path | None = None
        self.path: Path | None = None
        self.state = dict(state or {})
        self.resume = resume
        self.figures = figures
        self.journal: Journal | None = None
        self._writers: dict[str, pq.ParquetWriter] = {}  # each table's open part
        self._groups: dict[str, int] = {}  # row groups in each table's open part
        self._parts: dict[str, int] = {}  # parts begun per table
        self._pending: list[dict[str, pa.Table]] = []
        self._loose = 0  # replications at the end of _pending not yet combined
        self._pending_rows = 0
        self._pending_bytes = 0
        self._added = 0  # replications handed to add_tables
        # Looked up now: platform.platform() may start a subprocess, cheaper before the run
        # has grown this process.
        self.environment = {
            "python": platform.python_version(),
            "platform": platform.platform(),
            **{pkg: _dist_version(pkg) for pkg in
               ("numpy", "pandas", "simpy", "pyarrow", "matplotlib", "pydantic", "distributed")},
        }

    def __enter__(self) -> RunWriter:
        self.parent.mkdir(parents=True, exist_ok=True)
        if self.resume is None:
            self.tmp = _make_temp_dir(self.parent, self.name)
            self.journal = Journal.create(self.tmp, {
                **self.state, "scenario_sha256": self.sha, "name": self.name,
                "model": model_fingerprint(),
                "started_at": _iso(self.started_at), "pid": os.getpid()})
        else:
            self.tmp = _adopt(self.resume, self.parent, self.name)
            update_state(self.tmp, pid=os.getpid())
            self.journal = Journal(self.tmp)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.path is None:
            self.abort(keep_saved=True)

    @property
    def saved(self) -> int:
        """Replications saved in the staging folder's journal (resumable)."""
        folder = self.tmp or self.kept
        return len(read_progress(folder).parts) if folder is not None else 0

    def spill(self) -> Spill:
        """Where :func:`~simulator.runner.run_scenario` streams the run's summaries: CSVs in
        the staging folder, group files in its ``.spill`` folder (removed on close)."""
        assert self.tmp is not None, "use RunWriter as a context manager"
        return Spill(self.tmp / SPILL, self.tmp)

    def record(self, payload: ReplicationPayload) -> None:
        """Save a finished replication durably (any order; see :mod:`.journal`)."""
        assert self.journal is not None, "use RunWriter as a context manager"
        self.journal.record(payload)

    def abort(self, keep_saved: bool = False) -> None:
        """Discard the run: close the files and remove the temp folder (kept, for
        ``critmin run --resume``, when ``keep_saved`` and replications were saved)."""
        for w in self._writers.values():
            with contextlib.suppress(Exception):
                w.close()
        self._writers.clear()
        self._pending.clear()
        if self.journal is not None:
            self.journal.close()
        if keep_saved and self.tmp is not None and self.saved:
            self.kept = self.tmp
            self.tmp = None
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.tmp)
            self.tmp = None

    # -- streaming --
    def add(self, payload: ReplicationPayload) -> None:
        """Append one finished replication (call in replication order)."""
        self.add_tables(payload.tables)

    def add_tables(self, tables: dict[str, pa.Table]) -> None:
        self._pending.append(tables)
        self._loose += 1
        self._pending_rows += tables["timeseries"].num_rows
        self._added += 1
        if self._added <= LARGE_RUN_AFTER:
            full = self._pending_rows >= ROW_GROUP_MIN_ROWS
        else:
            self._pending_bytes += sum(t.nbytes for t in tables.values())
            full = self._pending_bytes >= ROW_GROUP_BYTES_LARGE
        if full:
            self._flush()
        elif self._loose >= COMPACT_EVERY:
            self._compact()

    def _compact(self) -> None:
        """Combine the replications added since the last call into one table per file."""
        loose = self._pending[-self._loose:]
        del self._pending[-self._loose:]
        self._pending.append({name: combine_tables([t[name] for t in loose], name)
                              for name in TABLES})
        self._loose = 0

    def _flush(self) -> None:
        if not self._pending:
            return
        assert self.tmp is not None, "use RunWriter as a context manager"
        for name in TABLES:
            table = combine_tables([t[name] for t in self._pending], name)
            if table.num_rows == 0:  # no empty row groups (a scenario without stockpiles)
                continue
            if self._groups.get(name, 0) >= PART_ROW_GROUPS:  # the part is full: close it
                self._writers.pop(name).close()
            writer = self._writers.get(name)
            if writer is None:
                writer = self._open_part(name)
            writer.write_table(table, row_group_size=max(1, table.num_rows))  # one row group
            self._groups[name] += 1
        self._pending.clear()
        self._loose = self._pending_rows = self._pending_bytes = 0

    def _open_part(self, name: str) -> pq.ParquetWriter:
        """Begin the next part file of table ``name`` (the writer of its open part)."""
        assert self.tmp is not None
        folder = self.tmp / f"{name}.parquet"
        folder.mkdir(exist_ok=True)
        index = self._parts.get(name, 0)
        self._parts[name] = index + 1
        self._groups[name] = 0
        writer = self._writers[name] = pq.ParquetWriter(
            folder / part_name(index), schema(name), **_parquet_options(name))
        return writer

    # -- finishing --
    def close(self, results: RunResults, *, executor: dict | None = None,
              seed: int | None = None, replications: int | None = None) -> Path:
        """Write everything else from ``results`` (the same run), publish, return the path.

        The manifest's ``status`` is ``complete``, or ``interrupted`` when fewer replications
        finished than were requested (with ``error`` when a replication failed).
        """
        from ..scenario import dump_scenario_yaml

        assert self.tmp is not None, "use RunWriter as a context manager"
        if results.started_at is None:
            raise ValueError("results.started_at is not set")
        drawing = (self.figures(self.tmp, results, self.scenario)  # (may draw elsewhere
                   if self.figures is not None else None)          # while this goes on)
        try:
            self._flush()
            for name in TABLES:
                if name not in self._parts:  # no rows (or no replication): one empty part,
                    self._open_part(name)      # the schema
                writer = self._writers.pop(name, None)
                if writer is not None:
                    writer.close()
            resolved = dump_scenario_yaml(self.scenario)
            if results.spill is not None:
                _write_streamed(self.tmp, results.spill, resolved)
            else:
                _write_contents(self.tmp, results, resolved)
        except BaseException:  # (a full disk): the figures must not land in the folder
            if callable(getattr(drawing, "result", None)):  # after it is removed
                with contextlib.suppress(Exception):
                    drawing.result()
            raise
        if callable(getattr(drawing, "result", None)):
            drawing.result()
        if results.spill is not None:
            results.spill.close()
        manifest = self._manifest(results, executor or results.executor, seed, replications)
        (self.tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                                encoding="utf-8")
        if self.journal is not None:  # the last moment: a kill before this can resume
            self.journal.discard()
        self.path = _publish(self.tmp, self.parent, self.name)
        self.tmp = None
        if results.spill is not None:
            results.spill.csv_folder = self.path
        return self.path

    def _manifest(self, results: RunResults, executor: dict, seed: int | None,
                  replications: int | None) -> dict:
        sc = self.scenario
        started = results.started_at
        assert self.tmp is not None and started is not None
        requested = list(results.requested_ids)
        return {
            "critmin_version": self.version or package_version(),
            "model_fingerprint": model_fingerprint(),
            "status": "complete" if results.complete else "interrupted",
            "error": results.error,
            "scenario": {"name": sc.name, "sha256": self.sha,
                         "start_date": sc.start_date.isoformat(),
                         "end_date": sc.end_date.isoformat()},
            "seed": results.seed if seed is None else seed,
            "replications": results.replications_requested if replications is None
            else replications,
            "replication_ids": format_ids(requested),
            "replications_completed": results.replications,
            "completed_ids": format_ids(results.replication_ids),
            "executor": executor.get("executor"),
            "workers": executor.get("workers"),
            **({"scheduler": executor["scheduler"]} if executor.get("scheduler") else {}),
            "overrides": self.overrides,
            "disruption": results.disruption,
            "started_at": _iso(started),
            "finished_at": _iso(results.finished_at),
            "wall_seconds": round((results.finished_at - started).total_seconds(), 6)
            if results.finished_at else None,
            "replication_wall_seconds": [round(s, 6) for s in results.wall_seconds],
            "events_per_replication": list(results.event_counts),
            "step_days": results.step_days,
            "parquet_row_group_min_rows": ROW_GROUP_MIN_ROWS,
            "parquet_part_row_groups": PART_ROW_GROUPS,
            "environment": self.environment,
            "files": [
                {"name": p.relative_to(self.tmp).as_posix(), "bytes": p.stat().st_size,
                 "sha256": file_sha256(p)}
                for p in _folder_files(self.tmp)
            ],
        }


def _folder_files(folder: Path) -> list[Path]:
    """The files a run folder's manifest lists: each file, and each file in a table's folder
    of parts, by name (the journal's files aside)."""
    files = []
    for p in sorted(folder.iterdir()):
        if p.name in (STATE, JOURNAL, PARTS):
            continue
        files.extend(sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p])
    return files


def write_run(
    results: RunResults,
    scenario: Scenario,
    *,
    out_root: str | os.PathLike[str] = "results",
    seed: int | None = None,
    replications: int | None = None,
    overrides: Sequence[str] = (),
    version: str | None = None,
    executor: str | None = None,
    figures: FigureWriter | None = None,
) -> Path:
    """Write in-memory ``results`` of ``scenario`` to a new run folder and return its path.

    ``seed`` and ``replications`` default to those recorded in ``results``; ``overrides`` are
    the ``--set`` strings applied to the scenario (for the record); ``figures`` draws the
    figures (see :class:`RunWriter`; :func:`simulator.api.write_run_folder` passes the run
    folder's). The files are the same as those a streamed run of the same replications writes.
    """
    if results.started_at is None:
        raise ValueError("results.started_at is not set")
    frames = {name: getattr(results, name) for name in TABLES}
    if any(f is None for f in frames.values()):
        raise ValueError("these results were streamed to a run folder; their tables are not "
                         "in memory")
    by_rep = {name: dict(tuple(f.groupby("replication", sort=True, observed=True)))
              for name, f in frames.items()}
    info = dict(results.executor)
    if executor is not None:
        info["executor"] = executor
    with RunWriter(scenario, out_root=out_root, started_at=results.started_at,
                   overrides=overrides, version=version, figures=figures) as writer:
        for r in results.replication_ids:
            writer.add_tables({
                name: to_arrow(name, by_rep[name].get(r, frames[name].iloc[:0]))
                for name in TABLES})
        return writer.close(results, executor=info, seed=seed, replications=replications)


def _write_streamed(folder: Path, spill: Spill, resolved_yaml: str) -> None:
    """:func:`_write_contents` for a run whose summaries were streamed to ``spill``: the same
    files, computed from disk one group at a time (the spill stays open for the figures)."""
    (folder / "scenario.resolved.yaml").write_text(resolved_yaml, encoding="utf-8")
    spill.finish()
    for name, table in spill.summaries().items():
        write_csv(table, folder / f"{name}.csv")


def _write_contents(folder: Path, results: RunResults, resolved_yaml: str) -> None:
    """Everything but the Parquet tables, the figures and the manifest."""
    (folder / "scenario.resolved.yaml").write_text(resolved_yaml, encoding="utf-8")
    _write_csv(results.balance_table(), folder / "balance.csv")
    for name in SUMMARY_COLUMNS:
        _write_csv(results.summary(name), folder / f"{name}.csv")
    kpis = results.kpis
    _write_csv(kpi_percentiles(kpis) if len(kpis) else pd.DataFrame(), folder / "summary.csv")
    metrics = results.summary("metrics")
    _write_csv(summarize(metrics) if len(metrics) else pd.DataFrame(),
               folder / "metrics_summary.csv")
