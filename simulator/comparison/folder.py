"""The comparison folder: written into a hidden temp folder and renamed into place whole."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["StagedFolder", "default_out", "shown_path", "slug"]


def slug(text: str, limit: int = 60) -> str:
    """``text`` as a file-name part: runs of other characters as ``_``, at most ``limit``."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.")
    return s[:limit] or "x"


def default_out(names: Sequence[str]) -> Path:
    """``results/compare/<UTC time>-<names joined by -vs->``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / "compare" / f"{stamp}-{slug('-vs-'.join(names), 80)}"


def shown_path(path: Path, folder: Path) -> str:
    """``path`` relative to the compare ``folder`` when inside it (the report moves with it)."""
    try:
        return str(path.resolve().relative_to(folder.resolve()))
    except ValueError:
        return str(path)


class StagedFolder:
    """The output folder, written as a hidden temp folder next to it and renamed into place by
    :meth:`publish` (``name-2``, ``name-3``... when ``name`` exists and is not empty), so it
    appears whole or not at all. Leaving the ``with`` block by an exception (a full disk,
    Ctrl-C) removes it, except the run folders that finished under ``runs/``, which are whole
    and are moved to the final place (and ``notify`` says where)."""

    def __init__(self, target: Callable[[], Path],
                 notify: Callable[[str], object] = lambda _message: None):
        self._target = target
        self._notify = notify
        self._final: Path | None = None
        self._tmp: Path | None = None
        self._staged: Path | None = None
        """The temp folder, remembered after publishing (for :meth:`final`)."""

    def dir(self) -> Path:
        """The temp folder (created on first use): write everything here."""
        if self._tmp is None:
            target = self._target()
            target.parent.mkdir(parents=True, exist_ok=True)
            self._final = self._free(target)
            self._tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
            self._tmp.mkdir()
            self._staged = self._tmp
        return self._tmp

    @staticmethod
    def _free(target: Path) -> Path:
        for n in itertools.count(1):
            path = target if n == 1 else target.with_name(f"{target.name}-{n}")
            if not path.exists() or (path.is_dir() and not any(path.iterdir())):
                return path
        raise AssertionError("unreachable")

    def final(self, path: Path) -> Path:
        """Where ``path`` (inside the temp folder) is, or will be, once published."""
        if self._staged is None or self._final is None:
            return path
        try:
            return self._final / path.relative_to(self._staged)
        except ValueError:
            return path

    def publish(self) -> Path:
        """Rename the temp folder into place; its final path."""
        assert self._tmp is not None and self._final is not None
        if self._final.is_dir():
            self._final.rmdir()  # an empty folder (e.g. --out made beforehand)
        os.rename(self._tmp, self._final)
        self._tmp = None
        return self._final

    def __enter__(self) -> StagedFolder:
        return self

    def __exit__(self, kind: object, *_exc: object) -> None:
        if kind is None or self._tmp is None:
            return
        runs = self._tmp / "runs"
        if self._final is not None and runs.is_dir() and any(runs.iterdir()):
            # finished run folders are whole: keep them (nothing else of the comparison)
            with contextlib.suppress(OSError):
                self._final.mkdir(parents=True, exist_ok=True)
                os.rename(runs, self._final / "runs")
                self._notify(f"the runs that finished are kept in {self._final / 'runs'}")
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = None
