"""The run tables as Arrow: fixed schemas, canonical row order, one replication at a time.

A run has five tables, ``timeseries``, ``flows``, ``production``, ``stockpiles`` and ``prices``:
``replication`` (int32), ``day`` (int32), ``date`` (timestamp[ns]), then the engine's columns,
label columns as dictionary<int32, string> and tonnes and prices as float64. Rows are sorted
by replication, day and the labels (as strings). :func:`to_arrow` turns a pandas frame of one
or more replications into that canonical form, whoever calls it (a worker process, or
:func:`~simulator.runner.write_run` on in-memory results), so the same replications always
give the same bytes on disk.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from ..engine.recorder import (
    FLOW_COLUMNS,
    PRICE_COLUMNS,
    PRODUCTION_COLUMNS,
    STOCKPILE_COLUMNS,
    TIMESERIES_COLUMNS,
)

__all__ = [
    "LABEL_COLUMNS",
    "TABLES",
    "NonFiniteOutput",
    "combine_tables",
    "empty_frame",
    "from_arrow",
    "schema",
    "to_arrow",
]

_ENGINE_COLUMNS: dict[str, list[str]] = {
    "timeseries": TIMESERIES_COLUMNS,
    "flows": FLOW_COLUMNS,
    "production": PRODUCTION_COLUMNS,
    "stockpiles": STOCKPILE_COLUMNS,
    "prices": PRICE_COLUMNS,
}
TABLES = tuple(_ENGINE_COLUMNS)


def _is_value(column: str) -> bool:
    return column.endswith(("_t", "_usd_per_kg")) or column == "tonnes"


#: Label columns that order rows after ``replication`` and ``day``, per table.
LABEL_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(c for c in cols if c != "day" and not _is_value(c))
    for name, cols in _ENGINE_COLUMNS.items()
}
_LABEL_TYPE = pa.dictionary(pa.int32(), pa.string())


def columns(table: str) -> list[str]:
    """Column names of a run table, in order."""
    return ["replication", "day", "date", *[c for c in _ENGINE_COLUMNS[table] if c != "day"]]


def schema(table: str) -> pa.Schema:
    """The Arrow schema of a run table (no pandas metadata: files read the same anywhere)."""
    fields = []
    for c in columns(table):
        if c in ("replication", "day"):
            fields.append(pa.field(c, pa.int32(), nullable=False))
        elif c == "date":
            fields.append(pa.field(c, pa.timestamp("ns"), nullable=False))
        elif _is_value(c):
            fields.append(pa.field(c, pa.float64()))
        else:
            fields.append(pa.field(c, _LABEL_TYPE))
    return pa.schema(fields)


def _label_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, dictionary): int32 codes into the sorted distinct non-null values (-1 = null)."""
    cat = values.array if isinstance(values.dtype, pd.CategoricalDtype) else \
        pd.Categorical(values.astype(object))
    codes = np.asarray(cat.codes, dtype=np.int64)
    names = np.asarray([str(c) for c in cat.categories], dtype=object)
    used = np.flatnonzero(np.bincount(codes + 1, minlength=len(names) + 1)[1:])
    order = np.argsort(names[used].astype(str), kind="stable")
    remap = np.full(len(names) + 1, -1, dtype=np.int32)  # last slot maps code -1 to -1
    remap[used[order]] = np.arange(len(used), dtype=np.int32)
    return remap[codes], names[used[order]]


def _row_order(rep: np.ndarray, day: np.ndarray,
               labels: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Stable order by replication, day and label codes (codes index sorted dictionaries, so
    code order is string order; nulls, code -1, first)."""
    n = len(rep)
    if n == 0:
        return np.arange(0)
    # One int64 key when the value ranges fit (the usual case), else np.lexsort.
    parts = [(rep - rep.min(), int(rep.max() - rep.min()) + 1),
             (day - day.min(), int(day.max() - day.min()) + 1),
             *[(codes + 1, len(names) + 1) for codes, names in labels]]
    bits = sum(max(1, int(card - 1).bit_length()) for _, card in parts)
    if bits <= 62:
        key = np.zeros(n, dtype=np.int64)
        for values, card in parts:
            key = key * card + values
        if np.all(key[1:] >= key[:-1]):
            return np.arange(n)
        return np.argsort(key, kind="stable")
    return np.lexsort([v for v, _ in reversed(parts)])


def to_arrow(table: str, df: pd.DataFrame) -> pa.Table:
    """``df`` (the runner's columns for ``table``) as a canonical Arrow table.

    Label dictionaries hold the values present, sorted; rows are stably sorted by replication,
    day and labels.
    """
    labels = {c: _label_codes(df[c]) for c in LABEL_COLUMNS[table]}
    rep = df["replication"].to_numpy(dtype=np.int32)
    day = df["day"].to_numpy(dtype=np.int32)
    order = _row_order(rep, day, [labels[c] for c in LABEL_COLUMNS[table]])
    arrays = []
    for field in schema(table):
        c = field.name
        if c in labels:
            codes, names = labels[c]
            codes = codes[order]
            arrays.append(pa.DictionaryArray.from_arrays(
                pa.array(codes, pa.int32(), mask=codes < 0), pa.array(names, pa.string())))
        elif c == "date":
            arrays.append(pa.array(df[c].to_numpy(dtype="datetime64[ns]")[order],
                                   pa.timestamp("ns")))
        elif c in ("replication", "day"):
            arrays.append(pa.array((rep if c == "replication" else day)[order], pa.int32()))
        else:
            values = df[c].to_numpy(dtype=np.float64)
            _check_finite(table, c, values, rep, day)
            arrays.append(pa.array(values[order], pa.float64()))
    return pa.Table.from_arrays(arrays, schema=schema(table))


class NonFiniteOutput(RuntimeError):
    """A NaN or infinite value reached a run table: a bug, since every recorded quantity is
    finite (scenario values are bounded: docs/scenario-language.md, Limits and safety)."""


def _check_finite(table: str, column: str, values: np.ndarray, rep: np.ndarray,
                  day: np.ndarray) -> None:
    """Raise NonFiniteOutput naming ``table``, ``column`` and the first bad row, if any."""
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise NonFiniteOutput(
            f"output table {table}, column {column}: {int(bad.sum())} NaN or infinite "
            f"value(s), the first ({values[i]}) at replication {rep[i]}, day {day[i]}")


def combine_tables(parts: Sequence[pa.Table], table: str) -> pa.Table:
    """Consecutive replications' tables as one table with one chunk per column (one row group).

    Label dictionaries are unified (values in order of first appearance), which is
    deterministic for the same parts in the same order.
    """
    if not parts:
        return schema(table).empty_table()
    if len(parts) == 1:
        return parts[0].combine_chunks()
    return pa.concat_tables(parts).unify_dictionaries().combine_chunks()


def from_arrow(parts: Sequence[pa.Table], table: str) -> pd.DataFrame:
    """Arrow tables of a run (in replication order) as one pandas frame: label columns
    categorical with sorted categories, a fresh RangeIndex."""
    arrow = pa.concat_tables(parts) if parts else schema(table).empty_table()
    df = arrow.to_pandas()
    for c in LABEL_COLUMNS[table]:
        cats = sorted(str(v) for v in df[c].cat.categories)
        df[c] = df[c].cat.set_categories(cats)
    return df


def empty_frame(table: str) -> pd.DataFrame:
    """A run table with no rows and the run's dtypes."""
    return from_arrow([], table)
