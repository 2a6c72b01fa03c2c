"""``critmin sweep``: parameter sweeps and sensitivity analysis (docs/sweeps.md).

``critmin sweep SWEEP.yaml`` runs a sweep file; ``critmin sweep SCENARIO --param
key.path=VALUES ...`` builds one from options. Every point is validated before anything runs
(problems as ``file:line:col: key.path: message``, exit 65). Points run through the same
executors as ``run`` (``-j``, ``--executor``); finished points are kept in ``--out`` and
skipped when the same sweep is run again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..exit_codes import EXIT_INTERNAL, EXIT_IOERR, EXIT_UNAVAILABLE, exit_for_signal
from .common import ExecutorName, check_disruption, err, guarded, progress_bar
from .output import FORMAT_OPTION, OutputFormat, print_rich, print_rows, say
from .root import app

__all__ = ["build_spec", "sweep"]


class DesignName(StrEnum):
    grid = "grid"
    lhs = "lhs"
    oat = "oat"
    morris = "morris"
    sobol = "sobol"


@contextlib.contextmanager
def _progress() -> Iterator[tuple[Callable[[int, int], None], Callable[[int], None]]]:
    """A points x replications progress bar (:func:`.common.progress_bar`)."""
    with progress_bar("points x replications") as (bar, task):
        def on_plan(units: int, _skipped: int) -> None:
            bar.update(task, total=units)
            bar.refresh()

        def on_done(n: int) -> None:
            bar.advance(task, n)
            bar.refresh()

        yield on_plan, on_done


def build_spec(target: Path, params: list[str], *, design: str | None, samples: int | None,
               replications: int | None, seed: int | None, overrides: list[str],
               kpi: str | None, demand: str | None) -> Any:
    """The SweepSpec of a sweep file (options override its settings) or of a scenario plus
    ``--param`` options. Raises ScenarioError for bad parameters, typer.BadParameter for
    options that do not fit together."""
    from ..scenario.errors import Problem, ScenarioError, ScenarioFileNotFound
    from ..sweep.spec import Output, SweepSpec, check_spec, is_sweep_file, load_sweep
    from ..sweep.spec import parse_param_option as parse

    if not target.exists():
        raise ScenarioFileNotFound([Problem((), "no such file", str(target))])
    if is_sweep_file(target):
        if params or overrides:
            raise typer.BadParameter("--param and --set go with a scenario file; edit the "
                                     f"sweep file {target} instead", param_hint="'--param'")
        spec = load_sweep(target)
        given = (("design", design), ("samples", samples), ("replications", replications),
                 ("seed", seed))
        changes: dict[str, Any] = {k: v for k, v in given if v is not None}
        if kpi is not None or demand is not None:
            changes["output"] = Output(kpi or spec.output.kpi, demand or spec.output.demand)
        spec = dataclasses.replace(spec, **changes)
    else:
        if not params:
            raise typer.BadParameter("give at least one --param key.path=VALUES (or a sweep "
                                     "file)", param_hint="'--param'")
        problems, parsed = [], []
        for i, text in enumerate(params, start=1):
            try:
                parsed.append(parse(text, i))
            except ScenarioError as exc:
                problems += exc.problems
        if problems:
            raise ScenarioError(problems)
        name = f"{target.stem}-{design or 'grid'}"
        spec = SweepSpec(name=name, scenario=target, params=tuple(parsed),
                         design=design or "grid", replications=replications or 1,
                         seed=seed or 0, samples=samples, overrides=tuple(overrides),
                         output=Output(kpi or "cumulative_shortfall_t", demand or "all"))
    problems = check_spec(spec)
    if problems:
        raise ScenarioError(problems)
    return spec


@app.command("sweep")
@guarded
def sweep(
    target: Annotated[Path, typer.Argument(
        metavar="SWEEP_OR_SCENARIO", help="A sweep file (sweep: ...) or a scenario file.")],
    param: Annotated[list[str] | None, typer.Option(
        "--param", metavar="KEY.PATH=VALUES",
        help="Swept parameter (repeatable): start:stop:step, low:high or a,b,c.")] = None,
    design: Annotated[DesignName | None, typer.Option(
        "--design", case_sensitive=False,
        help="grid (default), lhs, oat, morris or sobol (the last two need SALib).")] = None,
    samples: Annotated[int | None, typer.Option(
        "--samples", min=1,
        help="lhs points, morris trajectories or sobol base samples (power of 2).")] = None,
    replications: Annotated[int | None, typer.Option(
        "-n", "--replications", min=1, help="Replications per point (default 1).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0,
                                             help="Root seed, shared by every point.")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY.PATH=VALUE",
        help="Fixed override of the base scenario (repeatable).")] = None,
    kpi: Annotated[str | None, typer.Option(
        "--kpi", help="KPI of the figures and indices (default cumulative_shortfall_t).")
    ] = None,
    demand: Annotated[str | None, typer.Option(
        "--demand", metavar="ID", help="Demand sector of that KPI, or 'all' (default).")
    ] = None,
    workers: Annotated[int | None, typer.Option(
        "-j", "--workers", min=1,
        help="Worker processes (default: all cores; 1 runs in this process).")] = None,
    executor: Annotated[ExecutorName, typer.Option(
        "--executor", case_sensitive=False,
        help="local (process pool) or dask (needs the dask extra).")] = ExecutorName.local,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler address.")] = None,
    connect_timeout: Annotated[float, typer.Option(
        "--connect-timeout", metavar="SECONDS", min=0.1,
        help="How long a --scheduler has to answer (default 10).")] = 10.0,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR",
        help="Sweep folder (default results/sweeps/<name>); rerun into it to resume.")] = None,
    check: Annotated[bool, typer.Option(
        "--check", help="Validate every point and print the plan; run nothing.")] = False,
    disruption: Annotated[str | None, typer.Option(
        "--disruption", metavar="EVENT_ID",
        help="Count the time to first shortfall from this event (default: per demand "
             "sector, the first event that can reduce its supply).")] = None,
    fmt: FORMAT_OPTION = OutputFormat.table,
) -> None:
    """Run a parameter sweep: every point x N replications, resumable, with summaries,
    response curves and sensitivity indices."""
    from ..runner import ExecutorUnavailable, make_evaluator
    from ..runner.signals import StopSignal, hold_stop_signals, signal_name, signal_of
    from ..sweep import (
        SensitivityUnavailable,
        SweepFailed,
        SweepInterrupted,
        plan_sweep,
        run_sweep,
        write_outputs,
    )

    try:
        evaluator = make_evaluator(executor.value, workers, scheduler, connect_timeout)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--scheduler'") from None
    spec = build_spec(target, list(param or []), design=design.value if design else None,
                      samples=samples, replications=replications, seed=seed,
                      overrides=list(set_ or []), kpi=kpi, demand=demand)
    spec = dataclasses.replace(spec, disruption=disruption)
    try:
        plan = plan_sweep(spec)
    except SensitivityUnavailable as exc:
        err(f"critmin: error: {exc}")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    check_disruption([plan.base], disruption)
    folder = out if out is not None else Path("results") / "sweeps" / spec.name
    n_unique = len(plan.unique_hashes)
    if check:
        say(fmt, f"OK {len(plan.points)} point(s) ({n_unique} distinct) x "
                 f"{spec.replications} replication(s) of {plan.base.name}, design "
                 f"{spec.design}; would write {folder}")
        return
    with hold_stop_signals() as held:  # held outside the run: none is lost
        try:
            with evaluator as ev, _progress() as (on_plan, on_done):
                run = run_sweep(plan, folder, evaluator=ev, on_plan=on_plan, on_done=on_done)
        except ExecutorUnavailable as exc:
            err(f"critmin: error: {exc}")
            raise typer.Exit(EXIT_UNAVAILABLE) from None
        except SweepInterrupted as exc:
            err(f"critmin: interrupted by {signal_name(exc.signum)} after {exc.done} of "
                f"{exc.total} point(s); finished points kept in {exc.out_dir}; run the same "
                "command again to resume")
            raise typer.Exit(exit_for_signal(exc.signum)) from None
        except SweepFailed as exc:
            err(f"critmin: {exc}")
            if os.environ.get("CRITMIN_DEBUG") == "1" and exc.traceback_text:
                err(exc.traceback_text.rstrip())
            err(f"critmin: finished points kept in {folder}; fix the cause and run the same "
                "command again to resume")
            raise typer.Exit(EXIT_INTERNAL) from None
        late = held.signum
    try:
        if late is not None:
            raise StopSignal(late)
        outputs = write_outputs(plan, folder)
    except KeyboardInterrupt as exc:
        err(f"critmin: interrupted by {signal_name(signal_of(exc))} before the outputs were "
            f"written; every point is kept in {folder}; run the same command again to write "
            "them")
        raise typer.Exit(exit_for_signal(signal_of(exc))) from None
    except OSError as exc:
        err(f"critmin: error: cannot write the sweep outputs: {exc}")
        err(f"critmin: every point is kept in {folder} (sweep.json status: computed); run the "
            "same command again to write the outputs")
        raise typer.Exit(EXIT_IOERR) from None
    _print_table(plan, outputs.summary, fmt)
    say(fmt, f"Sweep folder: {folder}")
    say(fmt, f"Points:       {len(run.computed)} run, {len(run.skipped)} already finished "
             f"(of {n_unique} distinct)")
    if outputs.get("indices") is not None:
        say(fmt, f"Indices:      {outputs['indices']}")
    say(fmt, "Figures:      " + "  ".join(str(p) for p in outputs["figures"]
                                         if str(p).endswith(".png")))


def _print_table(plan: Any, summary: Any, fmt: OutputFormat = OutputFormat.table,
                 limit: int = 25) -> None:
    """The summary of the sweep's output KPI per point: the first ``limit`` points as a rich
    table, or every point as csv / json (the point, its parameters, mean and percentiles)."""
    out = plan.spec.output
    rows = summary[(summary["kpi"] == out.kpi) & (summary["demand_id"] == out.demand)]
    if fmt is not OutputFormat.table:
        print_rows(fmt, rows.to_dict("records"),
                   ["point", *plan.design.params, "kpi", "demand_id", "mean", "p5", "p50",
                    "p95"])
        return
    table = Table(title=f"{plan.base.name}: {out.kpi} of {out.demand}, "
                        f"{plan.spec.replications} replication(s) per point, seed "
                        f"{plan.spec.seed}")
    for col in ("point", *[".".join(p.split(".")[-2:]) for p in plan.design.params],
                "mean", "P5", "P50", "P95"):
        table.add_column(col, justify="right")
    pct = out.kpi in ("fill_rate", "trough_fill_rate")

    def fmt(v: Any) -> str:
        return f"{v:.1%}" if pct else f"{v:,.4g}"

    cols = ["point", *plan.design.params]
    for rec in rows.head(limit).to_dict("records"):
        table.add_row(*[f"{rec[c]:g}" if isinstance(rec[c], float) else str(rec[c])
                        for c in cols],
                      *[fmt(rec[k]) for k in ("mean", "p5", "p50", "p95")])
    print_rich(table)
    if len(rows) > limit:
        typer.echo(f"... {len(rows) - limit} more point(s): see points.csv")

