"""Compare scenarios paired by replication and write the comparison folder
(:func:`compare_runs`, what ``critmin compare`` calls)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis.period import Period, compare_frame, within
from ..analysis.tiers import compared_prices
from ..exit_codes import EXIT_INVALID, EXIT_USAGE
from .folder import StagedFolder, default_out, shown_path, slug
from .inputs import (
    CompareError,
    CompareInput,
    Progress,
    check_options,
    load_inputs,
    pairing_notes,
    resolve_references,
)
from .tables import (
    SECTOR_METRICS,
    auto_smooth_days,
    demands_of_interest,
    kpi_table,
    price_table,
    sectors_of_interest,
)

__all__ = ["Comparison", "compare_runs"]


@dataclass
class Comparison:
    """A written comparison folder and what it holds."""

    folder: Path
    inputs: list[CompareInput]
    """The compared scenarios, the (first) reference first; ``run_dir`` where each run is."""
    references: list[str]
    sectors: list[str]
    demands: list[str]
    kpis: pd.DataFrame
    """``kpis.csv`` (:data:`~simulator.comparison.KPI_COLUMNS`)."""
    pairs: pd.DataFrame
    notes: list[str]
    figures: list[Path]
    """Every figure written (PNG and SVG), in their final place."""
    report: Path


def _no_progress(_total: int, _name: str) -> contextlib.nullcontext[None]:
    return contextlib.nullcontext()


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def compare_runs(
    paths: Sequence[Path], *, replications: int | None = None, seed: int | None = None,
    sectors: Sequence[str] | None = None, demands: Sequence[str] | None = None,
    smooth: int | None = None, overrides: Sequence[str] = (), out: Path | None = None,
    workers: int | None = None, disruption: str | None = None,
    references: Sequence[str] | None = None, progress: Progress = _no_progress,
    notify: Callable[[str], object] = _to_stderr,
) -> Comparison:
    """Compare the run folders and scenario files ``paths`` (the first is the reference unless
    ``references`` name others) paired by replication, and write the comparison folder ``out``
    (default ``results/compare/<UTC time>-<names>/``) whole or not at all: overlays,
    ``kpis.csv``, ``pairs.csv``, ``compare.json`` and ``report.html`` (docs/compare-and-report.md).

    Scenario files are run with ``replications`` and ``seed`` (default: the run folders', else
    10 and 0) into ``out/runs/``; ``progress`` wraps each of those runs. Warnings and notes go
    to ``notify`` (default: standard error). Raises :class:`CompareError` (with an exit code)
    for inputs or options that do not fit, ScenarioError for invalid scenario files and
    KeyboardInterrupt when a run is interrupted."""
    from ..analysis.compare import comparison_pairs, pairs_table
    from ..analysis.metrics import replication_metrics
    from ..report import sector_timeseries

    paths = list(paths)
    if len(paths) < 2:
        raise CompareError("critmin: compare needs at least two run folders or scenario files",
                           EXIT_USAGE)
    staged = StagedFolder(lambda: out if out is not None else default_out(
        [slug(p.stem if p.is_file() else p.parent.name) for p in paths]), notify)

    def check(scenarios: list[Any]) -> None:
        check_options(scenarios, paths, disruption=disruption, sectors=sectors or [],
                      references=references or [], demands=demands or [])

    with staged:  # the folder appears whole or not at all (a temp folder until the end)
        loaded = load_inputs(paths, replications, seed, list(overrides),
                             lambda: staged.dir() / "runs", progress, check, workers)
        refs = resolve_references(loaded, references or [])
        loaded = ([i for i in loaded if i.name == refs[0]]
                  + [i for i in loaded if i.name != refs[0]])
        common, frame = compare_frame({i.name: i.scenario for i in loaded})
        if common is None:  # (checked before running; run folders alone reach here)
            raise CompareError(f"critmin: error: {frame[0]}", EXIT_INVALID)
        loaded = [dataclasses.replace(i, timeseries=within(i.timeseries, common))
                  for i in loaded]  # every metric over the period all the runs cover
        notes = pairing_notes(loaded) + frame + [
            f"note: {i.name} has no event {disruption!r}: its time to first shortfall is not "
            "computed" for i in loaded if disruption is not None
            and disruption not in i.scenario.events]
        for note in notes:
            notify(note)

        level_metrics: dict[str, dict[str, pd.DataFrame]] = {"sector": {}, "demand": {}}
        for inp in loaded:
            anchor: dict[str, Any] = {} if disruption is None else (
                {"event_id": disruption} if disruption in inp.scenario.events else {"anchors": {}})
            prices_path = inp.run_dir / "prices.parquet"  # values the shortfall in USD
            prices = (within(pd.read_parquet(prices_path), common) if prices_path.exists()
                      else None)
            anchor["seed"] = inp.seed  # each replication's uncertain event dates
            level_metrics["demand"][inp.name] = replication_metrics(
                inp.timeseries, inp.scenario, prices=prices, **anchor)
            level_metrics["sector"][inp.name] = replication_metrics(
                sector_timeseries(inp.timeseries), inp.scenario, **anchor)
        try:
            shown_sectors, note = sectors_of_interest(level_metrics["sector"], sectors)
        except KeyError as exc:
            raise CompareError(f"critmin: error: --sector: {exc.args[0]}", EXIT_USAGE) from None
        if note:
            notify(f"note: {note}")
        try:
            shown_demands = demands_of_interest(level_metrics["demand"], demands)
        except KeyError as exc:
            raise CompareError(f"critmin: error: --demand: {exc.args[0]}", EXIT_USAGE) from None

        if smooth is None:
            smooth = auto_smooth_days(loaded[0].scenario)
        folder = staged.dir()
        kpis = kpi_table(loaded, level_metrics)
        kpis.to_csv(folder / "kpis.csv", index=False, lineterminator="\n", float_format="%.10g")
        pairs = pairs_table(level_metrics, comparison_pairs(
            [i.name for i in loaded], refs, {i.name: i.seed for i in loaded}),
            {"sector": list(SECTOR_METRICS),
             "demand": list(kpis.loc[kpis["level"] == "demand", "metric"].unique())})
        pairs.to_csv(folder / "pairs.csv", index=False, lineterminator="\n",
                     float_format="%.10g")
        prices, ceilings, tier_text = compared_prices(
            _read_prices(loaded, common), {i.name: i.scenario for i in loaded})
        figures, price_figures = _draw_overlays(loaded, folder, shown_sectors, shown_demands,
                                                smooth, prices, ceilings, tier_text)
        info = {
            "inputs": [{"name": i.name, "source": i.source, "path": str(i.path),
                        "run_dir": str(staged.final(i.run_dir)), "seed": i.seed,
                        "replications": i.replications, "status": i.status} for i in loaded],
            "reference": loaded[0].name,
            "period": {"start": common.start.isoformat(), "end": common.end.isoformat()},
            "references": refs,
            "sectors": shown_sectors,
            "demands": shown_demands,
            "smooth_days": smooth,
            "overrides": list(overrides),
            "disruption": disruption,
        }
        (folder / "compare.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        report = _write_report(folder, loaded, kpis, pairs, shown_sectors, shown_demands,
                               notes, refs, price_figures,
                               price_table(prices, loaded[0].name, ceilings))
        published = staged.publish()
    return Comparison(
        folder=published,
        inputs=[dataclasses.replace(i, run_dir=staged.final(i.run_dir)) for i in loaded],
        references=refs, sectors=shown_sectors, demands=shown_demands, kpis=kpis, pairs=pairs,
        notes=notes, figures=[staged.final(p) for p in figures], report=staged.final(report))


def _draw_overlays(loaded: list[CompareInput], folder: Path, sectors: list[str],
                   demands: list[str], smooth: int, prices: dict[str, pd.DataFrame],
                   ceilings: dict[str, dict[tuple[str, str], float]],
                   tier_text: dict[str, str]) -> tuple[list[Path], dict[str, Path]]:
    """``overlay_<sector>``, ``overlay_demand_<id>`` and ``overlay_prices_<material>`` (PNG
    and SVG) in ``folder``: the paths written, and material -> price overlay PNG (``prices``,
    ``ceilings`` and ``tier_text``: :func:`~simulator.analysis.tiers.compared_prices`)."""
    from ..analysis.metrics import event_windows, plant_starts
    from ..viz.compare import overlay_figure
    from ..viz.curves import save_figure

    written: list[Path] = []
    ts = {i.name: i.timeseries for i in loaded}
    events = {i.name: event_windows(i.scenario) + plant_starts(i.scenario) for i in loaded}
    reps = {i.name: i.replications for i in loaded}
    for s in sectors:
        fig = overlay_figure(ts, s, events=events, replications=reps, smooth_days=smooth)
        written += save_figure(fig, folder / f"overlay_{slug(s)}")
    for d in demands:
        fig = overlay_figure(ts, d, by="demand_id", events=events, replications=reps,
                             smooth_days=smooth)
        written += save_figure(fig, folder / f"overlay_demand_{slug(d)}")
    pngs = _price_overlays(prices, ceilings, events, folder, tier_text)
    written += [p for path in pngs.values() for p in (path, path.with_suffix(".svg"))]
    return written, pngs


def _price_overlays(prices: dict[str, pd.DataFrame],
                    ceilings: dict[str, dict[tuple[str, str], float]],
                    events: dict[str, list], folder: Path,
                    notes: dict[str, str]) -> dict[str, Path]:
    """``overlay_prices_<material>.png`` for every material some compared run prices
    (``prices.parquet``; run folders written before it existed have none), with ``notes``
    on their export tiers (:func:`~simulator.analysis.tiers.tier_notes`); material -> PNG."""
    from ..viz.curves import save_figure
    from ..viz.prices import price_overlay_figure

    materials = sorted({str(m) for p in prices.values() if len(p) for m in p["material"]})
    out = {}
    for m in materials:
        fig = price_overlay_figure(prices, m, events=events, ceilings=ceilings,
                                   tier_notes=notes)
        save_figure(fig, folder / f"overlay_prices_{slug(m)}")
        out[m] = folder / f"overlay_prices_{slug(m)}.png"
    return out


def _read_prices(loaded: list[CompareInput], period: Period) -> dict[str, pd.DataFrame]:
    """Each run's ``prices.parquet`` by scenario name, its rows inside ``period`` (an empty
    frame for a run folder written before it existed)."""
    prices = {}
    for i in loaded:
        path = i.run_dir / "prices.parquet"
        prices[i.name] = (within(pd.read_parquet(path), period) if path.exists()
                          else pd.DataFrame(columns=["material"]))
    return prices


def _write_report(folder: Path, loaded: list[CompareInput], kpis: pd.DataFrame,
                  pairs: pd.DataFrame, sectors: list[str], demands: list[str],
                  notes: list[str], references: list[str], prices: dict[str, Path],
                  price_stats: pd.DataFrame | None = None) -> Path:
    """``report.html`` on the comparison in ``folder``; its path."""
    from ..report.compare_html import CompareRun, write_compare_report
    from ..runner import package_version

    return write_compare_report(
        folder / "report.html",
        [CompareRun(i.name, i.scenario.description or "", i.source,
                    shown_path(i.run_dir, folder), i.seed, i.replications, i.status)
         for i in loaded],
        kpis, sectors, {s: folder / f"overlay_{slug(s)}.png" for s in sectors},
        notes, version=package_version(), demands=demands,
        demand_figures={d: folder / f"overlay_demand_{slug(d)}.png" for d in demands},
        price_figures=prices, pairs=pairs, references=references, price_table=price_stats)
