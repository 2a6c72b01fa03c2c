"""The workbench page (Dash components only; the state lives in :mod:`.session`)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc, html

from .session import PriceView, Session, View
from .views import METRIC_LABELS, data_uri, groups

__all__ = ["diff_table", "layout", "param_rows", "problems_list"]

#: How often the page asks for progress while a run goes (milliseconds).
TICK_MS = 400


def _section(title: str, *children: Any, hint: str = "") -> html.Section:
    head = [html.H2(title)] + ([html.P(hint, className="hint")] if hint else [])
    return html.Section([*head, *children], className="card")


def layout(session: Session) -> html.Div:
    """The page: controls on the left, the curves and numbers on the right."""
    files = [{"label": f"{p.name}", "value": str(p)} for p in session.scenario_files()]
    first = next((f["value"] for f in files if f["label"] == "baseline.yaml"),
                 files[0]["value"] if files else None)
    controls = html.Div([
        _section(
            "1. Scenario",
            dcc.Dropdown(files, first, id="scenario-select", clearable=False,
                         placeholder="a scenario of the scenarios folder"),
            # Boxes read on Enter do not debounce: with debounce, Dash sends n_submit
            # before the typed value and the callback would read the old one.
            html.Div([dcc.Input(id="scenario-path", type="text", debounce=False,
                                placeholder="or a path: my/scenario.yaml", className="grow"),
                      html.Button("Open", id="open-btn")], className="row"),
            html.Div(id="scenario-info", className="info"),
        ),
        _section(
            "2. Parameters",
            html.Div(id="params"),
            html.Div([dcc.Dropdown(id="add-select", placeholder="add a parameter: type to "
                                   "search every number, date and distribution",
                                   className="grow"),
                      html.Button("Add", id="add-btn")], className="row"),
            html.Div([dcc.Input(id="add-path", type="text", debounce=False, className="grow",
                                placeholder="or any --set path: demand.us_magnet_ev.cover_days"),
                      html.Button("Add path", id="add-path-btn")], className="row"),
            html.Div([html.Label("Name of the tweak", htmlFor="tweak-name"),
                      dcc.Input(id="tweak-name", type="text", debounce=True,
                                placeholder="(the scenario's name)", className="grow"),
                      html.Button("Reset", id="reset-btn", title="Back to the values as "
                                  "written")], className="row"),
            html.Div(id="check-msg", className="check"),
            hint="Values are YAML, as after --set: 4500, 2026-10-30, {triangular: [30, 45, 90]}."
                 " Press Enter or leave the box to check a value.",
        ),
        _section(
            "3. Run",
            html.Div([html.Label("Replications", htmlFor="reps"),
                      dcc.Input(id="reps", type="number", min=1, step=1, value=20,
                                className="num"),
                      html.Label("Seed", htmlFor="seed"),
                      dcc.Input(id="seed", type="number", min=0, step=1, value=0,
                                className="num"),
                      html.Button("Run", id="run-btn", className="primary"),
                      html.Button("Cancel", id="cancel-btn")], className="row"),
            html.Progress(id="progress", value="0", max="1"),
            html.Div(id="run-status", className="status"),
            hint="Runs write a run folder exactly as critmin run does. The first finished run "
                 "becomes the reference.",
        ),
        _section(
            "4. Reference",
            dcc.Dropdown(id="ref-select", placeholder="pin a run of this session",
                         clearable=False),
            html.Div([dcc.Input(id="ref-path", type="text", debounce=False, className="grow",
                                placeholder="or a run folder: results/baseline/2025..."),
                      html.Button("Pin folder", id="ref-path-btn")], className="row"),
            html.Div(id="ref-info", className="info"),
        ),
        _section(
            "5. Save the tweak",
            html.Div([dcc.Input(id="save-path", type="text", className="grow",
                                placeholder="scenarios/my_tweak.yaml"),
                      html.Button("Save", id="save-btn")], className="row"),
            html.Div(id="save-msg", className="info"),
            hint="A scenario file that extends the one opened and holds only the changes.",
        ),
    ], className="controls")
    main = html.Div([
        html.Div([html.Label("Curve", htmlFor="group-select"),
                  dcc.Dropdown(id="group-select", clearable=False, className="grow")],
                 className="row"),
        html.Div(id="view-note", className="note"),
        html.Img(id="overlay", alt="fill-rate overlay", className="figure"),
        html.Div(id="diff-table"),
        html.H3("Prices"),
        html.Div([html.Label("Material", htmlFor="price-select"),
                  dcc.Dropdown(id="price-select", clearable=False, className="grow")],
                 className="row"),
        html.Div(id="price-note", className="note"),
        html.Img(id="prices", alt="price overlay", className="figure"),
        html.H3("The same from the command line"),
        html.Pre(id="commands", className="commands"),
        html.H3("Events"),
        html.Img(id="timeline", alt="event timeline", className="figure"),
    ], className="main")
    return html.Div([
        html.Header([html.H1("critmin workbench"),
                     html.Span("tweak a scenario, run it, compare it with a pinned reference",
                               className="hint")]),
        html.Div([controls, main], className="columns"),
        dcc.Interval(id="tick", interval=TICK_MS, disabled=True),
    ])


def group_options(scenario: Any) -> list[dict[str, str]]:
    return [{"label": g.label, "value": g.value} for g in groups(scenario)]


def param_rows(session: Session) -> html.Table:
    """One row per shown parameter: path, value as written, the input box."""
    rows = []
    tweak = session.tweak.values if session.tweak else {}
    for path in session.shown:
        p = session.params.get(path)
        written = (f"{p.shown}" if p else "not set (the default)")
        kind = p.kind if p else "any"
        value = tweak.get(path, p.text if p else "")
        rows.append(html.Tr([
            html.Td(html.Code(path), className="path"),
            html.Td([html.Span(written), html.Span(kind, className=f"kind {kind}")],
                    className="written"),
            html.Td(dcc.Input(id={"type": "param", "path": path}, type="text", value=value,
                              debounce=True, className="value" +
                              (" changed" if path in tweak else ""))),
        ]))
    head = html.Tr([html.Th("--set path"), html.Th("as written"), html.Th("value")])
    return html.Table([html.Thead(head), html.Tbody(rows)], className="params")


def problems_list(problems: list[str], ok: str = "") -> html.Div:
    if not problems:
        return html.Div(ok, className="ok")
    return html.Div([html.Strong("The scenario loader says:"),
                     html.Ul([html.Li(html.Code(p)) for p in problems])], className="problems")


def diff_table(view: View) -> html.Div | str:
    """Means and the paired difference with its 95% CI, per metric."""
    from ..report import format_metric, format_range
    from ..report.compare_html import units_label

    rows: pd.DataFrame | None = view.rows
    if rows is None or rows.empty or len(view.names) < 2:
        return ""
    ref, run = view.names[0], view.names[1]
    head = html.Tr([html.Th("metric"), html.Th(f"{ref}, reference"), html.Th(run),
                    html.Th("paired difference [95% CI]")])
    body = []
    for r in rows.itertuples():
        diff = format_range(r.metric, r.mean_diff, r.ci95_low, r.ci95_high, signed=True,
                            clip=False)
        cls = "sig" if r.ci_excludes_zero else ""
        label = (f"{units_label(r.unit)} (per replication)" if r.metric == "units_short"
                 else METRIC_LABELS.get(r.metric, r.metric))
        body.append(html.Tr([html.Td(label),
                             html.Td(format_metric(r.metric, r.mean_a)),
                             html.Td(format_metric(r.metric, r.mean_b)),
                             html.Td(diff + (" *" if r.ci_excludes_zero else ""),
                                     className=f"diff {cls}")]))
    n = int(rows["n_pairs"].max())
    foot = html.P(f"Means over {n} paired replications (replication r of both runs shares its "
                  "random numbers); difference = run minus reference, fill rates in "
                  "percentage points; * the 95% CI excludes 0.", className="hint")
    return html.Div([html.Table([html.Thead(head), html.Tbody(body)], className="diffs"),
                     foot])


def figure_src(view: View) -> str:
    return data_uri(view.png) if view.png else ""


def prices_src(view: PriceView) -> str:
    return data_uri(view.png) if view.png else ""


def price_options(view: PriceView) -> list[dict[str, str]]:
    return [{"label": m, "value": m} for m in view.materials]
