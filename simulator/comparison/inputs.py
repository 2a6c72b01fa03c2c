"""The inputs of a comparison: run folders read from disk, scenario files run with the same
seed and replications (common random numbers), the references, and the notes on how well they
pair."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis.period import compare_frame
from ..exit_codes import EXIT_INVALID, EXIT_MISSING, EXIT_USAGE

__all__ = [
    "CompareError",
    "CompareInput",
    "Progress",
    "check_options",
    "load_inputs",
    "missing_event",
    "pairing_notes",
    "resolve_references",
]

Progress = Callable[[int, str], AbstractContextManager[Any]]
"""``progress(replications, scenario_name)``: a context manager around the run of a scenario
file that yields the ``on_done`` callback of :func:`~simulator.runner.run_scenario` (or None)."""


class CompareError(Exception):
    """A comparison that cannot be made as asked: its message (as ``critmin compare`` prints
    it) and the exit code (:mod:`simulator.exit_codes`)."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


@dataclass
class CompareInput:
    """One compared scenario: its name, where it came from and its metrics."""

    name: str
    source: str  # "run folder" or "scenario file"
    path: Path
    run_dir: Path
    scenario: Any
    timeseries: pd.DataFrame
    seed: int | None
    replications: int
    status: str
    replication_ids: frozenset[int] = frozenset()


def missing_event(scenarios: Sequence[Any], event: str | None) -> str | None:
    """Why ``event`` (a ``--disruption``) cannot be used: none of ``scenarios`` has it (the
    message names the known event ids); None when some has it, or no event is given."""
    if event is None or any(event in sc.events for sc in scenarios):
        return None
    known = sorted({eid for sc in scenarios for eid in sc.events})
    return (f"no event {event!r} in {', '.join(sc.name for sc in scenarios)} (known event "
            f"ids: {', '.join(known) or 'none'})")


def check_options(scenarios: Sequence[Any], paths: Sequence[Path], *,
                  disruption: str | None = None, sectors: Sequence[str] = (),
                  references: Sequence[str] = (), demands: Sequence[str] = ()) -> None:
    """Check the options against every compared scenario before anything runs; raises
    :class:`CompareError` naming what is unknown (exit 2), or when the scenarios share no
    period (exit 65)."""
    common, frame = compare_frame({f"{sc.name} ({i + 1})": sc for i, sc in enumerate(scenarios)})
    if len(scenarios) > 1 and common is None:
        raise CompareError(f"critmin: error: {frame[0]}", EXIT_INVALID)
    problem = missing_event(scenarios, disruption)
    if problem:
        raise CompareError(f"critmin: error: --disruption: {problem}", EXIT_USAGE)
    known = sorted({d.sector for sc in scenarios for d in sc.demand.values()})
    unknown = [s for s in sectors if s not in known]
    if unknown:
        raise CompareError(f"critmin: error: --sector: unknown sector(s): "
                           f"{', '.join(unknown)} (known: {', '.join(known)})", EXIT_USAGE)
    known_refs = {sc.name for sc in scenarios} | {str(p) for p in paths} | {
        p.stem if p.is_file() else p.name for p in paths}
    unknown = [r for r in references if r not in known_refs]
    if unknown:
        raise CompareError(f"critmin: error: --reference: not a compared scenario: "
                           f"{', '.join(unknown)} (the scenarios: "
                           f"{', '.join(sorted(sc.name for sc in scenarios))})", EXIT_USAGE)
    ids = {did for sc in scenarios for did in sc.demand}
    unknown = [d for d in demands if d not in ids]
    if unknown:
        raise CompareError(f"critmin: error: --demand: unknown demand sector(s): "
                           f"{', '.join(unknown)}", EXIT_USAGE)


def load_inputs(paths: Sequence[Path], replications: int | None, seed: int | None,
                overrides: Sequence[str], runs_root: Callable[[], Path], progress: Progress,
                check: Callable[[list[Any]], None] = lambda _scenarios: None,
                workers: int | None = 1) -> list[CompareInput]:
    """Read the run folders and run the scenario files (after ``check`` has seen every
    scenario, so bad options fail before anything is run) into run folders under
    ``runs_root()``."""
    from ..report import DamagedRunFolder, RunFolderError, load_run
    from ..report.run_figures import draw_run_figures
    from ..runner import RunInterrupted, make_evaluator, run_scenario, write_run
    from ..scenario import load_scenario

    folders, files = [], []
    for p in paths:
        if not p.exists():
            raise CompareError(f"{p}: no such file", EXIT_MISSING)
        (folders if p.is_dir() else files).append(p)
    loaded: dict[Path, Any] = {}
    for p in folders:
        try:
            loaded[p] = load_run(p)
        except RunFolderError as exc:
            raise CompareError(f"critmin: {exc}", EXIT_MISSING) from None
        except DamagedRunFolder as exc:
            raise CompareError(f"critmin: damaged run folder: {exc}", EXIT_INVALID) from None
    # scenario files follow the run folders' seed and replications unless given
    run_seeds = {r.seed for r in loaded.values() if r.seed is not None}
    run_reps = {r.replications for r in loaded.values()}
    if seed is None:
        seed = run_seeds.pop() if len(run_seeds) == 1 else 0
    if replications is None:
        replications = max(run_reps) if run_reps else 10
    scenarios = {p: load_scenario(p, overrides=overrides) for p in files}  # all errors first
    check([*(r.scenario for r in loaded.values()), *scenarios.values()])
    for p in files:
        sc = scenarios[p]
        with make_evaluator("local", workers) as ev, progress(replications, sc.name) as on_done:
            try:
                results = run_scenario(sc, replications=replications, seed=seed,
                                       on_done=on_done, evaluator=ev)
            except RunInterrupted:
                raise KeyboardInterrupt from None
        run_dir = write_run(results, sc, out_root=runs_root(), seed=seed,
                            replications=replications, overrides=list(overrides),
                            figures=draw_run_figures)
        loaded[p] = load_run(run_dir)
    from ..analysis.compare import unique_names

    names = unique_names([loaded[p].name for p in paths])
    out = []
    for p, name in zip(paths, names, strict=True):
        r = loaded[p]
        out.append(CompareInput(
            name=name, source="run folder" if p.is_dir() else "scenario file", path=p,
            run_dir=r.path, scenario=r.scenario, timeseries=r.timeseries, seed=r.seed,
            replications=r.replications, status=str(r.manifest.get("status", "unknown")),
            replication_ids=frozenset(int(x) for x in r.timeseries["replication"].unique())))
    return out


def resolve_references(inputs: Sequence[CompareInput], requested: Sequence[str]) -> list[str]:
    """The compared names ``--reference`` values stand for (a compared name, the input as
    given, its file stem or folder name, or its scenario's name), without repeats; the first
    input without any."""
    out: list[str] = []
    for token in requested:
        for by in (lambda i: i.name, lambda i: str(i.path),
                   lambda i: i.path.stem if i.source == "scenario file" else i.path.name,
                   lambda i: i.scenario.name):
            hit = [i.name for i in inputs if by(i) == token]
            if hit:
                out += [h for h in hit[:1] if h not in out]
                break
        else:  # checked before running; a name that changed on loading
            raise CompareError(f"critmin: error: --reference: not a compared scenario: {token}",
                               EXIT_USAGE)
    return out or [inputs[0].name]


def pairing_notes(inputs: Sequence[CompareInput]) -> list[str]:
    """Warnings and notes on how the inputs pair: different seeds, different replications,
    unfinished runs, a single replication."""
    notes = []
    seeds = {i.seed for i in inputs}
    if len(seeds) > 1:
        notes.append("warning: the runs have different seeds ("
                     + ", ".join(f"{i.name}: {i.seed}" for i in inputs)
                     + "): replications are paired by number but do not share random "
                     "numbers, so the paired CIs are no narrower than unpaired ones")
    reps = {i.replications for i in inputs}
    ids = [i.replication_ids for i in inputs]
    if len(reps) > 1 or len(set(ids)) > 1:
        common = frozenset.intersection(*ids)
        notes.append("note: the runs hold different replications ("
                     + ", ".join(f"{i.name}: {i.replications}" for i in inputs)
                     + f"); differences pair the {len(common)} replication(s) all runs have")
    for i in inputs:
        if i.status not in ("complete", "unknown"):
            notes.append(f"warning: {i.name} ({i.run_dir}) has status {i.status!r}")
    if min(reps) < 2:
        notes.append("note: with one replication there are no confidence intervals; "
                     "use -n 10 or more")
    return notes
