"""Figure and table defects an analyst found in the comparison (issue 13, item 5), each with
a test that fails on the code before the fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from simulator.analysis.compare import paired_differences
from simulator.analysis.metrics import EventWindow, event_windows
from simulator.scenario import load_scenario
from simulator.viz.compare import overlay_figure
from tests.test_compare_stats import metrics_frame
from tests.test_fan import timeseries

ROOT = Path(__file__).resolve().parents[1]


def _tick_labels(fig) -> list[str]:
    FigureCanvasAgg(fig).draw()
    return [t.get_text() for t in fig.axes[1].get_yticklabels() if t.get_text()]


def test_difference_ticks_never_read_plus_zero_or_minus_zero() -> None:
    """A small difference (the scenario 0.4 pp lower) gave ticks "+1, +0, 0, -0, -1"."""
    base = timeseries(4, shock=0.79)
    alt = timeseries(4, shock=0.786)
    labels = _tick_labels(overlay_figure({"a": base, "b": alt}, "ev", window=None))
    assert labels and not {"+0", "-0", "+0.0", "-0.0"} & set(labels)
    assert len(set(labels)) == len(labels)  # distinct ticks read differently
    assert "0" in labels


def test_a_scenario_equal_to_the_reference_says_so() -> None:
    """It was drawn exactly under the reference's line, with nothing to tell it was there."""
    base = timeseries(3, shock=0.6)
    fig = overlay_figure({"ref": base, "same": base.copy(), "other": timeseries(3, 0.9)},
                         "ev", window=None)
    labels = [" ".join(ln.get_label().split()) for ln in fig.axes[0].get_lines()]
    assert any(lb.startswith("same (= reference, drawn under it)") for lb in labels)
    assert not any("= reference" in lb for lb in labels if lb.startswith("other"))


def test_open_ended_event_is_numbered_at_its_start() -> None:
    """Its number sat in the middle of what was left of the window (a 2025 tariff drawn
    around 2029)."""
    start = dt.date(2024, 3, 4)
    ev = EventWindow("tariff", "tariff", "25% tariff on CN", start, None, True)
    fig = overlay_figure({"a": timeseries(2), "b": timeseries(2, 0.8)}, "ev",
                         events={"a": [ev], "b": [ev]}, window=None)
    bubbles = [t for t in fig.axes[0].texts if t.get_text() == "1"]
    assert len(bubbles) == 1
    x = bubbles[0].xy[0]
    assert np.datetime64(x, "D") == np.datetime64(start, "D")


def test_events_with_the_same_label_are_told_apart_and_plants_are_listed() -> None:
    """The framework scenario's two agreements both read "agreement US+JP", and the plants
    it builds (2028-2030) were not marked at all."""
    from simulator.analysis.metrics import plant_starts

    s = load_scenario(ROOT / "scenarios" / "us_japan_framework.yaml")
    labels = [w.label for w in event_windows(s)]
    assert len(set(labels)) == len(labels)
    assert "agreement US+JP (us_japan_offtake)" in labels
    plants = plant_starts(s)
    assert [p.type for p in plants] == ["plant_start"] * len(plants) and len(plants) >= 4
    assert all(s.start_date < p.start < s.end_date and not p.disruption for p in plants)
    assert "new plant usjp_magnets (US)" in [p.label for p in plants]


def test_no_star_on_a_difference_that_is_rounding() -> None:
    """Two runs that differ only by floating-point rounding printed
    "0.000 pp [0.000, 0.000] *": a zero-width CI at 1e-17 "excluded" zero."""
    a = metrics_frame({"fill_rate": np.full(5, 0.3)})
    b = metrics_frame({"fill_rate": np.full(5, 0.1 + 0.2)})  # 0.30000000000000004
    row = paired_differences(a, b, metrics=("fill_rate",)).iloc[0]
    assert row["mean_diff"] != 0.0 and not row["ci_excludes_zero"]
    real = metrics_frame({"fill_rate": np.full(5, 0.31)})
    assert paired_differences(a, real, metrics=("fill_rate",)).iloc[0]["ci_excludes_zero"]


def test_fill_rates_read_with_one_precision() -> None:
    """The compare findings read "fill rate 97.271% [94.544, 99.997]" next to
    "97.5% [95.0, 100.0]": a bound just under 100% pulled the whole line to three decimals.
    Fill rates now read with one decimal; a value under 100% that would round to 100.0 reads
    ">99.9"; a difference gets more decimals only when one would show a non-zero as 0."""
    from simulator.report import format_metric, format_range

    assert format_range("fill_rate", 0.97271, 0.94544, 0.99997) == "97.3% [94.5, >99.9]"
    assert format_range("fill_rate", 0.975, 0.95, 1.0) == "97.5% [95.0, 100.0]"
    assert format_metric("fill_rate", 0.99997) == ">99.9%"
    assert format_metric("fill_rate", 1.0) == "100.0%"
    assert format_metric("trough_fill_rate", 0.98765) == "98.8%"
    # differences: one decimal, unless that reads a non-zero difference as 0
    assert format_range("fill_rate", -0.018, -0.031, -0.004, signed=True) \
        == "-1.8 pp [-3.1, -0.4]"
    assert format_range("fill_rate", 0.0002, -0.0001, 0.0005, signed=True) \
        == "+0.02 pp [-0.01, +0.05]"
    assert format_metric("fill_rate", 0.0, signed=True) == "0.0 pp"


def test_an_open_ended_tariff_is_a_shaded_window_not_a_response_line() -> None:
    """A tariff that cuts no demand sector's supply (China's on US concentrate) was drawn
    as a dashed line at its start, the mark of responses (agreements, plants); it is a
    policy event: shaded from its start to the figure's edge, like an export control."""
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Polygon, Rectangle

    from simulator.viz.events import event_legend_handles, shade_events

    s = load_scenario(ROOT / "scenarios" / "china_heavy_ree_controls_2026.yaml")
    tariff = next(w for w in event_windows(s) if w.type == "tariff")
    assert tariff.end is None and not tariff.disruption  # the case: no sector's supply cut
    start = dt.date(2024, 3, 4)
    tariff = EventWindow(tariff.id, "tariff", tariff.label, start, None, False)
    deal = EventWindow("deal", "cooperation_agreement", "agreement US+JP",
                       dt.date(2024, 4, 1), None, False)
    fig = overlay_figure({"a": timeseries(2), "b": timeseries(2, 0.8)}, "ev",
                         events={"a": [tariff, deal], "b": [tariff, deal]}, window=None)
    top = fig.axes[0]
    right = mdates.num2date(top.get_xlim()[1]).date()

    def day(x) -> dt.date:
        return x.date() if hasattr(x, "date") else mdates.num2date(x).date()

    def spans(ax):
        for p in ax.patches:
            if isinstance(p, Polygon | Rectangle):
                xs = (p.get_xy()[:, 0] if isinstance(p, Polygon)
                      else [p.get_x(), p.get_x() + p.get_width()])
                yield day(min(xs)), day(max(xs))

    def dashed_at(ax):
        return {day(ln.get_xdata()[0]) for ln in ax.lines
                if len(ln.get_xdata()) == 2 and ln.get_xdata()[0] == ln.get_xdata()[1]
                and ln.get_linestyle() != "-"}

    for ax in fig.axes:
        assert (start, right) in set(spans(ax)), list(spans(ax))
        assert start not in dashed_at(ax)
        assert deal.start in dashed_at(ax)  # responses keep their dashed line
    drawn = shade_events([top], [tariff, deal], (pd.Timestamp(start) - pd.Timedelta(days=7),
                                                 pd.Timestamp(right)))
    handles, _labels = event_legend_handles(drawn)
    assert isinstance(handles[0], Patch) and isinstance(handles[1], Line2D)


def test_an_equal_scenario_or_long_names_leave_the_panels_their_width() -> None:
    """``china_heavy_ree_controls_2026-2 (same as china_heavy_ree_controls_2026: under its
    line): low 93%`` was one legend line so wide the panels shrank to a third of the figure
    and the title wrapped onto three lines. Legend labels are wrapped to a fixed width, so
    the panels keep their usual width whatever the names."""
    base, alt = timeseries(3, shock=0.6), timeseries(3, shock=0.9)
    long = "china_heavy_ree_controls_2026"

    def width(frames) -> float:
        fig = overlay_figure(frames, "ev", window=None)
        fig.draw_without_rendering()
        return fig.axes[0].get_position().width

    usual = width({"baseline": base, "us_japan_framework": alt})
    equal = width({long: base, f"{long}-2": base.copy()})
    longer = width({f"{long}_with_a_much_longer_name_still": base, f"{long}-2": alt})
    assert equal == pytest.approx(usual, rel=0.04)
    assert longer == pytest.approx(usual, rel=0.04)
    fig = overlay_figure({long: base, f"{long}-2": base.copy()}, "ev", window=None)
    label = next(ln.get_label() for ln in fig.axes[0].get_lines()
                 if ln.get_label().startswith(f"{long}-2"))
    assert "(= reference, drawn under it)" in " ".join(label.split())
    assert fig.get_suptitle().count("\n") <= 1
