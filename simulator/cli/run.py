"""``critmin run``: run a scenario into a run folder (or resume an unfinished one), then print
its KPI table."""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..exit_codes import EXIT_INTERNAL, EXIT_UNAVAILABLE, EXIT_USAGE, exit_for_signal
from .common import (
    DISRUPTION_HELP,
    ExecutorName,
    check_disruption,
    err,
    guarded,
    replication_progress,
    report_leftovers,
)
from .output import FORMAT_OPTION, OutputFormat, print_rich, print_rows, say
from .root import app

__all__ = ["COUNTRY_COLUMNS", "RUN_COLUMNS", "check_countries", "run"]


@app.command()
@guarded
def run(
    scenario: Annotated[Path | None, typer.Argument(
        metavar="[SCENARIO]", help="Scenario YAML file (not with --resume).")] = None,
    replications: Annotated[int | None, typer.Option(
        "-n", "--replications", min=1,
        help="Number of replications, 0..N-1 (default 1).")] = None,
    replication: Annotated[int | None, typer.Option(
        "--replication", min=0, metavar="K",
        help="Run only replication K (same draws as replication K of a larger run).")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", min=0, help="Root random seed (default 0).")] = None,
    workers: Annotated[int | None, typer.Option(
        "-j", "--workers", min=1,
        help="Worker processes (default: all cores; 1 runs in this process).")] = None,
    executor: Annotated[ExecutorName, typer.Option(
        "--executor", help="local (process pool) or dask (needs the dask extra).",
        case_sensitive=False)] = ExecutorName.local,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS",
        help="Dask scheduler (tcp://host:8786); default: a local cluster on 127.0.0.1.")] = None,
    connect_timeout: Annotated[float, typer.Option(
        "--connect-timeout", metavar="SECONDS", min=0.1,
        help="How long a --scheduler has to answer (default 10).")] = 10.0,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY.PATH=VALUE",
        help="Override one scenario value (repeatable).")] = None,
    out: Annotated[Path, typer.Option("--out", metavar="DIR",
                                      help="Results root folder.")] = Path("results"),
    disruption: Annotated[str | None, typer.Option(
        "--disruption", metavar="EVENT_ID", help=DISRUPTION_HELP)] = None,
    resume: Annotated[Path | None, typer.Option(
        "--resume", metavar="RUN_DIR",
        help="Continue an unfinished run (a killed run's hidden staging folder, as printed by "
             "critmin run and critmin list): same scenario, seed and replications; only the "
             "missing replications are run.")] = None,
    country: Annotated[list[str] | None, typer.Option(
        "--country", metavar="CODE",
        help="Show this country's demand sectors (repeatable) instead of the world's sectors "
             "in the table printed at the end; kpis.csv holds every country.")] = None,
    fmt: FORMAT_OPTION = OutputFormat.table,
) -> None:
    """Run SCENARIO and write a results folder (tables, KPIs, figures, manifest)."""
    from ..runner import make_evaluator
    from ..scenario import load_scenario

    if resume is not None:
        if (scenario, replications, replication, seed, set_, disruption) != (None,) * 6:
            raise typer.BadParameter(
                "takes the scenario, seed and replications from the unfinished run: give no "
                "SCENARIO, -n, --replication, --seed, --set or --disruption with it",
                param_hint="'--resume'")
        return _resume(resume, workers, executor, scheduler, connect_timeout, country or [],
                       fmt)
    if scenario is None:
        raise typer.BadParameter("missing SCENARIO (or --resume RUN_DIR)",
                                 param_hint="'SCENARIO'")
    if replication is not None and replications is not None and replication >= replications:
        raise typer.BadParameter(f"replication {replication} is not among 0..{replications - 1}",
                                 param_hint="'--replication'")
    try:
        evaluator = make_evaluator(executor.value, workers, scheduler, connect_timeout)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--scheduler'") from None
    ids = [replication] if replication is not None else list(range(replications or 1))
    overrides = list(set_ or [])
    sc = load_scenario(scenario, overrides=overrides)
    check_disruption([sc], disruption)
    countries = check_countries(sc, country or [])
    seed = seed or 0
    state = {"scenario_path": str(scenario.resolve()), "overrides": overrides, "seed": seed,
             "replication_ids": ids, "disruption": disruption}
    _execute(sc, ids, seed, evaluator, out, overrides, disruption, state,
             countries=countries, fmt=fmt)


def _resume(run_dir: Path, workers: int | None, executor: ExecutorName,
            scheduler: str | None, connect_timeout: float, country: Sequence[str] = (),
            fmt: OutputFormat = OutputFormat.table) -> None:
    """``critmin run --resume RUN_DIR``: check the unfinished run, then run what is missing."""
    from ..runner import make_evaluator
    from ..runs import ResumeRefused, prepare_resume

    try:
        todo = prepare_resume(run_dir)
    except ResumeRefused as exc:
        err(f"critmin: error: {exc}")
        raise typer.Exit(exc.code) from None
    for problem in todo.journal.problems:
        err(f"critmin: warning: {problem}")
    err(f"critmin: resuming {run_dir}: {len(todo.journal.parts)} of {len(todo.ids)} "
        "replication(s) saved")
    try:
        evaluator = make_evaluator(executor.value, workers, scheduler, connect_timeout)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--scheduler'") from None
    _execute(todo.scenario, todo.ids, todo.seed, evaluator, todo.out_root, todo.overrides,
             todo.disruption, todo.state, resume=run_dir, started_at=todo.started_at,
             journal=todo.journal, countries=check_countries(todo.scenario, country), fmt=fmt)


def _say() -> Any:
    """What ``critmin run`` says on standard error while the run goes and is saved (a
    :class:`simulator.runs.RunEvents`)."""
    from ..runner import RunInterrupted
    from ..runner.signals import signal_name
    from ..runs import RunEvents

    class Say(RunEvents):
        def failed(self, exc: Any) -> None:
            err(f"critmin: {exc}")

        def saving(self, finished: int, stopped: Any) -> None:
            why = "interrupted; " if isinstance(stopped, RunInterrupted) else ""
            err(f"critmin: {why}saving the {finished} finished replication(s)")

        def signal_while_saving(self, signum: int) -> None:
            err(f"critmin: {signal_name(signum)}: saving the run folder first; press Ctrl-C "
                "again (or send the signal again) to abandon it")

        def kept(self, saved: int, folder: Path) -> None:
            err(f"critmin: {saved} finished replication(s) saved in {folder}; resume with: "
                f"critmin run --resume {shlex.quote(str(folder))}")

    return Say()


def _execute(sc: Any, ids: list[int], seed: int, evaluator: Any, out: Path,
             overrides: list[str], disruption: str | None, state: dict[str, Any], *,
             resume: Path | None = None, started_at: Any = None, journal: Any = None,
             countries: Sequence[str] = (), fmt: OutputFormat = OutputFormat.table) -> None:
    """Run ``ids`` of ``sc`` into a run folder under ``out`` (:func:`simulator.runs.execute_run`),
    then say how it ended and print its table (``critmin run``)."""
    from ..runner import ExecutorUnavailable, ReplicationFailed, RunInterrupted
    from ..runner.signals import signal_name
    from ..runs import execute_run

    report_leftovers(out, skip=resume)
    try:
        done = execute_run(sc, ids, seed, evaluator, out, overrides=overrides,
                           disruption=disruption, state=state, resume=resume,
                           started_at=started_at, journal=journal,
                           progress=replication_progress, events=_say())
    except ExecutorUnavailable as exc:
        err(f"critmin: error: {exc}")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    results, run_dir, stopped = done.results, done.run_dir, done.stopped
    n_done = f"{results.replications} of {len(ids)} replication(s)"
    kept = f"kept in {run_dir} (manifest status: interrupted)" if run_dir else "nothing kept"
    if done.kept is not None:
        kept = (f"saved in {done.kept}; resume with: critmin run --resume "
                f"{shlex.quote(str(done.kept))}")
    if done.late_signal is not None:
        err(f"critmin: interrupted by {signal_name(done.late_signal)} after all {n_done} "
            f"finished; kept in {run_dir} (manifest status: complete)")
        raise typer.Exit(exit_for_signal(done.late_signal))
    if stopped is not None:
        if isinstance(stopped, RunInterrupted):
            err(f"critmin: interrupted by {signal_name(stopped.signum)} after {n_done}; "
                f"{kept}")
            raise typer.Exit(exit_for_signal(stopped.signum))
        if isinstance(stopped, ReplicationFailed):
            if os.environ.get("CRITMIN_DEBUG") == "1" and stopped.traceback_text:
                err(stopped.traceback_text.rstrip())
            err(f"critmin: rerun it alone with --replication {stopped.replication} "
                f"--seed {stopped.seed} (CRITMIN_DEBUG=1 shows the traceback)")
        err(f"critmin: {n_done} finished; {kept}")
        raise typer.Exit(EXIT_INTERNAL)

    if countries:
        _print_country_table(sc.name, len(ids), seed, results.kpis, countries, fmt)
    else:
        _print_run_table(sc.name, len(ids), seed, results.sector_summary(), fmt)
    say(fmt, f"Run folder: {run_dir}")
    say(fmt, f"Figures:    {run_dir / 'fill_rate.png'}  {run_dir / 'fill_rate.svg'}")


RUN_COLUMNS = ("sector", "fill_rate_min", "trough_fill_rate_min", "shortfall_t_mean")
"""Columns of ``critmin run --format csv|json``: the sector summary the table shows."""


def _print_run_table(name: str, n: int, seed: int, summary: Any, fmt: OutputFormat) -> None:
    """The KPI table of ``critmin run``: rich, or its numbers as csv / json."""
    if fmt is not OutputFormat.table:
        print_rows(fmt, summary.to_dict("records"), RUN_COLUMNS)
        return
    table = Table(title=f"{name}: {n} replication(s), seed {seed}")
    for col in ("Sector", "Fill rate (worst rep)", "Worst step", "Shortfall t (mean/rep)"):
        table.add_column(col, justify="left" if col == "Sector" else "right")
    for row in summary.itertuples():
        table.add_row(row.sector, f"{row.fill_rate_min:.1%}", f"{row.trough_fill_rate_min:.1%}",
                      f"{row.shortfall_t_mean:,.1f}")
    print_rich(table)


COUNTRY_COLUMNS = ("country", "demand_id", "sector", "material", "fill_rate_min",
                   "trough_fill_rate_min", "shortfall_t_mean")
"""Columns of ``critmin run --country ... --format csv|json``."""


def check_countries(scenario: Any, codes: Sequence[str]) -> list[str]:
    """``codes`` (upper-cased), checked against the countries with demand in ``scenario``;
    exits 2 naming them otherwise."""
    have = sorted({d.country for d in scenario.demand.values()})
    wanted = [c.upper() for c in codes]
    unknown = [c for c in wanted if c not in have]
    if unknown:
        err(f"critmin: error: --country: no demand in {', '.join(unknown)} (countries with "
            f"demand: {', '.join(have)})")
        raise typer.Exit(EXIT_USAGE)
    return list(dict.fromkeys(wanted))


def _print_country_table(name: str, n: int, seed: int, kpis: Any, countries: Sequence[str],
                         fmt: OutputFormat) -> None:
    """Per demand sector of ``countries``: worst replication's fill rate, worst step, mean
    shortfall per replication (from the run's kpis)."""
    k = kpis[kpis["country"].astype(str).isin(countries)]
    rows = (k.groupby(["country", "demand_id", "sector", "material"], observed=True, sort=True)
            .agg(fill_rate_min=("fill_rate", "min"),
                 trough_fill_rate_min=("trough_fill_rate", "min"),
                 shortfall_t_mean=("cumulative_shortfall_t", "mean"))
            .reset_index())
    if fmt is not OutputFormat.table:
        print_rows(fmt, rows.to_dict("records"), COUNTRY_COLUMNS)
        return
    table = Table(title=f"{name}: {n} replication(s), seed {seed}; demand sectors of "
                        f"{', '.join(countries)}")
    for col in ("Demand sector", "Fill rate (worst rep)", "Worst step", "Shortfall t (mean/rep)"):
        table.add_column(col, justify="left" if col == "Demand sector" else "right")
    for row in rows.itertuples():
        table.add_row(f"{row.demand_id} ({row.material})", f"{row.fill_rate_min:.1%}",
                      f"{row.trough_fill_rate_min:.1%}", f"{row.shortfall_t_mean:,.1f}")
    print_rich(table)
