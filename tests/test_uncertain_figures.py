"""Figures, timelines and tables show an uncertain event date as the window it can fall in,
not as a central date drawn as if certain (issue 13)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib.dates as mdates
import pytest
import yaml
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon, Rectangle

from simulator.analysis import event_windows
from simulator.runner import run_scenario
from simulator.scenario import load_scenario
from simulator.viz import fan_chart, overlay_figure
from simulator.viz.events import event_caption
from tests.conftest import CHAIN, deep_update

ROOT = Path(__file__).resolve().parents[1]
LOW, HIGH = dt.date(2024, 6, 1), dt.date(2025, 3, 31)
LABEL = "uncertain: 2024-06-01 to 2025-03-31"
# the MY refinery stops at a date drawn over ten months, for 30 to 60 days
EVENTS = {
    "my_stop": {"type": "facility_outage", "facilities": ["my_refinery"],
                "start": {"uniform": [LOW.isoformat(), HIGH.isoformat()]},
                "duration_days": {"uniform": [30, 60]}, "capacity_lost": 1.0},
    "jp_deal": {"type": "cooperation_agreement", "members": ["JP", "AU"],
                "signed": {"choice": ["2024-09-01", "2024-12-01"]}},
}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    path = Path(tmp_path_factory.mktemp("unc")) / "stop.yaml"
    data = deep_update(CHAIN, {"name": "uncertain_stop", "events": EVENTS})
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_scenario(path)


@pytest.fixture(scope="module")
def timeseries(scenario):
    return run_scenario(scenario, replications=3, seed=1).timeseries


def _spans(ax) -> list[tuple[dt.date, dt.date]]:
    """(left, right) dates of every axvspan-like patch on ``ax``."""
    out = []
    for p in ax.patches:
        if isinstance(p, Polygon | Rectangle):
            xs = p.get_xy()[:, 0] if isinstance(p, Polygon) else [p.get_x(),
                                                                  p.get_x() + p.get_width()]
            out.append((mdates.num2date(min(xs)).date(), mdates.num2date(max(xs)).date()))
    return out


def _vlines(ax) -> set[dt.date]:
    out = set()
    for line in ax.lines:
        xs = line.get_xdata()
        if len(xs) == 2 and xs[0] == xs[1] and isinstance(line, Line2D):
            x = xs[0]
            out.add(mdates.num2date(x).date() if not hasattr(x, "date") else x.date())
    return out


def test_windows_carry_the_range_of_an_uncertain_date(scenario) -> None:
    wins = {w.id: w for w in event_windows(scenario)}
    stop, deal = wins["my_stop"], wins["jp_deal"]
    assert stop.start_range == (LOW, HIGH) and stop.uncertain
    assert stop.end_range == (LOW + dt.timedelta(days=30), HIGH + dt.timedelta(days=60))
    assert stop.duration_range == (30, 60)
    assert deal.start_range == (dt.date(2024, 9, 1), dt.date(2024, 12, 1))
    assert event_caption(stop) == f"outage my_refinery ({LABEL}, 30-60 days)"
    assert event_caption(deal) == "agreement JP+AU (uncertain: 2024-09-01 to 2024-12-01)"


def test_certain_windows_are_unchanged(scenario) -> None:
    plain = load_scenario(ROOT / "scenarios" / "china_heavy_ree_controls_2026.yaml")
    assert all(not w.uncertain and w.start_range is None for w in event_windows(plain))


def test_fan_chart_shades_the_whole_uncertainty_window(scenario, timeseries) -> None:
    fig = fan_chart(timeseries, scenario.name, events=event_windows(scenario), window=None)
    top = fig.axes[0]
    end_hi = HIGH + dt.timedelta(days=60)
    assert any(lo <= LOW and hi >= end_hi for lo, hi in _spans(top)), _spans(top)
    central = next(w for w in event_windows(scenario) if w.id == "my_stop")
    assert not any(lo == central.start for lo, _ in _spans(top))  # no span from the centre
    deal_lo, deal_hi = dt.date(2024, 9, 1), dt.date(2024, 12, 1)
    assert any(lo <= deal_lo and hi >= deal_hi for lo, hi in _spans(top))
    deal = next(w for w in event_windows(scenario) if w.id == "jp_deal")
    assert deal.start not in _vlines(top)  # no dashed line at the central date
    legend = " ".join(t.get_text() for a in fig.axes for lg in [a.get_legend()] if lg
                      for t in lg.get_texts())
    legend += " ".join(t.get_text() for lg in fig.legends for t in lg.get_texts())
    assert LABEL in legend


def test_overlay_shades_the_uncertainty_window(scenario, timeseries) -> None:
    wins = event_windows(scenario)
    fig = overlay_figure({"a": timeseries, "b": timeseries}, "ev", events={"a": wins,
                                                                          "b": wins},
                         replications={"a": 3, "b": 3}, window=None)
    spans = [s for ax in fig.axes for s in _spans(ax)]
    assert any(lo <= LOW and hi >= HIGH + dt.timedelta(days=60) for lo, hi in spans)


def test_app_timeline_and_report_table_say_uncertain(scenario) -> None:
    from simulator.app.views import timeline_figure
    from simulator.report.html import _events_table

    fig = timeline_figure(scenario)
    ax = fig.axes[0]
    texts = " ".join(t.get_text() for t in ax.texts)
    assert LABEL in texts
    assert any(lo <= LOW and hi >= HIGH + dt.timedelta(days=60) for lo, hi in _spans(ax))
    table = _events_table(scenario)
    row = table.split("my_stop")[1].split("</tr>")[0]
    stop = next(w for w in event_windows(scenario) if w.id == "my_stop")
    assert LABEL in row and stop.start.isoformat() not in row


def test_a_plant_with_an_uncertain_start_is_marked_over_its_range(tmp_path) -> None:
    from simulator.analysis import plant_starts

    data = deep_update(CHAIN, {"name": "late_plant", "facilities": {"au_refinery": {
        "country": "AU", "recipe": "refining", "capacity_tpy": 500,
        "start_date": {"triangular": ["2024-06-01", "2024-09-01", "2025-06-01"]}}}})
    path = tmp_path / "late_plant.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    (plant,) = plant_starts(load_scenario(path))
    assert plant.start_range == (dt.date(2024, 6, 1), dt.date(2025, 6, 1))
    assert event_caption(plant) == ("new plant au_refinery (AU) "
                                    "(uncertain: 2024-06-01 to 2025-06-01)")


def test_price_overlay_marks_the_events_of_every_scenario() -> None:
    """The compared scenario's uncertain stop (not the reference's) is what the price overlay
    zooms onto; it is drawn and named, not left unexplained."""
    import pandas as pd

    from simulator.analysis import EventWindow
    from simulator.viz.prices import price_overlay_figure

    days = pd.date_range("2024-01-01", "2026-01-01", freq="7D")
    frame = pd.DataFrame({"replication": 0, "day": range(len(days)), "date": days,
                          "material": "oxide", "market": "world",
                          "price_usd_per_kg": 50.0})
    stop = EventWindow("my_stop", "facility_outage", "outage my_refinery",
                       dt.date(2024, 11, 1), dt.date(2024, 12, 16), True,
                       (LOW, HIGH), (LOW + dt.timedelta(days=30), HIGH + dt.timedelta(days=60)),
                       (30, 60))
    fig = price_overlay_figure({"base": frame, "stop": frame}, "oxide",
                               events={"base": [], "stop": [stop]}, window=None)
    spans = [s for ax in fig.axes for s in _spans(ax)]
    assert any(lo <= LOW and hi >= HIGH + dt.timedelta(days=60) for lo, hi in spans)
    legend = " ".join(t.get_text() for lg in fig.legends for t in lg.get_texts())
    assert f"stop only: outage my_refinery ({LABEL}, 30-60 days)" in legend
