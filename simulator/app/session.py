"""The workbench's state: the open scenario and its tweak, the session's runs, the pinned
reference and the chosen curve. No web code here: the layout and callbacks only call this."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..scenario import ScenarioError, load_scenario, resolve_scenario_data
from .params import Param, Tweak, catalogue, key_paths, save_tweak
from .runs import RunJob, RunRecord, new_evaluator, warm
from .views import (
    Group,
    RunView,
    cli_commands,
    folder_scenario,
    groups,
    hardest_hit,
    most_moved,
    overlay_png,
    price_materials,
    prices_png,
    shown_path,
    unique_names,
)
from .views import frame_note as _frame_note
from .views import paired_rows as _paired_rows

__all__ = ["LIVE_EVERY_S", "LIVE_SHARE", "PriceView", "Session", "View", "live_redraw_due"]

#: While a run goes, the overlay is redrawn at most this often (drawing takes CPU from it).
LIVE_EVERY_S = 2.0
#: ... and at most this share of the time (a redraw costs ~1 s of CPU that the run's
#: workers share on a small machine: redrawn every 2 s, 20 baseline replications took
#: 12.5-14 s from Run to curve on 2 cores, 10.3 s with no live redraw).
LIVE_SHARE = 0.25


def live_redraw_due(since_last_s: float, last_cost_s: float) -> bool:
    """Whether a live overlay drawn ``since_last_s`` ago, which took ``last_cost_s`` to draw,
    is due again: after ``LIVE_EVERY_S`` and after the drawing's share of the time would
    stay within ``LIVE_SHARE``."""
    return since_last_s >= max(LIVE_EVERY_S, last_cost_s * (1.0 / LIVE_SHARE - 1.0))


@dataclass
class View:
    """What the main panel shows: the overlay PNG, the difference rows, commands, notes."""

    png: bytes | None = None
    rows: pd.DataFrame | None = None
    commands: list[str] = field(default_factory=list)
    note: str = ""
    names: tuple[str, ...] = ()


@dataclass
class PriceView:
    """What the price panel shows: the price overlay of one priced material."""

    png: bytes | None = None
    materials: tuple[str, ...] = ()
    material: str | None = None
    note: str = ""


class Session:
    """One analyst's workbench (the app serves one per process, created by the app factory)."""

    def __init__(self, scenarios_dir: Path = Path("scenarios"), out_root: Path = Path("results"),
                 workers: int | None = None):
        self.scenarios_dir = Path(scenarios_dir)
        self.out_root = Path(out_root)
        self.workers = workers
        self.lock = threading.RLock()
        self.parent: Path | None = None
        self.base: Any = None
        self.params: dict[str, Param] = {}
        self.shown: list[str] = []
        self.tweak: Tweak | None = None
        self.runs: list[RunRecord] = []
        self.job: RunJob | None = None
        self.reference: RunRecord | None = None
        self.pinned = False
        """True once the analyst pinned a reference: it then stays across scenarios."""
        self.group: Group | None = None
        self.group_chosen = False
        """True once the analyst picked a curve: runs then no longer choose it."""
        self.price_material: str | None = None
        """The material whose prices the price panel shows (None: the first priced)."""
        self.saved: Path | None = None
        self._subsets: dict[tuple[int, str], RunView] = {}
        self._cache: tuple[Any, View] | None = None
        self._price_cache: tuple[Any, PriceView] | None = None
        self._evaluator: Any = None
        self._rendered = 0.0
        self._render_cost = 0.0
        self._seen = 0
        self._followed = False

    def evaluator(self) -> Any:
        """The session's evaluator (new after a cancelled or failed run had it aborted)."""
        with self.lock:
            if self._evaluator is None or (self.job is not None and self.job.spent
                                           and self.job.evaluator is self._evaluator):
                self._evaluator = new_evaluator(self.workers)
                if self.base is not None:
                    warm(self._evaluator, self.base)
            return self._evaluator

    def close(self) -> None:
        """Cancel a run and stop the workers."""
        with self.lock:
            if self.job is not None:
                self.job.cancel()
            ev, self._evaluator = self._evaluator, None
        if ev is not None:
            ev.shutdown(wait=False, cancel_futures=True)

    # ---- scenario and tweak ------------------------------------------------------------
    def scenario_files(self) -> list[Path]:
        """The ``*.yaml`` / ``*.yml`` files of the scenarios folder."""
        if not self.scenarios_dir.is_dir():
            return []
        return sorted([*self.scenarios_dir.glob("*.yaml"), *self.scenarios_dir.glob("*.yml")])

    def open(self, path: Path | str) -> Any:
        """Open a scenario file; raises ScenarioError (located problems) if it is invalid."""
        path = Path(path)
        scenario = load_scenario(path)
        data = resolve_scenario_data(path)
        with self.lock:
            self.parent, self.base = path, scenario
            self.params = catalogue(data)
            self.shown = key_paths(self.params)
            self.tweak = Tweak(path)
            self.saved = None
            if not self.pinned:  # the first run of this scenario becomes the reference
                self.reference = None
            names = groups(scenario)
            if self.group is None or self.group.value not in {g.value for g in names}:
                self.group = self.default_group(scenario)
        self.evaluator()
        return scenario

    @staticmethod
    def default_group(scenario: Any) -> Group | None:
        """The largest demand sector outside China's, else the first group."""
        options = groups(scenario)
        demand = [g for g in options if g.by == "demand_id"]
        if not demand:
            return options[0] if options else None
        rates = {did: float(getattr(d, "rate_tpy", 0.0) or 0.0)
                 for did, d in scenario.demand.items() if d.country != "CN"}
        if not rates:
            return demand[0]
        best = max(rates, key=lambda did: (rates[did], did))
        return next(g for g in demand if g.key == best)

    def add_param(self, path: str) -> str | None:
        """Show parameter ``path`` (any ``--set`` path); returns a problem or None."""
        path = path.strip().strip(".")
        if not path or any(not seg for seg in path.split(".")):
            return f"not a key path: {path!r} (e.g. demand.us_magnet_ev.rate_tpy)"
        with self.lock:
            if self.parent is None:
                return "open a scenario first"
            if path not in self.shown:
                self.shown.append(path)
        return None

    def base_text(self, path: str) -> str:
        p = self.params.get(path)
        return p.text if p is not None else ""

    def set_values(self, values: dict[str, str | None], name: str | None = None) -> None:
        """Record the input boxes: a value differing from the scenario's is a change."""
        with self.lock:
            if self.tweak is None:
                return
            changed = {}
            for path in self.shown:
                text = values.get(path)
                if text is None:
                    text = self.tweak.values.get(path, "")
                text = str(text).strip()
                if text and text != self.base_text(path):
                    changed[path] = text
            self.tweak.values = changed
            if name is not None:
                clean = name.strip()
                self.tweak.name = "" if self.base is not None and clean == self.base.name \
                    else clean

    def reset(self) -> None:
        with self.lock:
            if self.tweak is not None:
                self.tweak.values, self.tweak.name = {}, ""
            self.shown = key_paths(self.params)

    def check(self) -> tuple[Any, list[str]]:
        """(the tweaked Scenario, []) or (None, the loader's located problems)."""
        if self.tweak is None:
            return None, ["open a scenario first"]
        try:
            return self.tweak.check(), []
        except ScenarioError as exc:
            return None, [self.explain(str(p)) for p in exc.problems]

    def explain(self, problem: str) -> str:
        """``<--set>:N:col`` names the N-th override: add its text."""
        head, _sep, rest = problem.partition(":")
        if head != "<--set>" or self.tweak is None:
            return problem
        line = rest.split(":", 1)[0]
        overrides = self.tweak.overrides()
        if line.isdigit() and 0 < int(line) <= len(overrides):
            return f"{problem}   [change {line}: --set {overrides[int(line) - 1]}]"
        return problem

    # ---- runs ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def start_run(self, replications: int, seed: int) -> tuple[RunRecord | None, list[str]]:
        """Validate the tweak and start a run; (record, []) or (None, problems)."""
        with self.lock:
            if self.running:
                return None, ["a run is going; wait for it or cancel it"]
            if replications < 1 or seed < 0:
                return None, ["replications must be >= 1 and the seed >= 0"]
            scenario, problems = self.check()
            if scenario is None or self.tweak is None or self.parent is None:
                return None, problems
            rec = RunRecord(len(self.runs) + 1, scenario.name, shown_path(self.parent),
                            self.tweak.overrides(), int(replications), int(seed))
            self.runs.append(rec)
            self.job = RunJob(scenario, rec, self.out_root, self.evaluator())
            self.job.start()
            self._follow_change(scenario)
            return rec, []

    def _follow_change(self, scenario: Any) -> None:
        """Show the demand sector a change is about (the first changed ``demand.ID...``);
        else, after the run, the hardest-hit one (unless the analyst chose a curve)."""
        self._followed = False
        if self.group_chosen:
            return
        for path in self.tweak.values if self.tweak else ():
            parts = path.split(".")
            if parts[0] == "demand" and len(parts) > 1 and parts[1] in scenario.demand:
                self.group = next(g for g in groups(scenario) if g.key == parts[1]
                                  and g.by == "demand_id")
                self._followed = True
                return

    def cancel(self) -> bool:
        with self.lock:
            if not self.running or self.job is None:
                return False
            self.job.cancel()
            return True

    def poll(self) -> RunRecord | None:
        """The latest run; pins it as reference when it is the first finished one."""
        with self.lock:
            rec = self.job.record if self.job is not None else None
            if rec is None or self.running or rec.run_dir is None or self._seen == rec.number:
                return rec
            self._seen = rec.number
            if self.reference is None:
                self.reference = rec
            if not self.group_chosen and not self._followed:
                worst = hardest_hit(rec.run_dir)
                if worst is not None:
                    self.group = Group("demand_id", worst, worst)
            return rec

    def open_folder(self, path: Path | str) -> RunRecord:
        """Add a run folder from disk to the session (raises RunFolderError, ScenarioError)."""
        import json

        scenario, _table = folder_scenario(Path(path))
        manifest_path = Path(path) / "manifest.json"
        manifest = (json.loads(manifest_path.read_text("utf-8")) if manifest_path.is_file()
                    else {})
        done = int(manifest.get("replications_completed") or 0)
        with self.lock:
            rec = RunRecord(len(self.runs) + 1, scenario.name, "run folder", [], done,
                            int(manifest.get("seed") or 0), Path(path), "complete", done=done)
            self.runs.append(rec)
            return rec

    def pin(self, number: int) -> RunRecord | None:
        """Pin run ``number`` as the reference (it then stays when another scenario is
        opened); None if there is no such finished run."""
        with self.lock:
            rec = next((r for r in self.runs if r.number == number and r.run_dir), None)
            if rec is not None and rec is not self.reference:
                self.reference, self.pinned = rec, True
            return rec

    def view_of(self, rec: RunRecord, group: Group) -> RunView:
        """``group``'s rows of a run folder (kept per run and group); for the session's last
        run, the rows it kept in memory (the folder's rows, without reading them back)."""
        key = (rec.number, group.value)
        if key not in self._subsets:
            assert rec.run_dir is not None
            job = self.job
            ts = (job.partial_timeseries(group.by, group.key) if job is not None
                  and job.record is rec and not job.running and job.kept == rec.done
                  else None)
            if ts is not None and job is not None:  # the columns the folder's view reads
                from ..report.rundata import RUN_TABLE_COLUMNS

                ts = ts[[c for c in RUN_TABLE_COLUMNS["timeseries"] if c in ts.columns]]
                self._subsets[key] = RunView(rec.scenario_name, job.scenario, ts, rec.done,
                                             rec.run_dir, rec.seed)
            else:
                self._subsets[key] = RunView.from_folder(rec.run_dir, group)
        return self._subsets[key]

    def render_prices(self) -> PriceView:
        """The price panel: the chosen priced material's overlay (by default the one whose
        price moved most) for the reference and the latest finished run; drawn apart from
        the curve, so that the curve is on screen first."""
        with self.lock:
            ref = self.reference
            run = None if self.running else self.latest()
            key = (ref and ref.number, run and run.number, self.running, self.price_material)
            if self._price_cache is not None and self._price_cache[0] == key:
                return self._price_cache[1]
            chosen = self.price_material
        records = [r for r in (ref, run) if r is not None and r.run_dir is not None]
        records = list(dict.fromkeys(records))  # (the reference alone: once)
        if self.running:
            view = PriceView(note="Prices are drawn when the run finishes.")
        elif not records:
            view = PriceView(note="No finished run yet.")
        else:
            try:
                view = self._prices([self.price_view_of(r) for r in records], chosen)
            except Exception as exc:  # a figure that cannot be drawn is a message
                view = PriceView(note=f"Cannot draw the prices: {type(exc).__name__}: "
                                      f"{' '.join(str(exc).split())}")
        with self.lock:
            self._price_cache = (key, view)
        return view

    def price_view_of(self, rec: RunRecord) -> RunView:
        """A run folder as the price overlay needs it (its scenario and folder only; the
        scenario of the curve's view of that run when there is one)."""
        assert rec.run_dir is not None
        with self.lock:
            shown = [v for (number, _), v in self._subsets.items() if number == rec.number]
        scenario = shown[0].scenario if shown else folder_scenario(rec.run_dir)[0]
        return RunView(rec.scenario_name, scenario, pd.DataFrame(), rec.done, rec.run_dir,
                       rec.seed)

    @staticmethod
    def _prices(runs: list[RunView], chosen: str | None) -> PriceView:
        materials = price_materials(runs)
        if not materials:
            return PriceView(note="No prices: the scenario prices no material "
                                  "(market.prices; docs/markets.md).")
        material = chosen if chosen in materials else most_moved(runs, materials)
        view = PriceView(materials=tuple(materials), material=material)
        try:
            view.png = prices_png(runs, material)
        except KeyError:
            view.note = f"No price of {material} in these run folders."
            return view
        view.note = (f"{material}, USD/kg, per market tier: the median across replications "
                     "and its P5-P95 band, as critmin compare draws it.")
        return view

    def latest(self) -> RunRecord | None:
        """The run to show against the reference: the newest with a folder."""
        done = [r for r in self.runs if r.run_dir is not None and r.source != "run folder"]
        return done[-1] if done else None

    # ---- the main panel --------------------------------------------------------------------
    def render(self) -> View:
        """The overlay of the latest run (live while it runs) against the reference."""
        with self.lock:
            group, ref, job = self.group, self.reference, self.job
            live = job is not None and job.running
            run = None if live else self.latest()
            key = (group, ref and ref.number, run and run.number,
                   job.record.done if live and job else None)
            if self._cache is not None and (self._cache[0] == key or (
                    live and self._cache[0][:3] == key[:3] and not live_redraw_due(
                        time.monotonic() - self._rendered, self._render_cost))):
                return self._cache[1]
            self._rendered = time.monotonic()
        try:
            view = self._render(group, ref, run, job if live else None)
        except Exception as exc:  # a figure that cannot be drawn is a message, not a crash
            view = View(note=f"Cannot draw {group.label if group else 'the curve'}: "
                             f"{type(exc).__name__}: {' '.join(str(exc).split())}")
        with self.lock:
            self._cache = (key, view)
            self._render_cost = time.monotonic() - self._rendered
        return view

    def _render(self, group: Group | None, ref: RunRecord | None, run: RunRecord | None,
                job: RunJob | None) -> View:
        if group is None:
            return View(note="Open a scenario.")
        runs: list[RunView] = []
        if ref is not None:
            runs.append(self.view_of(ref, group))
        if job is not None:
            ts = job.partial_timeseries(group.by, group.key)
            if ts is not None:
                runs.append(RunView(job.scenario.name, job.scenario, ts, job.record.done,
                                    seed=job.record.seed))
        elif run is not None and run is not ref:
            runs.append(self.view_of(run, group))
        if not runs:
            return View(note="Run the scenario (as written, to pin it as the reference), "
                             "then change a value and run again.")
        try:
            png = overlay_png(runs, group)
        except KeyError:
            return View(note=f"{group.label}: not in these runs; choose another curve.")
        records = [r for r in (ref, job.record if job is not None else run) if r is not None]
        names = unique_names([r.name for r in runs])
        view = View(png=png, names=tuple(f"{n} (#{rec.number})" for n, rec
                                         in zip(names, records, strict=False)))
        if len(runs) == 2 and job is None:
            view.rows = _paired_rows(runs[0], runs[1], group)
        view.commands = self.commands(ref, run if job is None else None, group)
        if job is not None:
            view.note = (f"Live: {job.record.done} of {job.record.replications} "
                         "replication(s) finished; the figure and the paired differences are "
                         "final when the run folder is written.")
        elif ref is not None and run is not None and run is not ref:
            view.note = f"{run.label} against the reference {ref.label}."
            view.note += _frame_note(runs[0], runs[1], view.names)
            if run.seed != ref.seed:
                view.note += (f" Warning: the seeds differ ({ref.seed} and {run.seed}): "
                              "replications are paired by number but share no random "
                              "numbers, so the CIs are no narrower than unpaired ones.")
        elif ref is not None:
            view.note = (f"Reference {ref.label}. Change a value and run again to compare.")
        return view

    def commands(self, ref: RunRecord | None, run: RunRecord | None,
                 group: Group | None) -> list[str]:
        """The CLI commands that write the runs and the figure on screen."""
        return cli_commands(ref, run, group, self.saved, self.out_root)

    # ---- saving ----------------------------------------------------------------------------
    def default_save_path(self) -> str:
        if self.parent is None:
            return ""
        stem = (self.tweak.name if self.tweak and self.tweak.name else
                f"{self.parent.stem}_tweak")
        return shown_path(self.parent.parent / f"{stem}.yaml")

    def save(self, target: Path | str) -> Path:
        """Save the tweak as a scenario file (raises ScenarioError, FileExistsError)."""
        with self.lock:
            if self.tweak is None or self.parent is None:
                raise ValueError("open a scenario first")
            target = Path(target)
            if target.suffix not in (".yaml", ".yml"):
                raise ValueError(f"{target}: a scenario file name ends in .yaml")
            header = (f"Saved by `critmin app` from {shown_path(self.parent)}: only the "
                      f"changed values.\nRun it: critmin run {shown_path(target)} -n 20 "
                      "--seed 0")
            self.saved = save_tweak(self.tweak, target, header)
            self._cache = None
            return self.saved

