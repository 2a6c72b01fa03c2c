"""Data-only bytes for what a run keeps on disk: no pickle, nothing that can run code.

- :func:`frame_to_ipc` / :func:`frame_from_ipc`: a pandas frame as an Arrow IPC stream, with
  the pandas dtype of each column in the schema metadata (JSON), so that the frame comes back
  with the same dtypes and values (object columns as Python objects, ``str`` as ``str``).
- :func:`encode_payload` / :func:`decode_payload`: a whole
  :class:`~simulator.runner.replications.ReplicationPayload` (a journal part, see
  :mod:`~simulator.runner.journal`): :data:`MAGIC`, then zstd of a JSON header (scalars, the
  sections' offsets) followed by Arrow IPC sections, then the uncompressed size (8 bytes,
  little-endian).

Reading never unpickles: Arrow IPC and JSON only (pyarrow does not load pickled extension
types). Anything else raises :exc:`PartError`.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = [
    "MAGIC",
    "PartError",
    "decode_payload",
    "encode_payload",
    "frame_from_ipc",
    "frame_from_table",
    "frame_to_ipc",
    "frame_to_table",
]

#: The first bytes of every part file (format 2: Arrow IPC and JSON; format 1 was a pickle).
MAGIC = b"CRITMIN-PART-2\n\0"
_CODEC = pa.Codec("zstd", compression_level=1)
_DTYPES_KEY = b"critmin.dtypes"
_MAX_HEADER = 1 << 20
_MAX_BODY = 1 << 31  # a part's uncompressed size (a baseline replication's: ~7 MB)
_JSON_OBJECT = "object:json"  # an object column of mixed types, each value as JSON text


class PartError(ValueError):
    """Bytes that are not a part this version of critmin wrote."""


# ---- frames ------------------------------------------------------------------------------

def frame_to_table(df: pd.DataFrame) -> pa.Table:
    """``df`` (a RangeIndex, string column names) as an Arrow table plus its dtypes."""
    arrays, names, kinds = [], [], []
    for name, s in df.items():
        kind = str(s.dtype)
        if s.dtype != object:
            arrays.append(pa.array(s, from_pandas=True))
        else:
            try:
                arrays.append(pa.array(s.to_list(), from_pandas=True))
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: each value as JSON
                arrays.append(pa.array([json.dumps(v) for v in s.to_list()], pa.string()))
                kind = _JSON_OBJECT
        names.append(str(name))
        kinds.append(kind)
    dtypes = json.dumps(kinds).encode()
    return pa.Table.from_arrays(arrays, names=names).replace_schema_metadata(
        {_DTYPES_KEY: dtypes})


def frame_from_table(table: pa.Table) -> pd.DataFrame:
    """The frame :func:`frame_to_table` was given (same columns, dtypes and values)."""
    meta = table.schema.metadata or {}
    dtypes = json.loads(meta[_DTYPES_KEY]) if _DTYPES_KEY in meta else None
    if not isinstance(dtypes, list) or len(dtypes) != table.num_columns \
            or not all(isinstance(d, str) for d in dtypes):
        raise PartError("a table without its column dtypes")
    out: dict[str, Any] = {}
    for name, col, dtype in zip(table.column_names, table.columns, dtypes, strict=True):
        if dtype in ("object", _JSON_OBJECT):
            values = np.empty(len(col), dtype=object)
            items = col.to_pylist()
            values[:] = [json.loads(v) for v in items] if dtype == _JSON_OBJECT else items
            out[name] = values
            continue
        s = col.to_pandas()
        if str(s.dtype) != dtype:
            s = s.astype(pd.api.types.pandas_dtype(dtype))
        out[name] = s.reset_index(drop=True)
    return pd.DataFrame(out, columns=list(table.column_names))


def table_to_ipc(table: pa.Table) -> bytes:
    """An Arrow table as IPC stream bytes."""
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def table_from_ipc(data: bytes | memoryview) -> pa.Table:
    """The Arrow table of IPC stream bytes."""
    with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
        return reader.read_all()


def frame_to_ipc(df: pd.DataFrame) -> bytes:
    return table_to_ipc(frame_to_table(df))


def frame_from_ipc(data: bytes | memoryview) -> pd.DataFrame:
    return frame_from_table(table_from_ipc(data))


# ---- payloads ----------------------------------------------------------------------------

def encode_payload(p: Any) -> bytes:
    """A :class:`~simulator.runner.replications.ReplicationPayload` as part bytes."""
    sections: list[tuple[str, bytes]] = []
    sections += [(f"table/{name}", table_to_ipc(t)) for name, t in p.tables.items()]
    sections += [(f"summary/{name}", frame_to_ipc(df)) for name, df in p.summaries.items()]
    sections += [("sector_stats", frame_to_ipc(p.sector_stats)),
                 ("balance", frame_to_ipc(p.balance))]
    c = p.curve
    curve = {"days": pa.array(np.asarray(c.days, np.int32))}
    for i in range(len(c.sectors)):
        curve[f"fill_rate/{i}"] = pa.array(np.ascontiguousarray(c.fill_rate[:, i]), pa.float32())
        curve[f"shortfall_t/{i}"] = pa.array(np.ascontiguousarray(c.shortfall_t[:, i]),
                                             pa.float32())
    sections.append(("curve", table_to_ipc(pa.table(curve))))
    offsets, at = [], 0
    for name, data in sections:
        offsets.append([name, at, len(data)])
        at += len(data)
    header = json.dumps({
        "replication": int(p.replication), "seed": int(p.seed),
        "event_count": int(p.event_count), "step_days": int(p.step_days),
        "wall_seconds": float(p.wall_seconds), "sectors": list(c.sectors),
        "sections": offsets}).encode("utf-8")
    body = b"".join([len(header).to_bytes(8, "little"), header, *(d for _, d in sections)])
    return MAGIC + _CODEC.compress(body, asbytes=True) + len(body).to_bytes(8, "little")


def check_magic(data: bytes) -> None:
    """:exc:`PartError` unless ``data`` starts like a part of this format."""
    if not data.startswith(MAGIC):
        raise PartError("not a critmin part of this version (unknown format; parts of "
                        "critmin before 2026-12 were pickles and are not loaded)")


def decode_payload(data: bytes) -> Any:
    """The payload of part bytes; :exc:`PartError` if they are not a well-formed part."""
    from .replications import ReplicationPayload
    from .summaries import SectorCurve

    check_magic(data)
    try:
        size = int.from_bytes(data[-8:], "little")
        if not 8 < size <= _MAX_BODY:
            raise PartError(f"bad size {size}")
        body = memoryview(_CODEC.decompress(data[len(MAGIC):-8], decompressed_size=size,
                                            asbytes=True))
        n = int.from_bytes(body[:8], "little")
        if not 0 < n <= min(_MAX_HEADER, len(body) - 8):
            raise PartError("bad header length")
        head = json.loads(bytes(body[8:8 + n]).decode("utf-8"))
        base = 8 + n
        sections: dict[str, memoryview] = {}
        for name, offset, length in head["sections"]:
            if not (isinstance(name, str) and isinstance(offset, int) and isinstance(length, int)
                    and offset >= 0 and length >= 0 and base + offset + length <= len(body)):
                raise PartError("bad section")
            sections[name] = body[base + offset:base + offset + length]
        sectors = tuple(str(s) for s in head["sectors"])
        curve = table_from_ipc(sections["curve"])
        days = curve["days"].to_numpy().astype(np.int32)
        fill = np.empty((len(days), len(sectors)), np.float32)
        short = np.empty((len(days), len(sectors)), np.float32)
        for i in range(len(sectors)):
            fill[:, i] = curve[f"fill_rate/{i}"].to_numpy()
            short[:, i] = curve[f"shortfall_t/{i}"].to_numpy()
        return ReplicationPayload(
            replication=int(head["replication"]), seed=int(head["seed"]),
            tables={k.split("/", 1)[1]: table_from_ipc(v) for k, v in sections.items()
                    if k.startswith("table/")},
            summaries={k.split("/", 1)[1]: frame_from_ipc(v) for k, v in sections.items()
                       if k.startswith("summary/")},
            curve=SectorCurve(days, sectors, fill, short),
            sector_stats=frame_from_ipc(sections["sector_stats"]),
            balance=frame_from_ipc(sections["balance"]),
            event_count=int(head["event_count"]), step_days=int(head["step_days"]),
            wall_seconds=float(head["wall_seconds"]))
    except PartError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, pa.ArrowException, MemoryError,
            UnicodeDecodeError) as exc:
        raise PartError(f"malformed part ({type(exc).__name__}: {exc})") from None
