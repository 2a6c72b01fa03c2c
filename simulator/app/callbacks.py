"""The workbench's Dash callbacks: read the page, call :class:`~.session.Session`, redraw.

Every error a person can cause (a bad value, a missing file, a folder that is not a run) is
shown in the page as the library's one-line message, never as a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from ..scenario import ScenarioError
from .layout import (
    diff_table,
    figure_src,
    group_options,
    param_rows,
    price_options,
    prices_src,
    problems_list,
)
from .session import Session
from .views import Group, data_uri, shown_path, timeline_png

__all__ = ["register"]

VIEW = [Output("overlay", "src"), Output("diff-table", "children"),
        Output("commands", "children"), Output("view-note", "children"),
        Output("group-select", "value")]


def _dup(outputs: list[Output]) -> list[Output]:
    return [Output(o.component_id, o.component_property, allow_duplicate=True)
            for o in outputs]


def _view(session: Session) -> tuple[Any, ...]:
    view = session.render()
    group = session.group.value if session.group else None
    return (figure_src(view), diff_table(view), "\n".join(view.commands), view.note, group)


def _values(ids: list[dict[str, str]], values: list[Any]) -> dict[str, str | None]:
    return {i["path"]: (None if v is None else str(v)) for i, v in zip(ids, values,
                                                                        strict=True)}


def _check_message(session: Session, checked: tuple[Any, list[str]] | None = None) -> Any:
    scenario, problems = checked or session.check()
    if scenario is None:
        return problems_list(problems)
    changes = session.tweak.overrides() if session.tweak else []
    n = len(session.tweak.values) if session.tweak else 0
    what = f"{n} change{'s' if n != 1 else ''}" if n else "no changes"
    return problems_list([], f"Valid ({what}){': ' if changes else '.'}"
                         + ", ".join(f"--set {c}" for c in changes))


def _ref_options(session: Session) -> tuple[list[dict[str, Any]], Any, str]:
    options = [{"label": r.label, "value": r.number} for r in session.runs if r.run_dir]
    ref = session.reference
    info = (f"Reference: {ref.label}, {shown_path(ref.run_dir)}" if ref and ref.run_dir
            else "No reference yet: the first finished run is pinned.")
    return options, (ref.number if ref else None), info


def _status(session: Session) -> tuple[str, str, str, bool]:
    """(progress value, max, status text, tick disabled)."""
    rec = session.poll()
    if rec is None:
        return "0", "1", "", True
    total = str(rec.replications)
    if session.running:
        return (str(rec.done), total, f"Running #{rec.number}: {rec.done} of {total} "
                f"replication(s) finished, {session.job.elapsed:.1f} s", False)
    where = f" -> {shown_path(rec.run_dir)}" if rec.run_dir else ""
    if rec.status == "complete":
        text = (f"Done #{rec.number}: {rec.done} replication(s) in {rec.seconds:.1f} s"
                f"{where}")
    else:
        text = f"Stopped #{rec.number} ({rec.status}): {rec.message}{where}"
    return str(rec.done), total, text, True


def register(app: Dash, session: Session) -> None:
    """Wire the page to ``session``."""

    @app.callback(
        Output("scenario-info", "children"), Output("timeline", "src"),
        Output("params", "children"), Output("add-select", "options"),
        Output("group-select", "options"), Output("check-msg", "children"),
        Output("save-path", "value"), Output("tweak-name", "value"),
        Output("scenario-select", "value"), Output("scenario-path", "value"),
        Output("ref-info", "children", allow_duplicate=True),
        *VIEW,
        Input("scenario-select", "value"), Input("open-btn", "n_clicks"),
        Input("scenario-path", "n_submit"), State("scenario-path", "value"),
        prevent_initial_call="initial_duplicate",
    )
    def open_scenario(selected, _clicks, _submit, typed):
        by_path = ctx.triggered_id in ("open-btn", "scenario-path") and bool(typed)
        path = typed if by_path else selected
        if not path:
            return ("No scenario: put .yaml files in the scenarios folder or type a path.",
                    *[no_update] * (10 + len(VIEW)))
        try:
            sc = session.open(Path(path))
        except ScenarioError as exc:
            return (f"Cannot open {path}:", no_update, no_update, no_update, no_update,
                    problems_list([str(p) for p in exc.problems]),
                    *[no_update] * (5 + len(VIEW)))
        listed = {str(Path(f).resolve()): str(f) for f in session.scenario_files()}
        select = listed.get(str(Path(path).resolve())) if by_path else no_update
        info = [f"{sc.name}  ({shown_path(path)}, {sc.start_date} to {sc.end_date}, "
                f"{len(sc.events)} event(s)): ", " ".join((sc.description or "").split())]
        options = [{"label": f"{p.path} = {p.shown}", "value": p.path}
                   for p in session.params.values()]
        return (info, data_uri(timeline_png(sc)), param_rows(session), options,
                group_options(sc), _check_message(session), session.default_save_path(), "",
                select, "" if not by_path else no_update, _ref_options(session)[2],
                *_view(session))

    @app.callback(
        Output("params", "children", allow_duplicate=True),
        Output("check-msg", "children", allow_duplicate=True),
        Input("add-btn", "n_clicks"), Input("add-path-btn", "n_clicks"),
        Input("add-path", "n_submit"), Input("reset-btn", "n_clicks"),
        State("add-select", "value"), State("add-path", "value"),
        State({"type": "param", "path": ALL}, "value"),
        State({"type": "param", "path": ALL}, "id"),
        prevent_initial_call=True,
    )
    def add_param(_a, _b, _c, _reset, chosen, typed, values, ids):
        if ctx.triggered_id == "reset-btn":
            session.reset()
            return param_rows(session), _check_message(session)
        session.set_values(_values(ids, values))
        path = chosen if ctx.triggered_id == "add-btn" else typed
        problem = session.add_param(path or "")
        if problem:
            return no_update, problems_list([problem])
        return param_rows(session), _check_message(session)

    @app.callback(
        Output("check-msg", "children", allow_duplicate=True),
        Output("save-path", "value", allow_duplicate=True),
        Output("timeline", "src", allow_duplicate=True),
        Input({"type": "param", "path": ALL}, "value"), Input("tweak-name", "value"),
        State({"type": "param", "path": ALL}, "id"),
        prevent_initial_call=True,
    )
    def edit(values, name, ids):
        session.set_values(_values(ids, values), name or "")
        save = session.default_save_path() if ctx.triggered_id == "tweak-name" else no_update
        scenario, problems = session.check()
        timeline = data_uri(timeline_png(scenario)) if scenario is not None else no_update
        return _check_message(session, (scenario, problems)), save, timeline

    @app.callback(
        Output("run-status", "children"), Output("tick", "disabled"),
        Output("check-msg", "children", allow_duplicate=True),
        Input("run-btn", "n_clicks"),
        State({"type": "param", "path": ALL}, "value"),
        State({"type": "param", "path": ALL}, "id"),
        State("tweak-name", "value"), State("reps", "value"), State("seed", "value"),
        prevent_initial_call=True,
    )
    def run(_clicks, values, ids, name, reps, seed):
        session.set_values(_values(ids, values), name or "")
        try:
            n, s = int(reps or 0), int(seed if seed is not None else -1)
        except (TypeError, ValueError):
            n, s = 0, -1
        rec, problems = session.start_run(n, s)
        if rec is None:
            return "Not started: see the problems above.", True, problems_list(problems)
        return f"Starting #{rec.number}...", False, _check_message(session)

    @app.callback(
        Output("run-status", "children", allow_duplicate=True),
        Input("cancel-btn", "n_clicks"), prevent_initial_call=True,
    )
    def cancel(_clicks):
        if session.cancel():
            return "Cancelling: stops when the next replication finishes..."
        return "Nothing is running."

    @app.callback(
        Output("progress", "value"), Output("progress", "max"),
        Output("run-status", "children", allow_duplicate=True),
        Output("tick", "disabled", allow_duplicate=True),
        Output("ref-select", "options"), Output("ref-select", "value"),
        Output("ref-info", "children"),
        *_dup(VIEW),
        Input("tick", "n_intervals"), State("ref-select", "value"),
        State("ref-select", "options"), prevent_initial_call=True,
    )
    def tick(_n, shown_ref, shown_options):
        value, total, text, done = _status(session)
        options, ref, info = _ref_options(session)
        return (value, total, text, done,
                no_update if options == shown_options else options,
                no_update if ref == shown_ref else ref, info, *_view(session))

    @app.callback(
        Output("ref-select", "options", allow_duplicate=True),
        Output("ref-select", "value", allow_duplicate=True),
        Output("ref-info", "children", allow_duplicate=True),
        *_dup(VIEW),
        Input("ref-select", "value"), Input("ref-path-btn", "n_clicks"),
        Input("ref-path", "n_submit"), State("ref-path", "value"),
        prevent_initial_call=True,
    )
    def pin(number, _clicks, _submit, folder):
        if ctx.triggered_id in ("ref-path-btn", "ref-path"):
            if not folder:
                return (no_update, no_update, "Type a run folder first.",
                        *[no_update] * len(VIEW))
            try:
                rec = session.open_folder(Path(folder))
            except (OSError, ScenarioError) as exc:
                return (no_update, no_update, f"Cannot pin {folder}: {exc}",
                        *[no_update] * len(VIEW))
            session.pin(rec.number)
        elif number is not None:
            session.pin(int(number))
        return (*_ref_options(session), *_view(session))

    @app.callback(
        *_dup(VIEW[:4]), Input("group-select", "value"), prevent_initial_call=True,
    )
    def choose(value):
        if value and (session.group is None or value != session.group.value):
            session.group = Group.parse(value)
            session.group_chosen = True
        return _view(session)[:4]

    @app.callback(
        Output("prices", "src"), Output("price-select", "options"),
        Output("price-select", "value"), Output("price-note", "children"),
        Input("overlay", "src"), Input("price-select", "value"), prevent_initial_call=True,
    )
    def prices(_src, value):
        """The price panel, after the curve (it follows the overlay) or a material choice."""
        if ctx.triggered_id == "price-select" and value:
            session.price_material = value
        view = session.render_prices()
        return prices_src(view), price_options(view), view.material, view.note

    @app.callback(
        Output("save-msg", "children"), Output("commands", "children", allow_duplicate=True),
        Input("save-btn", "n_clicks"), State("save-path", "value"),
        State({"type": "param", "path": ALL}, "value"),
        State({"type": "param", "path": ALL}, "id"), State("tweak-name", "value"),
        prevent_initial_call=True,
    )
    def save(_clicks, target, values, ids, name):
        session.set_values(_values(ids, values), name or "")
        if not target:
            return "Type a file name first.", no_update
        try:
            path = session.save(Path(target))
        except ScenarioError as exc:
            return problems_list([str(p) for p in exc.problems]), no_update
        except (OSError, ValueError) as exc:
            return f"Not saved: {exc}", no_update
        return (f"Saved {shown_path(path)} (checked: it loads back to the tweak). "
                f"critmin validate {shown_path(path)} says OK.", _view(session)[2])
