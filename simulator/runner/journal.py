"""Durable progress of a run being written: what survives a SIGKILL, and resuming from it.

A run's hidden staging folder (``<out>/<scenario>/.<run name>.tmp-<pid>/``, see
:mod:`~simulator.runner.store`) holds, besides the Parquet files being streamed:

- ``run.json``: what the run is (scenario file, ``--set`` overrides, scenario sha256, seed,
  replication ids, disruption, start time, writer pid), written atomically at the start;
- ``parts/r<replication>.part``: each finished replication's payload
  (:class:`~simulator.runner.replications.ReplicationPayload` as Arrow IPC and JSON, zstd;
  :func:`~simulator.runner.codec.encode_payload`: data only, never a pickle), written
  atomically (temp file, fsync, ``os.replace``) as soon as it finishes, whatever order
  replications finish in;
- ``journal.jsonl``: one JSON line per saved part (replication, part file name, sha256,
  bytes), appended after the part is on disk, flushed and fsync'd.

A replication counts as done only when a journal line names it and its part has that sha256
and this format's first bytes; a part or line that does not check out is reported by path and
its replication run again. Loading a part parses Arrow IPC and JSON only, so a crafted staging
folder (a journal and parts that agree) cannot make ``--resume`` run code.
These files are removed before the run folder is published.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .codec import PartError, check_magic, decode_payload, encode_payload

__all__ = ["JOURNAL", "PARTS", "STATE", "Journal", "Leftover", "Progress", "leftovers",
           "pid_alive", "read_progress", "read_state", "write_atomic"]

STATE, JOURNAL, PARTS = "run.json", "journal.jsonl", "parts"
FORMAT = 2
REQUIRED = ("scenario_path", "overrides", "seed", "replication_ids", "disruption",
            "scenario_sha256", "started_at", "pid")


class ResumeError(ValueError):
    """A staging folder cannot be resumed (not one, or unreadable ``run.json``)."""


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be fsync'd
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all or nothing (:func:`simulator.atomic.atomic_write`:
    a temp file, fsync, ``os.replace``), then fsync the folder so the rename is durable."""
    from ..atomic import atomic_write

    atomic_write(path, lambda tmp: tmp.write_bytes(data))
    _fsync_dir(path.parent)


def _part_name(replication: int) -> str:
    return f"r{replication:06d}.part"


class Journal:
    """The durable record of a staging folder: :meth:`record` saves a finished replication."""

    def __init__(self, folder: Path):
        self.folder = folder
        (folder / PARTS).mkdir(exist_ok=True)
        self._file: IO[str] | None = (folder / JOURNAL).open("a", encoding="utf-8")

    @classmethod
    def create(cls, folder: Path, state: dict[str, Any]) -> Journal:
        write_atomic(folder / STATE, _state_bytes(state))
        return cls(folder)

    def record(self, payload: Any) -> None:
        """Save one finished replication's payload, then journal it (flushed and fsync'd)."""
        assert self._file is not None, "journal closed"
        data = encode_payload(payload)
        name = _part_name(payload.replication)
        write_atomic(self.folder / PARTS / name, data)
        line = {"replication": int(payload.replication), "part": name,
                "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def discard(self) -> None:
        """Remove the journal, the parts and ``run.json`` (the run is being published)."""
        self.close()
        shutil.rmtree(self.folder / PARTS, ignore_errors=True)
        for name in (JOURNAL, STATE):
            with contextlib.suppress(FileNotFoundError):
                (self.folder / name).unlink()


def _state_bytes(state: dict[str, Any]) -> bytes:
    return (json.dumps({"format": FORMAT, **state}, indent=2) + "\n").encode("utf-8")


def update_state(folder: Path, **changes: Any) -> dict[str, Any]:
    """Rewrite ``run.json`` (atomically) with ``changes``; return the new state."""
    state = {k: v for k, v in read_state(folder).items() if k != "format"} | changes
    write_atomic(folder / STATE, _state_bytes(state))
    return state


def read_state(folder: Path) -> dict[str, Any]:
    """``run.json`` of a staging folder; :exc:`ResumeError` naming the path if unusable."""
    path = folder / STATE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResumeError(f"{folder}: not a resumable run (no {STATE}; only runs started "
                          "by this version of critmin can be resumed)") from None
    except (OSError, ValueError) as exc:
        raise ResumeError(f"{path}: unreadable ({exc})") from None
    if isinstance(state, dict) and state.get("format") == 1:
        raise ResumeError(f"{folder}: written by an older critmin (its parts are pickles, "
                          "which are not loaded); run the scenario again")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ResumeError(f"{path}: unknown format")
    missing = [k for k in REQUIRED if k not in state]
    if missing:
        raise ResumeError(f"{folder}: not a resumable run ({STATE} lacks {', '.join(missing)}; "
                          "only runs of `critmin run` can be resumed)")
    return state


@dataclass
class Progress:
    """What a staging folder's journal says: verified parts, and what did not check out."""

    folder: Path
    parts: dict[int, tuple[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def load(self, replication: int) -> Any:
        """The saved payload of ``replication`` (its sha256 checked again; data only:
        :exc:`~simulator.runner.codec.PartError` naming the path if it is not a part)."""
        name, sha = self.parts[replication]
        path = self.folder / PARTS / name
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha:
            raise OSError(f"{path}: changed since it was checked (sha256 mismatch)")
        try:
            return decode_payload(data)
        except PartError as exc:
            raise PartError(f"{path}: {exc}") from None


def read_progress(folder: Path) -> Progress:
    """Check every journal line and part; a line or part that does not check out is listed
    in ``problems`` (by path) and its replication left out (so it is run again)."""
    out = Progress(folder)
    path = folder / JOURNAL
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return out
    bad: dict[int, str] = {}
    for i, text in enumerate(lines, 1):
        try:
            entry = json.loads(text)
            r, name, sha = int(entry["replication"]), str(entry["part"]), str(entry["sha256"])
            if name != _part_name(r):
                raise ValueError(name)
        except (ValueError, KeyError, TypeError):
            out.problems.append(f"{path}:{i}: unreadable journal line (ignored)")
            continue
        part = folder / PARTS / name
        try:
            data = part.read_bytes()
        except OSError as exc:
            bad[r] = f"{part}: cannot be read ({exc.strerror or exc})"
            continue
        if hashlib.sha256(data).hexdigest() != sha:
            bad[r] = f"{part}: sha256 does not match the journal (corrupt)"
            out.parts.pop(r, None)
            continue
        try:
            check_magic(data)
        except PartError as exc:
            bad[r] = f"{part}: refused: {exc}"
            out.parts.pop(r, None)
            continue
        out.parts[r] = (name, sha)
        bad.pop(r, None)
    out.problems.extend(f"{msg}; replication {r} will be run again"
                        for r, msg in sorted(bad.items()) if r not in out.parts)
    return out


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a reused pid reads as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Leftover:
    """An unfinished run: a staging folder whose writer is gone."""

    folder: Path
    saved: int
    requested: int


def leftovers(out_root: Path) -> Iterator[Leftover]:
    """Staging folders under ``out_root/<scenario>/`` with a ``run.json`` whose pid is dead."""
    for folder in sorted(out_root.glob("*/.*.tmp-*")):
        try:
            state = read_state(folder)
            pid = int(state["pid"])
        except (ResumeError, KeyError, TypeError, ValueError):
            continue
        if pid_alive(pid):
            continue
        yield Leftover(folder, len(read_progress(folder).parts),
                       len(state.get("replication_ids", [])))
