"""``critmin compare A B ...``: compare scenarios, paired by replication.

Each argument is a run folder (read from disk) or a scenario file (run here with the same
``--seed`` and ``-n`` for all, and written under ``<out>/runs/``). Replication ``r`` of every
scenario uses the same random streams (common random numbers), so per-replication differences
against the first scenario cancel the noise the scenarios share.

Writes into ``--out`` (default ``results/compare/<UTC time>-<names>/``):

- ``overlay_<sector>.png`` / ``.svg``: each scenario's median fill rate with its P5-P95 band,
  the events shaded, and the paired difference below (:func:`simulator.viz.overlay_figure`);
- ``overlay_demand_<id>.png`` / ``.svg``: the same for the hardest-hit demand sectors (country
  x sector; :func:`demands_of_interest`), which a sector summed over countries can hide;
- ``kpis.csv``: per level (``sector``: summed over countries; ``demand``: one demand sector),
  group, metric and scenario: mean with 95% CI, P5/P50/P95, and the paired difference against
  the first scenario with its 95% CI (:data:`KPI_COLUMNS`);
- ``compare.json``: the inputs (paths, seeds, replications) and the sectors drawn;
- ``report.html``: one self-contained page with the figures, findings and the sector table
  (:func:`simulator.report.compare_html.build_compare_report`).

Standard output: a table per sector of interest (sector, metric, each scenario's mean, the
difference with its CI).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer

from .cli_output import FORMAT_OPTION, OutputFormat, print_rows, say
from .compare_table import TABLE_METRICS, print_table, table_rows

__all__ = [
    "KPI_COLUMNS",
    "TABLE_METRICS",
    "CompareInput",
    "compare",
    "demands_of_interest",
    "kpi_table",
    "register",
    "sectors_of_interest",
]

from .exit_codes import EXIT_INVALID, EXIT_MISSING, EXIT_USAGE

#: Columns of the comparison's ``kpis.csv``.
KPI_COLUMNS = [
    "level", "group", "country", "sector", "material", "metric", "scenario", "role", "n",
    "mean", "ci95_low", "ci95_high", "p5", "p50", "p95", "share_recovered",
    "tts_anchor_event", "tts_anchor_date", "diff_vs", "diff_n", "diff_mean", "diff_ci95_low",
    "diff_ci95_high", "diff_ci_excludes_zero",
]

_SECTOR_METRICS = ("fill_rate", "trough_fill_rate", "time_to_survive_days",
                   "time_to_recover_days", "days_below_threshold", "cumulative_shortfall_t",
                   "resilience_loss_pct_days")


class _InputError(Exception):
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


def _slug(text: str, limit: int = 60) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.")
    return s[:limit] or "x"


def _checked(requested: Sequence[str], known: Sequence[str], what: str, hint: str) -> list[str]:
    """``requested`` without repeats; raises ``KeyError`` naming any not in ``known``."""
    unknown = [r for r in requested if r not in known]
    if unknown:
        raise KeyError(f"unknown {what}: {', '.join(unknown)} ({hint})")
    return list(dict.fromkeys(requested))


def sectors_of_interest(metrics: dict[str, pd.DataFrame], requested: Sequence[str] | None,
                        limit: int = 4) -> tuple[list[str], str | None]:
    """The sectors to draw: ``requested`` (checked), else the ``limit`` sectors with the
    largest mean cumulative shortfall in any scenario; else the sector with the most demand.
    ``metrics`` are sector-level :func:`replication_metrics` per scenario. Returns the
    sectors and a note (or ``None``). Unknown requested sectors raise ``KeyError``."""
    known = sorted({str(s) for m in metrics.values() for s in m["sector"].unique()})
    if requested:
        return _checked(requested, known, "sector(s)", f"known: {', '.join(known)}"), None
    worst: dict[str, float] = {}
    demand: dict[str, float] = {}
    for m in metrics.values():
        g = m.groupby("sector")
        for s, v in g["cumulative_shortfall_t"].mean().items():
            worst[str(s)] = max(worst.get(str(s), 0.0), float(v))
        for s, v in g["demand_t"].mean().items():
            demand[str(s)] = max(demand.get(str(s), 0.0), float(v))
    short = sorted((s for s, v in worst.items() if v > 1e-6), key=lambda s: (-worst[s], s))
    if short:
        note = (f"{len(short) - limit} more sector(s) with smaller shortfalls: use --sector"
                if len(short) > limit else None)
        return short[:limit], note
    top = sorted(demand, key=lambda s: (-demand[s], s))[:1]
    return top, "no sector ran short in any scenario; showing the sector with the most demand"


def demands_of_interest(metrics: dict[str, pd.DataFrame], requested: Sequence[str] | None,
                        limit: int = 3) -> list[str]:
    """The demand sectors (country x sector) to draw and tabulate: ``requested`` (checked;
    unknown ids raise ``KeyError``), else the ``limit`` whose mean fill rate differs most
    between the compared scenarios (best minus worst, whichever the reference: a remedy
    compared with its threat ranks the same sectors as the threat with the baseline; ties:
    larger shortfall in the worst scenario, then id), among those short in some scenario,
    skipping a demand sector that is the only one of its sector (its sector overlay shows
    it already). ``metrics`` are demand-level :func:`replication_metrics` per scenario."""
    known = sorted({str(d) for m in metrics.values() for d in m["demand_id"].unique()})
    if requested:
        return _checked(requested, known, "demand sector(s)", f"e.g. {', '.join(known[:4])}")
    frames = list(metrics.values())
    if len(frames) < 2:
        return []
    fills = pd.concat([m.groupby("demand_id", observed=True)["fill_rate"].mean()
                       for m in frames], axis=1)
    shorts = pd.concat([m.groupby("demand_id", observed=True)["cumulative_shortfall_t"].mean()
                        for m in frames], axis=1)
    spread = (fills.max(axis=1) - fills.min(axis=1)).dropna()
    short = shorts.max(axis=1).fillna(0.0)
    sectors = frames[0].groupby("sector", observed=True)["demand_id"].nunique()
    sector_of = frames[0].drop_duplicates("demand_id").set_index("demand_id")["sector"]
    hit = [str(d) for d, v in spread.items()
           if short.get(d, 0.0) > 1e-6 and v > 0 and sectors.get(sector_of.get(d), 0) > 1]
    return sorted(hit, key=lambda d: (-float(spread[d]), -float(short[d]), d))[:limit]


def kpi_table(inputs: Sequence[CompareInput], level_metrics: dict[str, dict[str, pd.DataFrame]]
              ) -> pd.DataFrame:
    """The comparison's ``kpis.csv`` (:data:`KPI_COLUMNS`).

    ``level_metrics[level][scenario]`` are :func:`replication_metrics` frames; the first
    input is the reference of the paired differences."""
    from .analysis.compare import paired_differences
    from .analysis.metrics import summarize

    frames = []
    base = inputs[0].name
    for level, per in level_metrics.items():
        cols = list(_SECTOR_METRICS) if level == "sector" else None
        for inp in inputs:
            mt = per[inp.name]
            summ = summarize(mt, columns=cols) if cols else summarize(mt)
            summ = summ.rename(columns={"demand_id": "group"})
            summ.insert(0, "level", level)
            summ["scenario"] = inp.name
            summ["role"] = "baseline" if inp.name == base else "alternative"
            if inp.name != base:
                pd_ = paired_differences(per[base], mt,
                                         metrics=cols or list(summ["metric"].unique()))
                pd_ = pd_.rename(columns={
                    "demand_id": "group", "n": "diff_n", "mean_diff": "diff_mean",
                    "ci95_low": "diff_ci95_low", "ci95_high": "diff_ci95_high",
                    "ci_excludes_zero": "diff_ci_excludes_zero"})
                summ = summ.merge(pd_[["group", "metric", "diff_n", "diff_mean",
                                       "diff_ci95_low", "diff_ci95_high",
                                       "diff_ci_excludes_zero"]],
                                  on=["group", "metric"], how="left")
                summ["diff_vs"] = base
            frames.append(summ)
    out = pd.concat(frames, ignore_index=True)
    text = ("diff_vs", "tts_anchor_event", "tts_anchor_date")
    for c in KPI_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan if c not in text else ""
    out[list(text)] = out[list(text)].fillna("")
    order = {n.name: i for i, n in enumerate(inputs)}
    out["_s"] = out["scenario"].map(order)
    out["_l"] = out["level"].map({"sector": 0, "demand": 1})
    out = out.sort_values(["_l", "group", "metric", "_s"], kind="stable")
    return out[KPI_COLUMNS].reset_index(drop=True)


def _load_inputs(paths: Sequence[Path], replications: int | None, seed: int | None,
                 overrides: Sequence[str], runs_root: Callable[[], Path],
                 progress: Callable[[int, str], Any],
                 check: Callable[[list[Any]], None] = lambda _scenarios: None,
                 workers: int | None = 1) -> list[CompareInput]:
    """Read the run folders and run the scenario files (after ``check`` has seen every
    scenario, so bad options fail before anything is run)."""
    from .report import DamagedRunFolder, RunFolderError, load_run
    from .report.run_figures import draw_run_figures
    from .runner import RunInterrupted, make_evaluator, run_scenario, write_run
    from .scenario import load_scenario

    folders, files = [], []
    for p in paths:
        if not p.exists():
            raise _InputError(f"{p}: no such file", EXIT_MISSING)
        (folders if p.is_dir() else files).append(p)
    loaded: dict[Path, Any] = {}
    for p in folders:
        try:
            loaded[p] = load_run(p)
        except RunFolderError as exc:
            raise _InputError(f"critmin: {exc}", EXIT_MISSING) from None
        except DamagedRunFolder as exc:
            raise _InputError(f"critmin: damaged run folder: {exc}", EXIT_INVALID) from None
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
    from .analysis.compare import unique_names

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


def _resolve_references(inputs: Sequence[CompareInput], requested: Sequence[str]
                        ) -> list[str]:
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
            raise _InputError(f"critmin: error: --reference: not a compared scenario: {token}",
                              EXIT_USAGE)
    return out or [inputs[0].name]


def _pairing_notes(inputs: Sequence[CompareInput]) -> list[str]:
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


def auto_smooth_days(scenario: Any) -> int:
    """The overlays' default trailing window: 1/40 of the horizon in whole steps (91 days
    for ten years of weekly steps, 21 for two), so weekly lots do not hide the trend."""
    step = scenario.simulation.step_days
    horizon = (scenario.end_date - scenario.start_date).days
    return step * max(1, round(horizon / 40 / step))


class StagedFolder:
    """An output folder written in a hidden temp folder beside it and renamed into place by
    :meth:`publish` (``name-2``, ``name-3``... when ``name`` exists and is not empty), so it
    appears whole or not at all. Leaving the ``with`` block by an exception (a full disk,
    Ctrl-C) removes it, except the run folders that finished under ``runs/``, which are whole
    and are moved to the final place."""

    def __init__(self, target: Callable[[], Path]):
        self._target = target
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
                typer.echo(f"critmin: the runs that finished are kept in {self._final / 'runs'}",
                           err=True)
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = None


def _shown_path(path: Path, folder: Path) -> str:
    """``path`` relative to the compare ``folder`` when inside it (the report moves with it)."""
    try:
        return str(path.resolve().relative_to(folder.resolve()))
    except ValueError:
        return str(path)


def _default_out(names: Sequence[str]) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / "compare" / f"{stamp}-{_slug('-vs-'.join(names), 80)}"


def compare(
    inputs: Annotated[list[Path], typer.Argument(
        metavar="RUN_OR_SCENARIO...",
        help="Two or more run folders or scenario files; the first is the reference.")],
    replications: Annotated[int | None, typer.Option(
        "-n", "--replications", min=1,
        help="Replications of scenario files (default: as the run folders, else 10).")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", min=0,
        help="Root seed of scenario files (default: the run folders' seed, else 0).")] = None,
    sector: Annotated[list[str] | None, typer.Option(
        "--sector", metavar="SECTOR",
        help="Sector to draw an overlay for (repeatable; default: up to 4 with the largest "
             "shortfall).")] = None,
    demand: Annotated[list[str] | None, typer.Option(
        "--demand", metavar="DEMAND_ID",
        help="Demand sector (country x sector, e.g. us_magnet_ev) to draw and tabulate "
             "(repeatable; default: up to 3 whose fill rate falls most).")] = None,
    smooth: Annotated[int | None, typer.Option(
        "--smooth", metavar="DAYS", min=0,
        help="Draw fill rates over a trailing window of DAYS (0: per step; default: "
             "1/40 of the horizon in whole steps, 13 weeks for ten years).")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY.PATH=VALUE",
        help="Override a value in every scenario file (repeatable).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR",
        help="Output folder (default: results/compare/<UTC time>-<names>/).")] = None,
    workers: Annotated[int | None, typer.Option(
        "-j", "--workers", min=1,
        help="Worker processes for scenario files (default: all cores).")] = None,
    disruption: Annotated[str | None, typer.Option(
        "--disruption", metavar="EVENT_ID",
        help="Count the time to first shortfall from this event in every scenario that has "
             "it (default: per demand sector, the first event that can reduce its "
             "supply).")] = None,
    reference: Annotated[list[str] | None, typer.Option(
        "--reference", metavar="NAME",
        help="Scenario the others are differenced against (its name or the input as given; "
             "repeatable: the report shows the differences against each in turn; default: "
             "the first input).")] = None,
    fmt: FORMAT_OPTION = OutputFormat.table,
) -> None:
    """Compare scenarios paired by replication: overlay figures, kpis.csv and a table."""
    from .analysis.compare import comparison_pairs, pairs_table
    from .analysis.metrics import event_windows, plant_starts, replication_metrics
    from .cli import _progress, check_disruption
    from .report import sector_timeseries
    from .report.compare_html import CompareRun, write_compare_report
    from .runner import package_version
    from .viz.compare import overlay_figure
    from .viz.curves import save_figure

    if len(inputs) < 2:
        typer.echo("critmin: compare needs at least two run folders or scenario files",
                   err=True)
        raise typer.Exit(EXIT_USAGE)
    staged = StagedFolder(lambda: out if out is not None else _default_out(
        [_slug(p.stem if p.is_file() else p.parent.name) for p in inputs]))

    def out_dir() -> Path:
        return staged.dir()

    def progress(total: int, name: str):
        return _progress(total)

    def check(scenarios: list[Any]) -> None:
        check_disruption(scenarios, disruption)
        known = sorted({d.sector for sc in scenarios for d in sc.demand.values()})
        unknown = [s for s in (sector or []) if s not in known]
        if unknown:
            raise _InputError(f"critmin: error: --sector: unknown sector(s): "
                              f"{', '.join(unknown)} (known: {', '.join(known)})", EXIT_USAGE)
        known_refs = {sc.name for sc in scenarios} | {str(p) for p in inputs} | {
            p.stem if p.is_file() else p.name for p in inputs}
        unknown = [r for r in (reference or []) if r not in known_refs]
        if unknown:
            raise _InputError(f"critmin: error: --reference: not a compared scenario: "
                              f"{', '.join(unknown)} (the scenarios: "
                              f"{', '.join(sorted(sc.name for sc in scenarios))})", EXIT_USAGE)
        ids = {did for sc in scenarios for did in sc.demand}
        unknown = [d for d in (demand or []) if d not in ids]
        if unknown:
            raise _InputError(f"critmin: error: --demand: unknown demand sector(s): "
                              f"{', '.join(unknown)}", EXIT_USAGE)

    with staged:  # the folder appears whole or not at all (a temp folder until the end)
        try:
            loaded = _load_inputs(inputs, replications, seed, list(set_ or []),
                                  lambda: out_dir() / "runs", progress, check, workers)
            references = _resolve_references(loaded, reference or [])
        except _InputError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(exc.code) from None
        loaded = ([i for i in loaded if i.name == references[0]]
                  + [i for i in loaded if i.name != references[0]])
        notes = _pairing_notes(loaded) + [
            f"note: {i.name} has no event {disruption!r}: its time to first shortfall is not "
            "computed" for i in loaded if disruption is not None
            and disruption not in i.scenario.events]
        for note in notes:
            typer.echo(f"critmin: {note}", err=True)

        level_metrics: dict[str, dict[str, pd.DataFrame]] = {"sector": {}, "demand": {}}
        for inp in loaded:
            anchor: dict[str, Any] = {} if disruption is None else (
                {"event_id": disruption} if disruption in inp.scenario.events else {"anchors": {}})
            prices_path = inp.run_dir / "prices.parquet"  # values the shortfall in USD
            prices = pd.read_parquet(prices_path) if prices_path.exists() else None
            level_metrics["demand"][inp.name] = replication_metrics(
                inp.timeseries, inp.scenario, prices=prices, **anchor)
            level_metrics["sector"][inp.name] = replication_metrics(
                sector_timeseries(inp.timeseries), inp.scenario, **anchor)
        try:
            sectors, note = sectors_of_interest(level_metrics["sector"], sector)
        except KeyError as exc:
            typer.echo(f"critmin: error: --sector: {exc.args[0]}", err=True)
            raise typer.Exit(EXIT_USAGE) from None
        if note:
            typer.echo(f"critmin: note: {note}", err=True)
        try:
            demands = demands_of_interest(level_metrics["demand"], demand)
        except KeyError as exc:
            typer.echo(f"critmin: error: --demand: {exc.args[0]}", err=True)
            raise typer.Exit(EXIT_USAGE) from None

        if smooth is None:
            smooth = auto_smooth_days(loaded[0].scenario)
        folder = out_dir()
        kpis = kpi_table(loaded, level_metrics)
        kpis.to_csv(folder / "kpis.csv", index=False, lineterminator="\n", float_format="%.10g")
        pairs = pairs_table(level_metrics, comparison_pairs(
            [i.name for i in loaded], references, {i.name: i.seed for i in loaded}),
            {"sector": list(_SECTOR_METRICS),
             "demand": list(kpis.loc[kpis["level"] == "demand", "metric"].unique())})
        pairs.to_csv(folder / "pairs.csv", index=False, lineterminator="\n",
                     float_format="%.10g")
        written = [folder / "kpis.csv", folder / "pairs.csv"]
        ts = {i.name: i.timeseries for i in loaded}
        events = {i.name: event_windows(i.scenario) + plant_starts(i.scenario) for i in loaded}
        reps = {i.name: i.replications for i in loaded}
        for s in sectors:
            fig = overlay_figure(ts, s, events=events, replications=reps, smooth_days=smooth)
            written += save_figure(fig, folder / f"overlay_{_slug(s)}")
        for d in demands:
            fig = overlay_figure(ts, d, by="demand_id", events=events, replications=reps,
                                 smooth_days=smooth)
            written += save_figure(fig, folder / f"overlay_demand_{_slug(d)}")
        price_figures = _price_overlays(loaded, events, folder)
        written += [p for path in price_figures.values() for p in (path, path.with_suffix(".svg"))]
        info = {
            "inputs": [{"name": i.name, "source": i.source, "path": str(i.path),
                        "run_dir": str(staged.final(i.run_dir)), "seed": i.seed,
                        "replications": i.replications, "status": i.status} for i in loaded],
            "reference": loaded[0].name,
            "references": references,
            "sectors": sectors,
            "demands": demands,
            "smooth_days": smooth,
            "overrides": list(set_ or []),
            "disruption": disruption,
        }
        (folder / "compare.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        report = write_compare_report(
            folder / "report.html",
            [CompareRun(i.name, i.scenario.description or "", i.source,
                        _shown_path(i.run_dir, folder), i.seed, i.replications, i.status)
             for i in loaded],
            kpis, sectors, {s: folder / f"overlay_{_slug(s)}.png" for s in sectors},
            notes, version=package_version(), demands=demands,
            demand_figures={d: folder / f"overlay_demand_{_slug(d)}.png" for d in demands},
            price_figures=price_figures, pairs=pairs, references=references)
        folder = staged.publish()
    if fmt is not OutputFormat.table:
        print_rows(fmt, table_rows(kpis, demands, level="demand") + table_rows(kpis, sectors),
                   KPI_COLUMNS)
    else:
        if demands:  # who runs short first, then the sectors summed over countries
            print_table(kpis, loaded, demands, level="demand")
        print_table(kpis, loaded, sectors)
    say(fmt, f"Compare folder: {folder}")
    for i in loaded:
        if i.source == "scenario file":
            say(fmt, f"Run folder ({i.name}): {staged.final(i.run_dir)}")
    say(fmt, "Figures:        " + "  ".join(str(staged.final(p)) for p in written
                                            if p.suffix == ".png"))
    say(fmt, f"Report:         {staged.final(report)}")


def _price_overlays(loaded: list[CompareInput], events: dict[str, list], folder: Path
                    ) -> dict[str, Path]:
    """``overlay_prices_<material>.png`` for every material some compared run prices
    (``prices.parquet``; run folders written before it existed have none); material -> PNG."""
    from .viz.curves import save_figure
    from .viz.prices import price_overlay_figure

    prices = {}
    for i in loaded:
        path = i.run_dir / "prices.parquet"
        prices[i.name] = (pd.read_parquet(path) if path.exists()
                          else pd.DataFrame(columns=["material"]))
    materials = sorted({str(m) for p in prices.values() if len(p) for m in p["material"]})
    out = {}
    for m in materials:
        fig = price_overlay_figure(prices, m, events=events)
        save_figure(fig, folder / f"overlay_prices_{_slug(m)}")
        out[m] = folder / f"overlay_prices_{_slug(m)}.png"
    return out


def register(app: typer.Typer, guarded: Callable[[Callable[..., Any]], Callable[..., Any]]
             ) -> None:
    """Add the ``compare`` command to ``app`` with ``guarded`` error handling."""
    app.command("compare")(guarded(compare))
