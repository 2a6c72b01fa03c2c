"""``critmin run``: run a scenario into a run folder (or resume an unfinished one), then print
its KPI table."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..exit_codes import EXIT_INTERNAL, EXIT_INVALID, EXIT_MISSING, EXIT_UNAVAILABLE, EXIT_USAGE
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
    import datetime as dt

    from ..runner import make_evaluator
    from ..runner.journal import ResumeError, pid_alive, read_progress, read_state
    from ..scenario import load_scenario, scenario_sha256

    if not run_dir.is_dir():
        err(f"critmin: error: --resume: no such folder: {run_dir}")
        raise typer.Exit(EXIT_MISSING)
    try:
        state = read_state(run_dir)
    except ResumeError as exc:
        err(f"critmin: error: --resume: {exc}")
        raise typer.Exit(EXIT_INVALID) from None
    if state.get("pid") != os.getpid() and pid_alive(int(state.get("pid", 0))):
        err(f"critmin: error: --resume: {run_dir} is still being written by process "
             f"{state['pid']}")
        raise typer.Exit(EXIT_USAGE)
    path = Path(state["scenario_path"])
    sc = load_scenario(path, overrides=state["overrides"])
    if scenario_sha256(sc) != state["scenario_sha256"]:
        err(f"critmin: error: {path} (with its --set overrides) is not the scenario the run "
             f"in {run_dir} started with (scenario sha256 {scenario_sha256(sc)[:12]}, was "
             f"{state['scenario_sha256'][:12]}); refusing to resume: put the file back or "
             "start a new run")
        raise typer.Exit(EXIT_INVALID)
    progress = read_progress(run_dir)
    for problem in progress.problems:
        err(f"critmin: warning: {problem}")
    ids = [int(r) for r in state["replication_ids"]]
    err(f"critmin: resuming {run_dir}: {len(progress.parts)} of {len(ids)} replication(s) "
         "saved")
    try:
        evaluator = make_evaluator(executor.value, workers, scheduler, connect_timeout)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--scheduler'") from None
    _execute(sc, ids, int(state["seed"]), evaluator, run_dir.parent.parent,
             list(state["overrides"]), state["disruption"], state, resume=run_dir,
             started_at=dt.datetime.fromisoformat(state["started_at"]), progress=progress,
             countries=check_countries(sc, country), fmt=fmt)


def _execute(sc: Any, ids: list[int], seed: int, evaluator: Any, out: Path,
             overrides: list[str], disruption: str | None, state: dict[str, Any], *,
             resume: Path | None = None, started_at: Any = None,
             progress: Any = None, countries: Sequence[str] = (),
             fmt: OutputFormat = OutputFormat.table) -> None:
    """Run ``ids`` of ``sc`` into a run folder under ``out`` (``critmin run``)."""
    import shlex

    from ..report.run_figures import draw_run_figures
    from ..runner import (
        ExecutorUnavailable,
        ReplicationFailed,
        RunFailed,
        RunInterrupted,
        RunWriter,
        run_scenario,
    )
    from ..runner.signals import confirm_stop, hold_stop_signals, signal_name

    report_leftovers(out, skip=resume)
    stopped: RunInterrupted | RunFailed | None = None

    def saving(signum: int) -> None:
        err(f"critmin: {signal_name(signum)}: saving the run folder first; press Ctrl-C "
             "again (or send the signal again) to abandon it")

    # From here to the saved folder no stop signal is lost or loses the finished work: held
    # outside the run, raised inside it (RunInterrupted), noted while saving.
    writer: RunWriter | None = None
    with hold_stop_signals() as held:
        try:
            writer = RunWriter(sc, out_root=out, overrides=overrides, state=state,
                               resume=resume, started_at=started_at,
                               figures=draw_run_figures)
            with writer:
                saved = None
                if progress is not None:  # the journal's parts, in the adopted folder
                    progress.folder = writer.tmp
                    saved = {r: functools.partial(progress.load, r) for r in progress.parts}
                todo = len(ids) - len(saved or ())
                with evaluator as ev, replication_progress(todo) as advance:
                    def on_done(payload: Any) -> None:
                        writer.record(payload)  # on disk before it counts as done
                        advance(payload)

                    try:
                        results = run_scenario(sc, ids, seed=seed, on_done=on_done,
                                               evaluator=ev, sink=writer,
                                               disruption=disruption, saved=saved)
                    except (RunInterrupted, RunFailed) as exc:
                        stopped, results = exc, exc.partial
                if isinstance(stopped, RunFailed) and isinstance(stopped.__cause__, OSError):
                    raise stopped.__cause__  # a full disk: keep the staging folder, exit 74
                if isinstance(stopped, RunFailed):
                    err(f"critmin: {stopped}")
                run_dir = None
                # a dead worker (not a replication that raised): keep the staging folder
                resumable = (isinstance(stopped, RunFailed)
                             and not isinstance(stopped, ReplicationFailed) and writer.saved)
                if results.replications and not resumable:
                    if stopped is not None:
                        why = "interrupted; " if isinstance(stopped, RunInterrupted) else ""
                        err(f"critmin: {why}saving the {results.replications} finished "
                             "replication(s)")
                    with confirm_stop(saving):
                        run_dir = writer.close(results)
        except ExecutorUnavailable as exc:
            err(f"critmin: error: {exc}")
            raise typer.Exit(EXIT_UNAVAILABLE) from None
        except OSError:
            if writer is not None and writer.kept is not None:
                err(f"critmin: {writer.saved} finished replication(s) saved in "
                     f"{writer.kept}; resume with: critmin run --resume "
                     f"{shlex.quote(str(writer.kept))}")
            raise
        late = held.signum  # came after the run had stopped

    n_done = f"{results.replications} of {len(ids)} replication(s)"
    kept = f"kept in {run_dir} (manifest status: interrupted)" if run_dir else "nothing kept"
    if writer.kept is not None:
        kept = (f"saved in {writer.kept}; resume with: critmin run --resume "
                f"{shlex.quote(str(writer.kept))}")
    if stopped is None and late is not None:
        err(f"critmin: interrupted by {signal_name(late)} after all {n_done} finished; "
             f"kept in {run_dir} (manifest status: complete)")
        raise typer.Exit(128 + late)
    if stopped is not None:
        if isinstance(stopped, RunInterrupted):
            err(f"critmin: interrupted by {signal_name(stopped.signum)} after {n_done}; "
                 f"{kept}")
            raise typer.Exit(128 + stopped.signum)
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
