"""What the commands share: error messages on standard error, the mapping of exceptions to
exit codes (:func:`guarded`), progress bars, and checks of shared options."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from ..exit_codes import EXIT_INTERNAL, EXIT_IOERR, EXIT_USAGE, exit_for_signal
from ..scenario.errors import ScenarioError, ScenarioWarning

__all__ = [
    "DISRUPTION_HELP",
    "ExecutorName",
    "check_disruption",
    "err",
    "guarded",
    "interrupted",
    "progress_bar",
    "replication_progress",
    "report_leftovers",
    "report_problems",
]

F = TypeVar("F", bound=Callable[..., Any])


class ExecutorName(StrEnum):
    local = "local"
    dask = "dask"


def err(message: str) -> None:
    """``message`` on standard error."""
    typer.echo(message, err=True)


def report_problems(exc: ScenarioError) -> None:
    """Every problem of ``exc``, one ``file:line:col: key.path: message`` per line."""
    for problem in exc.problems:
        err(str(problem))


def interrupted(exc: BaseException) -> int:
    """Say which stop signal interrupted the command; its exit code (128 + the signal)."""
    from ..runner.signals import signal_name, signal_of

    signum = signal_of(exc)
    err(f"critmin: interrupted by {signal_name(signum)}")
    return exit_for_signal(signum)


@contextlib.contextmanager
def _scenario_warnings_to_stderr() -> Iterator[None]:
    """Print each ScenarioWarning (``file:line:col: key.path: warning: ...``) on standard
    error, once; other warnings as usual."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", ScenarioWarning)
        show, shown = warnings.showwarning, set()

        def print_warning(message: Any, category: type[Warning], *args: Any,
                          **kwargs: Any) -> None:
            if issubclass(category, ScenarioWarning):
                if str(message) not in shown:  # a sweep loads its scenario at every point
                    shown.add(str(message))
                    err(str(message))
            else:
                show(message, category, *args, **kwargs)

        warnings.showwarning = print_warning
        yield


def describe_os_error(exc: OSError) -> str:
    """One line for an I/O error; a full disk (also as pyarrow words it) says so plainly."""
    where = f" (writing {exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC or "No space left on device" in str(exc):
        return f"No space left on device{where}: the disk is full; free some space"
    return str(exc)


def guarded(func: F) -> F:
    """Map a command's exceptions to exit codes with one-line messages (no tracebacks)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _scenario_warnings_to_stderr():
                return func(*args, **kwargs)
        except ScenarioError as exc:
            report_problems(exc)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt as exc:
            raise typer.Exit(interrupted(exc)) from None
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except OSError as exc:  # unwritable --out, full disk...: not a bug
            err(f"critmin: error: {describe_os_error(exc)}")
            raise typer.Exit(EXIT_IOERR) from None
        except Exception as exc:
            if os.environ.get("CRITMIN_DEBUG") == "1":
                raise
            detail = " ".join(str(exc).split()) or "(no message)"
            err(f"critmin: internal error: {type(exc).__name__}: {detail}")
            err("critmin: this is a bug; please report it with the command you ran "
                "(rerun with CRITMIN_DEBUG=1 for a traceback)")
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def progress_bar(label: str, total: int | None = None) -> Iterator[tuple[Any, Any]]:
    """A ``label`` progress bar on stderr, only when stderr is a terminal: units done and
    time left. Yields (bar, task); call ``bar.refresh()`` after each update (no refresh
    thread, so a process pool can still be forked safely)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True, auto_refresh=False,
                  disable=not sys.stderr.isatty()) as bar:
        yield bar, bar.add_task(label, total=total)


@contextlib.contextmanager
def replication_progress(total: int) -> Iterator[Callable[[Any], None]]:
    """A replication progress bar (:func:`progress_bar`) advanced once per replication."""
    with progress_bar("replications", total) as (bar, task):
        def advance(_done: Any) -> None:
            bar.advance(task)
            bar.refresh()

        yield advance


DISRUPTION_HELP = ("Count the time to first shortfall from this event (default: per demand "
                   "sector, the first event that can reduce its supply).")


def check_disruption(scenarios: list[Any], disruption: str | None) -> None:
    """Exit 2 (usage) naming the known event ids when none of ``scenarios`` has event
    ``disruption``."""
    from ..comparison import missing_event

    problem = missing_event(scenarios, disruption)
    if problem:
        err(f"critmin: error: --disruption: {problem}")
        raise typer.Exit(EXIT_USAGE)


def report_leftovers(out: Path, skip: Path | None = None) -> None:
    """Say which unfinished runs under ``out`` can be resumed, and how."""
    import shlex

    from ..runner.journal import leftovers

    for left in leftovers(out):
        if skip is None or left.folder.resolve() != skip.resolve():
            err(f"critmin: unfinished run {left.folder} ({left.saved} of {left.requested} "
                "replication(s) saved); resume it with: critmin run --resume "
                f"{shlex.quote(str(left.folder))}")

