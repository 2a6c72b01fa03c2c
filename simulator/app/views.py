"""What the workbench draws: the same figures and numbers as ``critmin compare``.

The overlay is :func:`simulator.viz.overlay_figure` on the two runs' time series with the
arguments ``critmin compare REF RUN --demand ID`` (or ``--sector S``) uses, saved as PNG the way
:func:`simulator.viz.save_figure` saves it, so the picture on screen is the file that command
writes. The paired differences are :func:`simulator.analysis.compare.paired_differences` on
:func:`simulator.analysis.metrics.replication_metrics`, as in ``compare``'s ``kpis.csv``.
"""

from __future__ import annotations

import base64
import io
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from ..analysis.compare import unique_names
from ..analysis.period import Period, compare_frame, within

__all__ = [
    "Group",
    "RunView",
    "cli_commands",
    "cli_compare_command",
    "cli_run_command",
    "data_uri",
    "frame_note",
    "groups",
    "hardest_hit",
    "most_moved",
    "overlay_png",
    "paired_rows",
    "png_bytes",
    "price_materials",
    "prices_png",
    "shown_path",
    "timeline_figure",
    "timeline_png",
    "unique_names",
]

#: The metrics of the difference table (those of ``critmin compare``'s terminal table).
METRIC_LABELS = {
    "fill_rate": "Fill rate over the horizon",
    "trough_fill_rate": "Worst-step fill rate",
    "cumulative_shortfall_t": "Shortfall (t per replication)",
    "days_below_threshold": "Days below 90% fill rate",
    "time_to_recover_days": "Days to recover (replications that recovered)",
    "units_short": "Units not built (per replication)",
}


@dataclass(frozen=True)
class Group:
    """A curve to draw: a demand sector (one country x sector) or a sector summed over
    countries (``by`` is ``demand_id`` or ``sector``, as ``compare --demand`` / ``--sector``)."""

    by: str
    key: str
    label: str

    @property
    def value(self) -> str:
        return f"{self.by}:{self.key}"

    @classmethod
    def parse(cls, value: str) -> Group:
        by, _, key = value.partition(":")
        return cls(by, key, key)

    @property
    def option(self) -> str:
        """The ``critmin compare`` option that draws it."""
        return f"--demand {self.key}" if self.by == "demand_id" else f"--sector {self.key}"


def groups(scenario: Any) -> list[Group]:
    """Every demand sector (country x sector), then every sector summed over countries."""
    out = [Group("demand_id", did, f"{d.country} · {d.sector} ({d.material}) - {did}")
           for did, d in sorted(scenario.demand.items(),
                                key=lambda kv: (kv[1].country, kv[1].sector, kv[0]))]
    sectors = sorted({d.sector for d in scenario.demand.values()})
    out += [Group("sector", s, f"all countries · {s}") for s in sectors]
    return out


@dataclass(frozen=True)
class RunView:
    """A run as the overlay needs it (a run folder read by ``load_run``, or a live run)."""

    name: str
    scenario: Any
    timeseries: pd.DataFrame
    replications: int
    run_dir: Path | None = None
    seed: int | None = None  # the run's root seed: each replication's uncertain event dates

    @classmethod
    def from_folder(cls, path: Path, group: Group | None = None) -> RunView:
        """Read a run folder as ``critmin compare`` does (``load_run``); with ``group``, only
        that group's rows (read with a Parquet filter: the same rows, a fraction of the
        memory and time)."""
        if group is None:
            from ..report import load_run

            run = load_run(path)
            return cls(run.name, run.scenario, run.timeseries, run.replications, run.path,
                       run.seed)
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        from ..report.rundata import RUN_TABLE_COLUMNS
        from ..runner.store import table_files

        scenario, table = folder_scenario(path)
        files = table_files(table)  # a folder of parts (or one file: older run folders)
        have = set(pq.read_schema(files[0]).names) if files else set()
        columns = [c for c in RUN_TABLE_COLUMNS["timeseries"] if c in have]
        reps = pc.count_distinct(pq.read_table(table, columns=["replication"])["replication"])
        ts = pd.read_parquet(table, columns=columns, filters=[(group.by, "==", group.key)])
        return cls(scenario.name, scenario, ts, int(reps.as_py()), Path(path),
                   _manifest_seed(Path(path)))

    def subset(self, group: Group) -> RunView:
        """Only ``group``'s rows: the overlay and the metrics of that group are unchanged
        (they select those rows themselves) and much cheaper to compute."""
        ts = self.timeseries
        col = ts[group.by]
        keep = (col == group.key) if isinstance(col.dtype, pd.CategoricalDtype) \
            else (col.astype(str) == group.key)
        return RunView(self.name, self.scenario, ts[keep.to_numpy()], self.replications,
                       self.run_dir, self.seed)


def _manifest_seed(path: Path) -> int | None:
    """The root seed a run folder's ``manifest.json`` records (None if unreadable)."""
    import json

    try:
        seed = json.loads((path / "manifest.json").read_text(encoding="utf-8")).get("seed")
    except (OSError, ValueError, AttributeError):
        return None
    return int(seed) if isinstance(seed, int) else None


def folder_scenario(path: Path) -> tuple[Any, Path]:
    """A run folder's resolved scenario and its ``timeseries.parquet``; raises
    ``RunFolderError`` (an OSError) if it is not a run folder, ScenarioError if the scenario
    no longer validates."""
    from ..report import RunFolderError
    from ..scenario import load_scenario

    path = Path(path)
    resolved, table = path / "scenario.resolved.yaml", path / "timeseries.parquet"
    for needed in (resolved, table):
        if not needed.exists():
            raise RunFolderError(f"not a run folder (no {needed.name}): {path}")
    return load_scenario(resolved), table


def hardest_hit(run_dir: Path) -> str | None:
    """The demand sector with the lowest mean fill rate in a run folder's ``metrics.csv``
    (None if every one was fully served)."""
    path = Path(run_dir) / "metrics.csv"
    if not path.is_file():
        return None
    m = pd.read_csv(path, usecols=["demand_id", "fill_rate"])
    if m.empty:
        return None
    means = m.groupby("demand_id")["fill_rate"].mean()
    worst = means.sort_values(kind="stable").index[0]
    return str(worst) if means[worst] < 1.0 - 1e-9 else None


def png_bytes(fig: Figure) -> bytes:
    """The PNG :func:`simulator.viz.save_figure` writes for ``fig`` (150 dpi, no metadata)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, metadata={"Software": None})
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _smooth_days(scenario: Any) -> int:
    from ..comparison import auto_smooth_days

    return auto_smooth_days(scenario)


def overlay_png(runs: Sequence[RunView], group: Group) -> bytes:
    """The overlay ``critmin compare`` draws for ``group`` (reference first)."""
    from ..analysis.metrics import event_windows
    from ..viz import overlay_figure

    names = unique_names([r.name for r in runs])
    ts = {n: r.subset(group).timeseries for n, r in zip(names, runs, strict=True)}
    events = {n: event_windows(r.scenario) for n, r in zip(names, runs, strict=True)}
    reps = {n: r.replications for n, r in zip(names, runs, strict=True)}
    fig = overlay_figure(ts, group.key, by=group.by, events=events, replications=reps,
                         smooth_days=_smooth_days(runs[0].scenario))
    return png_bytes(fig)


def price_materials(runs: Sequence[RunView]) -> list[str]:
    """The materials any of ``runs`` prices (``market.prices`` with the market on), in the
    order the first scenario lists them."""
    out: list[str] = []
    for run in runs:
        market = run.scenario.market
        if market.enabled:
            out += [m for m in market.prices if m not in out]
    return out


def most_moved(runs: Sequence[RunView], materials: Sequence[str]) -> str:
    """Of ``materials``, the one whose price moved most in any of ``runs``' folders: the
    highest peak over its first recorded price, in any tier (the first on a tie, or with no
    prices read)."""
    best, moved = materials[0], 1.0
    for r in runs:
        path = r.run_dir / "prices.parquet" if r.run_dir is not None else None
        if path is None or not path.exists():
            continue
        px = pd.read_parquet(path, columns=["day", "material", "market", "price_usd_per_kg"])
        px = px[px["material"].astype(str).isin(list(materials))]
        if px.empty:
            continue
        first = px[px["day"] == px["day"].min()].groupby(
            ["material", "market"], observed=True)["price_usd_per_kg"].min()
        peak = px.groupby(["material", "market"], observed=True)["price_usd_per_kg"].max()
        ratio = (peak / first).groupby(level="material", observed=True).max()
        for m in materials:  # (in order: the first wins a tie)
            if m in ratio.index and ratio[m] > moved * (1 + 1e-9):
                best, moved = m, float(ratio[m])
    return best


def prices_png(runs: Sequence[RunView], material: str) -> bytes:
    """The price overlay ``critmin compare`` writes for ``material`` (``overlay_prices_*``;
    reference first), from the runs' ``prices.parquet`` over the period they all cover.
    Raises :exc:`KeyError` when no run has a price of ``material`` (or none a folder)."""
    from ..analysis.metrics import event_windows, plant_starts
    from ..analysis.tiers import compared_prices
    from ..viz.prices import price_overlay_figure

    names = unique_names([r.name for r in runs])
    period, _ = compare_frame({n: r.scenario for n, r in zip(names, runs, strict=True)})
    prices = {}
    for n, r in zip(names, runs, strict=True):
        path = r.run_dir / "prices.parquet" if r.run_dir is not None else None
        prices[n] = (within(pd.read_parquet(path), period)
                     if path is not None and path.exists() and period is not None
                     else pd.DataFrame(columns=["material", "market", "date"]))
    events = {n: event_windows(r.scenario) + plant_starts(r.scenario)
              for n, r in zip(names, runs, strict=True)}
    prices, ceilings, notes = compared_prices(
        prices, {n: r.scenario for n, r in zip(names, runs, strict=True)})
    return png_bytes(price_overlay_figure(prices, material, events=events, ceilings=ceilings,
                                          tier_notes=notes))


def _group_metrics(run: RunView, group: Group, period: Period | None = None) -> pd.DataFrame:
    from ..analysis.metrics import replication_metrics
    from ..report import sector_timeseries

    ts = run.subset(group).timeseries
    if period is not None:
        ts = within(ts, period)
    if group.by == "sector":
        ts = sector_timeseries(ts)
    return replication_metrics(ts, run.scenario, seed=run.seed)


def paired_rows(ref: RunView, run: RunView, group: Group) -> pd.DataFrame:
    """Per metric of :data:`METRIC_LABELS`: means and the paired difference ``run - ref``
    with its 95% CI (:func:`~simulator.analysis.compare.paired_differences` columns), and
    ``unit``: the units not built are counted in (``EV-equivalents``); their row only when
    the group has units (``units`` of its demand sector, or shared by all its members).
    Both runs are measured over the period both cover (:func:`frame_note`); none when they
    share no day."""
    from ..analysis.compare import PAIRED_COLUMNS, paired_differences

    period, _ = compare_frame({"a": ref.scenario, "b": run.scenario})
    if period is None:
        return pd.DataFrame(columns=[*PAIRED_COLUMNS, "unit"])
    a, b = _group_metrics(ref, group, period), _group_metrics(run, group, period)
    diffs = paired_differences(a, b, metrics=list(METRIC_LABELS))
    diffs = diffs[diffs["demand_id"] == group.key].reset_index(drop=True)
    named = [u for u in (*a.loc[a["demand_id"] == group.key, "unit"],
                         *b.loc[b["demand_id"] == group.key, "unit"]) if u]
    unit = named[0] if named and len(set(named)) == 1 else ""
    if not unit:
        diffs = diffs[diffs["metric"] != "units_short"].reset_index(drop=True)
    return diffs.assign(unit=unit)


def frame_note(ref: RunView, run: RunView, names: Sequence[str]) -> str:
    """What the workbench says when the two runs it pairs do not cover the same period or
    use different steps (the notes of ``critmin compare``); empty when they match."""
    common, notes = compare_frame(dict(zip(names, (ref.scenario, run.scenario), strict=True)))
    if common is None:
        return f" Warning: {notes[0]}."
    return "".join(f" {n[0].upper()}{n[1:]}." for n in notes)


def timeline_png(scenario: Any) -> bytes:
    """The scenario's events on its calendar (:func:`timeline_figure`) as PNG bytes."""
    return png_bytes(timeline_figure(scenario))


def timeline_figure(scenario: Any) -> Figure:
    """The scenario's events as bars on its calendar (open-ended ones run to the end); an
    event whose dates are drawn per replication is a hatched bar over every day it can be
    in force, labelled ``uncertain: <low> to <high>``."""
    from ..analysis.metrics import event_windows
    from ..viz import PALETTE
    from ..viz.events import event_caption, outer_span

    wins = event_windows(scenario)
    height = 0.9 + 0.32 * max(1, len(wins))
    with mpl.rc_context({"font.size": 9}):
        fig = Figure(figsize=(10.5, height), layout="constrained")
        ax = fig.add_subplot()
        start, end = pd.Timestamp(scenario.start_date), pd.Timestamp(scenario.end_date)
        for i, w in enumerate(wins):
            first, last = outer_span(w)
            s = pd.Timestamp(first)
            e = pd.Timestamp(last) if last is not None else end
            color = PALETTE[1] if w.disruption else PALETTE[2]
            if w.uncertain:
                ax.barh(i, (e - s).days, left=s, height=0.6, facecolor=color, alpha=0.35,
                        hatch="////", edgecolor=color, lw=0)
            else:
                ax.barh(i, (e - s).days, left=s, height=0.6, color=color, alpha=0.8)
            caption = event_caption(w).removeprefix(w.label).strip()
            ax.text(s, i, f" {w.id} ({w.type}, {caption[1:-1]})", va="center", ha="left",
                    fontsize=8)
        if not wins:
            ax.text(0.5, 0.5, "no events: this scenario runs undisturbed", ha="center",
                    va="center", transform=ax.transAxes, color="0.35")
        ax.set_xlim(start, end)
        ax.set_ylim(max(1, len(wins)) - 0.5, -0.5)
        ax.set_yticks([])
        hatched = "; hatched: dates drawn per replication" if any(
            w.uncertain for w in wins) else ""
        ax.set_title(f"{scenario.name}: events on the calendar (orange: can cut the supply "
                     f"of some demand sector; green: the others{hatched})", fontsize=9,
                     loc="left")
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    return fig


def _q(text: str | Path) -> str:
    return shlex.quote(str(text))


def cli_run_command(scenario_file: Path, replications: int, seed: int,
                    overrides: Sequence[str], out_root: Path) -> str:
    """The ``critmin run`` command that writes the same run folder."""
    parts = ["critmin", "run", _q(scenario_file), "-n", str(replications), "--seed", str(seed)]
    for o in overrides:
        parts += ["--set", _q(o)]
    if Path(out_root) != Path("results"):
        parts += ["--out", _q(out_root)]
    return " ".join(parts)


def shown_path(path: Path | str, cwd: Path | None = None) -> str:
    """``path`` relative to the working folder when inside it, else absolute."""
    p = Path(path).resolve()
    try:
        return p.relative_to((cwd or Path.cwd()).resolve()).as_posix()
    except ValueError:
        return str(p)


def cli_commands(ref: Any, run: Any, group: Group | None, saved: Path | None,
                 out_root: Path) -> list[str]:
    """The commands that write the runs ``ref`` and ``run`` (:class:`~.runs.RunRecord`), the
    figure and numbers of ``group`` on screen, and a run of the ``saved`` tweak."""
    out = []
    for rec in dict.fromkeys(r for r in (ref, run) if r is not None):
        if rec.source != "run folder":
            cmd = cli_run_command(Path(rec.source), rec.replications, rec.seed,
                                  rec.overrides, out_root)
            out.append(f"# run #{rec.number}, written to {shown_path(rec.run_dir or '')}\n"
                       f"{cmd}")
    if ref is not None and run is not None and run is not ref and group is not None \
            and ref.run_dir and run.run_dir:
        png = f"overlay_demand_{group.key}.png" if group.by == "demand_id" \
            else f"overlay_{group.key}.png"
        out.append(f"# the overlay above ({png}) and the numbers below it (kpis.csv)\n"
                   + cli_compare_command(Path(shown_path(ref.run_dir)),
                                         Path(shown_path(run.run_dir)), group))
    if saved is not None and run is not None:
        out.append(f"# the saved tweak {shown_path(saved)}\n"
                   + cli_run_command(Path(shown_path(saved)), run.replications, run.seed, [],
                                     out_root))
    return out


def cli_compare_command(ref_dir: Path, run_dir: Path, group: Group, out: Path | None = None
                        ) -> str:
    """The ``critmin compare`` command whose overlay is the one on screen."""
    parts = ["critmin", "compare", _q(ref_dir), _q(run_dir), group.option]
    if out is not None:
        parts += ["--out", _q(out)]
    return " ".join(parts)
