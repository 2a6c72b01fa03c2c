"""Running a scenario into a run folder the way ``critmin run`` does, callable without the
command line: no stop signal loses finished work, a stopped run keeps what finished, and an
unfinished (killed) run can be resumed.

:func:`execute_run` runs replications into a :class:`~simulator.runner.RunWriter` (each saved
to the journal as it finishes), draws the figures and publishes the folder; it returns a
:class:`RunOutcome` and tells a :class:`RunEvents` what happens on the way (the command line
prints it). :func:`prepare_resume` checks an unfinished run's staging folder and returns what
:func:`execute_run` needs to finish it.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exit_codes import EXIT_INVALID, EXIT_MISSING, EXIT_USAGE

if TYPE_CHECKING:
    from .runner.store import FigureWriter

__all__ = ["Resume", "ResumeRefused", "RunEvents", "RunOutcome", "execute_run",
           "prepare_resume"]


class RunEvents:
    """What :func:`execute_run` reports on the way (override the methods; they do nothing)."""

    def failed(self, exc: Any) -> None:
        """A replication raised, or a worker died (``exc``: RunFailed), before saving."""

    def saving(self, finished: int, stopped: Any) -> None:
        """A stopped run (``stopped``: RunInterrupted or RunFailed) saves its ``finished``
        replications."""

    def signal_while_saving(self, signum: int) -> None:
        """A first stop signal came while the folder was being saved (a second one stops)."""

    def kept(self, saved: int, folder: Path) -> None:
        """Writing failed (OSError, re-raised next): ``saved`` replications are kept in the
        staging ``folder``, which :func:`prepare_resume` can resume."""


@dataclass
class RunOutcome:
    """How :func:`execute_run` ended."""

    results: Any
    """The RunResults of the replications that finished."""
    requested: int
    run_dir: Path | None
    """The published run folder (None: nothing published)."""
    kept: Path | None
    """The staging folder kept for resuming (a dead worker), else None."""
    stopped: Any = None
    """RunInterrupted or RunFailed when the run stopped early, else None."""
    late_signal: int | None = None
    """A stop signal that came after every replication had finished."""


def execute_run(scenario: Any, ids: Sequence[int], seed: int, evaluator: Any,
                out_root: Path, *, overrides: Sequence[str] = (), disruption: str | None = None,
                state: dict[str, Any] | None = None, resume: Path | None = None,
                started_at: dt.datetime | None = None, journal: Any = None,
                progress: Callable[[int], AbstractContextManager[Callable[[Any], None]]]
                | None = None, events: RunEvents | None = None,
                figures: FigureWriter | None = None) -> RunOutcome:
    """Run replications ``ids`` of ``scenario`` with ``evaluator`` into a new run folder
    under ``out_root`` (or finish the staging folder ``resume`` with the verified ``journal``
    parts of :func:`prepare_resume`); ``state`` is recorded for resuming.

    Stop signals are held outside the run, raised inside it (the run stops, the finished
    replications are saved) and only noted while saving (:mod:`simulator.runner.signals`).
    ``progress(todo)`` is a context manager around the run that yields a callback called once
    per finished replication (a progress bar). ``figures`` draws the figures (default:
    :func:`~simulator.report.run_figures.draw_run_figures`). Raises
    ExecutorUnavailable, and OSError when the folder cannot be written (after
    ``events.kept``)."""
    from .runner import ReplicationFailed, RunFailed, RunInterrupted, RunWriter, run_scenario
    from .runner.signals import confirm_stop, hold_stop_signals

    if figures is None:
        from .report.run_figures import draw_run_figures as figures
    events = events or RunEvents()
    progress = progress or (lambda _todo: nullcontext(lambda _payload: None))
    stopped: RunInterrupted | RunFailed | None = None
    run_dir: Path | None = None
    writer: RunWriter | None = None
    with hold_stop_signals() as held:
        try:
            writer = RunWriter(scenario, out_root=out_root, overrides=overrides,
                               state=state, resume=resume, started_at=started_at,
                               figures=figures)
            with writer:
                saved = None
                if journal is not None:  # the journal's parts, in the adopted folder
                    journal.folder = writer.tmp
                    saved = {r: functools.partial(journal.load, r) for r in journal.parts}
                todo = len(ids) - len(saved or ())
                with evaluator as ev, progress(todo) as advance:
                    def record(payload: Any) -> None:
                        writer.record(payload)  # on disk before it counts as done
                        advance(payload)

                    try:
                        results = run_scenario(scenario, list(ids), seed=seed,
                                               on_done=record, evaluator=ev, sink=writer,
                                               disruption=disruption, saved=saved)
                    except (RunInterrupted, RunFailed) as exc:
                        stopped, results = exc, exc.partial
                if isinstance(stopped, RunFailed) and isinstance(stopped.__cause__, OSError):
                    raise stopped.__cause__  # a full disk: keep the staging folder
                if isinstance(stopped, RunFailed):
                    events.failed(stopped)
                # a dead worker (not a replication that raised): keep the staging folder
                resumable = (isinstance(stopped, RunFailed)
                             and not isinstance(stopped, ReplicationFailed) and writer.saved)
                if results.replications and not resumable:
                    if stopped is not None:
                        events.saving(results.replications, stopped)
                    with confirm_stop(events.signal_while_saving):
                        run_dir = writer.close(results)
        except OSError:
            if writer is not None and writer.kept is not None:
                events.kept(writer.saved, writer.kept)
            raise
        late = held.signum  # came after the run had stopped
    return RunOutcome(results, len(ids), run_dir, writer.kept, stopped,
                      late if stopped is None else None)


class ResumeRefused(Exception):
    """An unfinished run that cannot be resumed: why, and the exit code."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


@dataclass
class Resume:
    """What :func:`execute_run` needs to finish an unfinished run (:func:`prepare_resume`)."""

    run_dir: Path
    scenario: Any
    state: dict[str, Any]
    journal: Any
    """The journal's verified parts (:func:`simulator.runner.journal.read_progress`)."""

    @property
    def ids(self) -> list[int]:
        return [int(r) for r in self.state["replication_ids"]]

    @property
    def seed(self) -> int:
        return int(self.state["seed"])

    @property
    def overrides(self) -> list[str]:
        return list(self.state["overrides"])

    @property
    def disruption(self) -> str | None:
        return self.state["disruption"]

    @property
    def started_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.state["started_at"])

    @property
    def out_root(self) -> Path:
        return self.run_dir.parent.parent


def prepare_resume(run_dir: Path) -> Resume:
    """Check the unfinished run in the staging folder ``run_dir``: its state, that no live
    process writes it, that its scenario file (with the overrides) is unchanged. Raises
    :class:`ResumeRefused` (exit 66, 65 or 2) and ScenarioError."""
    from .fingerprint import model_fingerprint
    from .runner.journal import ResumeError, pid_alive, read_progress, read_state
    from .scenario import load_scenario, scenario_sha256

    if not run_dir.is_dir():
        raise ResumeRefused(f"--resume: no such folder: {run_dir}", EXIT_MISSING)
    try:
        state = read_state(run_dir)
    except ResumeError as exc:
        raise ResumeRefused(f"--resume: {exc}", EXIT_INVALID) from None
    if state.get("pid") != os.getpid() and pid_alive(int(state.get("pid", 0))):
        raise ResumeRefused(f"--resume: {run_dir} is still being written by process "
                            f"{state['pid']}", EXIT_USAGE)
    path = Path(state["scenario_path"])
    sc = load_scenario(path, overrides=state["overrides"])
    if scenario_sha256(sc) != state["scenario_sha256"]:
        raise ResumeRefused(
            f"{path} (with its --set overrides) is not the scenario the run in {run_dir} "
            f"started with (scenario sha256 {scenario_sha256(sc)[:12]}, was "
            f"{state['scenario_sha256'][:12]}); refusing to resume: put the file back or "
            "start a new run", EXIT_INVALID)
    if state.get("model") != model_fingerprint():
        raise ResumeRefused(
            f"--resume: the run in {run_dir} was started by another version of critmin's "
            f"model (fingerprint {state.get('model') or 'not recorded'}, now "
            f"{model_fingerprint()}): its saved replications would mix with this version's; "
            "start a new run", EXIT_INVALID)
    return Resume(run_dir, sc, state, read_progress(run_dir))
