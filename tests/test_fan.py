"""Structure of the analyst figures: fan chart, small multiples, origin mix, concentration,
stockpiles and the comparison overlay (titles, axis labels, lines, bands, event spans)."""

from __future__ import annotations

import datetime as dt
import re

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from simulator.analysis.metrics import EventWindow
from simulator.viz.compare import overlay_figure, scenario_colors
from simulator.viz.curves import PALETTE, group_colors, save_figure
from simulator.viz.fan import fan_chart, fill_rate_ylim, focus_window, select_groups
from simulator.viz.panels import concentration_figure, origin_mix_figure, small_multiples
from simulator.viz.stockpiles import stockpile_figure

START = pd.Timestamp("2024-01-01")
STEPS = 150  # 7-day steps: about three years
# demand id -> (country, sector, material)
DEMAND = {"jp_ev": ("JP", "ev", "magnet"), "us_ev": ("US", "ev", "magnet"),
          "jp_wind": ("JP", "wind", "magnet"), "us_defense": ("US", "defense", "magnet"),
          "de_glass": ("DE", "glass", "oxide")}
SHORT = (60, 75)  # steps with shortfall in ev and wind
EVENTS = [
    EventWindow("cn_ban", "export_control", "CN export ban",
                dt.date(2025, 2, 10), dt.date(2025, 4, 14), True),
    EventWindow("alliance", "cooperation_agreement", "agreement JP+US",
                dt.date(2025, 6, 2), None, False),
]


def timeseries(replications: int = 5, shock: float = 0.6) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for rep in range(replications):
        for did, (country, sector, material) in DEMAND.items():
            for i in range(STEPS):
                fill = 1.0
                if SHORT[0] <= i < SHORT[1] and sector in ("ev", "wind"):
                    fill = float(np.clip(shock + 0.2 * rng.random(), 0, 1))
                stock = 500.0 - (40.0 * min(i - SHORT[0], 10) if i >= SHORT[0] and
                                 country == "JP" else 0.0)
                rows.append((rep, 7 * i, country, sector, did, material, 10.0, 10.0 * fill,
                             stock if country == "JP" and material == "magnet" else 0.0))
    df = pd.DataFrame(rows, columns=["replication", "day", "country", "sector", "demand_id",
                                     "material", "demand_t", "delivered_t", "stockpile_t"])
    df["shortfall_t"] = df["demand_t"] - df["delivered_t"]
    df.insert(2, "date", START + pd.to_timedelta(df["day"], unit="D"))
    return df


def production(replications: int = 3) -> pd.DataFrame:
    rows = []
    for rep in range(replications):
        for i in range(STEPS):
            cn_cut = 0.5 if SHORT[0] <= i < SHORT[1] else 1.0
            for fac, country, stage, mat, t in (
                    ("cn_mine", "CN", "mine", "ore", 70.0 * cn_cut),
                    ("au_mine", "AU", "mine", "ore", 20.0),
                    ("us_mine", "US", "mine", "ore", 10.0),
                    ("cn_sep", "CN", "separation", "oxide", 90.0 * cn_cut),
                    ("my_sep", "MY", "separation", "oxide", 10.0)):
                rows.append((rep, 7 * i, fac, country, stage, mat, t))
    df = pd.DataFrame(rows, columns=["replication", "day", "facility", "country", "stage",
                                     "material", "tonnes"])
    df.insert(2, "date", START + pd.to_timedelta(df["day"], unit="D"))
    return df


def data_lines(ax) -> list:
    """Labelled lines (medians, reference lines), not event markers."""
    return [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]


def bands(ax) -> int:
    return sum(isinstance(c, PolyCollection) for c in ax.collections)


def spans(ax) -> list[Rectangle]:
    """Event shading: full-height rectangles (axvspan) on the axes."""
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def numbers(ax) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_text().isdigit()]


# --------------------------------------------------------------------------- fan chart

def test_fan_chart_structure():
    fig = fan_chart(timeseries(), "china_ban", 5, events=EVENTS, window=None)
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() == "china_ban: fill rate by sector (5 replications)"
    top, bottom = fig.axes[:2]
    assert "Fill rate" in top.get_ylabel() and "%" in top.get_ylabel()
    assert bottom.get_ylabel() == "Shortfall\n(t per 7-day step)"
    assert bottom.get_xlabel() == "Date"
    # only the sectors that ran short are drawn, largest shortfall first in the legend
    labels = [ln.get_label() for ln in data_lines(top)]
    assert [lab.split(" (low")[0] for lab in labels] == ["ev", "wind", "95% reference"]
    assert re.fullmatch(r"ev \(low (6\d|7\d)%\)", labels[0])  # lowest median, 60-80%
    assert len(data_lines(bottom)) == 2
    # per sector: P5-P95 and P25-P75 bands above, P5-P95 below
    assert bands(top) == 4 and bands(bottom) == 2
    # note about the sectors left out
    assert "2 sectors never short (100%)" in top.get_title(loc="left")
    # the export ban is shaded on both panels and numbered...
    assert len(spans(top)) == 1 and len(spans(bottom)) == 1
    assert np.isclose(as_num(spans(top)[0].get_x()), mpl_date("2025-02-10"))
    assert numbers(top) == ["1", "2"]
    # ...the agreement (a response, not a disruption) is a dashed vertical line
    for ax in (top, bottom):
        marks = [ln for ln in ax.get_lines() if ln not in data_lines(ax)]
        assert len(marks) == 1
        assert np.isclose(as_num(marks[0].get_xdata()[0]), mpl_date("2025-06-02"))
    # the events legend lists both with dates
    texts = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert "(1) CN export ban (2025-02-10 to 2025-04-14)" in texts
    assert "(2) agreement JP+US (from 2025-06-02)" in texts
    assert "P25-P75 across replications" in texts
    # colours: a sector's colour is the same as in fill_rate_figure
    colors = group_colors(DEMAND_SECTORS)
    assert top.get_lines()[0].get_color() == colors["ev"]


DEMAND_SECTORS = sorted({s for _, s, _ in DEMAND.values()})


def mpl_date(text: str) -> float:
    return mdates.date2num(pd.Timestamp(text))


def as_num(x) -> float:
    """A matplotlib x coordinate (a date or a float) as a float."""
    return float(x) if isinstance(x, float | int | np.floating) else mdates.date2num(x)


def test_fan_chart_zooms_on_the_disruption_and_says_so():
    fig = fan_chart(timeseries(), "china_ban", 5, events=EVENTS[:1])
    top = fig.axes[0]
    lo, hi = top.get_xlim()
    assert lo > mpl_date("2024-06-01") and hi < mpl_date("2026-06-01")
    assert "Zoomed to" in top.get_title(loc="left")
    # y axis from a round number below the lowest P5, to just above 100%
    assert top.get_ylim()[1] == 101.5 and top.get_ylim()[0] in (50.0, 55.0)


def test_fan_chart_by_demand_id_and_explicit_groups():
    fig = fan_chart(timeseries(3), "s", by="demand_id", groups=["us_defense", "jp_ev"],
                    window=None)
    top = fig.axes[0]
    assert fig.get_suptitle() == "s: fill rate by demand id (3 replications)"
    names = [ln.get_label().split(" (")[0] for ln in top.get_lines()[:2]]
    assert names == ["us_defense", "jp_ev"]
    with pytest.raises(KeyError, match="unknown demand_id nope"):
        fan_chart(timeseries(1), "s", by="demand_id", groups=["nope"])


def test_fan_chart_single_replication_has_no_bands_and_no_shortfall_note():
    ts = timeseries(1, shock=1.0)
    fig = fan_chart(ts, "calm", 1)
    top, bottom = fig.axes[:2]
    assert fig.get_suptitle() == "calm: fill rate by sector (1 replication)"
    assert bands(top) == 0
    assert any(t.get_text() == "no shortfall" for t in bottom.texts)
    assert "No shortfall in any sector." in top.get_title(loc="left")


def test_helpers():
    dates = pd.Series(pd.date_range("2024-01-01", "2033-12-31", freq="7D"))
    w = focus_window(dates, [(pd.Timestamp("2025-04-04"), pd.Timestamp("2025-07-15"))])
    assert w == (pd.Timestamp("2025-04-04") - pd.Timedelta(days=90),
                 pd.Timestamp("2025-07-15") + pd.Timedelta(days=180))
    assert focus_window(dates, []) is None
    assert focus_window(dates, [(dates.iloc[0], dates.iloc[-1])]) is None  # too long
    assert fill_rate_ylim(91.0) == (85.0, 101.5)
    assert fill_rate_ylim(3.0) == (0.0, 101.5)
    assert fill_rate_ylim(100.0) == (90.0, 101.5)
    from simulator.analysis.kpis import fill_rate_curve

    curve = fill_rate_curve(timeseries(2), by=("sector",))
    shown, rest, note = select_groups(curve, "sector", max_groups=1)
    assert shown == ["ev"] and "1 more sectors with smaller shortfalls" in note
    assert sorted(rest) == ["defense", "glass", "wind"]


def test_figures_are_byte_reproducible(tmp_path):
    files = []
    for name in ("a", "b"):
        fig = fan_chart(timeseries(3), "s", 3, events=EVENTS)
        files.append(save_figure(fig, tmp_path / name))
    for pa, pb in zip(*files, strict=True):
        assert pa.read_bytes() == pb.read_bytes()


# --------------------------------------------------------------------------- panels

def test_small_multiples_only_short_pairs_with_cap_and_note():
    fig = small_multiples(timeseries(), "china_ban", 5, events=EVENTS, max_panels=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert fig.get_suptitle() == "china_ban: fill rate by country and sector (5 replications)"
    assert len(visible) == 2
    titles = [ax.get_title(loc="left").split(":")[0] for ax in visible]
    assert set(titles) <= {"JP ev", "US ev", "JP wind"}
    for ax in visible:
        assert len(spans(ax)) == 1  # the export ban, unnumbered
        assert numbers(ax) == []
        assert bands(ax) == 2  # P5-P95 and P25-P75
    # shared y axis, in %
    assert visible[0].get_ylim() == visible[1].get_ylim()
    assert visible[0].get_ylabel() == "Fill rate (%)"
    note = fig._supxlabel.get_text()
    assert "2 of 5 country x sector pairs never short" in note
    assert "Showing 2 of 3 short pairs" in note


def test_origin_mix_stacks_to_100_per_stage():
    prod = production()
    fig = origin_mix_figure(pd.DataFrame(), prod, "s", 3, stages=["mine", "separation"],
                            events=EVENTS[:1])
    assert "origin mix of world production by stage" in fig.get_suptitle()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left").split(":")[0] for ax in axes] == ["mine", "separation"]
    mine = axes[0]
    assert mine.get_ylabel() == "Share of supply (%)" and mine.get_ylim() == (0, 100)
    # one stacked area per origin: CN, AU, US at the mine
    assert len(mine.collections) == 3
    # the ban: dotted lines at its start and end instead of shading
    dotted = [ln for ln in mine.get_lines() if ln.get_linestyle() == ":"]
    assert len(dotted) == 2
    labels = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert labels[:1] == ["CN"]  # China first, always in the same colour
    assert "CN 70%" in mine.get_title(loc="left")


def test_concentration_panels():
    fig = concentration_figure(production(), "s", 3, stages=["mine", "separation"],
                               events=EVENTS[:1])
    top, bottom = fig.axes[:2]
    assert "concentration of output by stage (3 replications, monthly)" in fig.get_suptitle()
    assert top.get_ylabel() == "CN share of output (%)"
    assert "HHI" in bottom.get_ylabel()
    assert len([ln for ln in top.get_lines() if ln.get_label() in ("mine", "separation")]) == 2
    assert bands(top) == 2 and bands(bottom) == 2
    assert len(spans(top)) == 1
    ref = [ln for ln in bottom.get_lines() if ln.get_label().startswith("2,500")]
    assert len(ref) == 1


def test_stockpile_levels():
    labels = {("JP", "magnet"): "jp_reserve", ("US", "oxide"): "us_facility_reserve"}
    fig = stockpile_figure(timeseries(), "s", 5, labels=labels, events=EVENTS[:1])
    ax = fig.axes[0]
    assert fig.get_suptitle() == "s: strategic stockpile holdings (5 replications)"
    assert ax.get_ylabel() == "Holdings (t)" and ax.get_xlabel() == "Date"
    lines = [ln for ln in ax.get_lines() if ln.get_label().startswith("jp_reserve")]
    assert len(lines) == 1
    assert "start 500 t, low 100 t" in lines[0].get_label()
    assert np.nanmin(lines[0].get_ydata()) == pytest.approx(100.0)
    assert bands(ax) == 1
    assert "us_facility_reserve" in ax.get_title(loc="left")  # not drawn, and says why


# --------------------------------------------------------------------------- overlay

def test_overlay_colours_bands_events_and_paired_difference():
    base = timeseries(4, shock=1.0)  # no shortfall
    alt = timeseries(4, shock=0.5)
    ev_alt = [*EVENTS[:1], EventWindow("extra", "export_control", "CN quota",
                                       dt.date(2025, 1, 6), dt.date(2025, 2, 3), True)]
    fig = overlay_figure({"baseline": base, "ban": alt}, "ev",
                         events={"baseline": EVENTS[:1], "ban": ev_alt}, window=None)
    top, bottom = fig.axes[:2]
    assert fig.get_suptitle() == "Sector ev: fill rate in 2 scenarios (4 replications each)"
    assert top.get_ylabel() == "Fill rate (% of demand\ndelivered)"
    assert bottom.get_ylabel() == "Difference vs the\nreference (pp)"
    colors = scenario_colors(["baseline", "ban"])
    assert colors == {"baseline": PALETTE[0], "ban": PALETTE[1]}
    lines = {ln.get_label().split(":")[0]: ln for ln in top.get_lines()}
    assert lines["baseline (reference)"].get_color() == PALETTE[0]
    assert lines["ban"].get_color() == PALETTE[1]
    assert bands(top) == 2 and bands(bottom) == 1
    # the paired difference is negative during the ban and never positive
    diff = bottom.get_lines()[0].get_ydata()
    assert np.nanmin(diff) < -10 and np.nanmax(diff) <= 1e-9
    # shared event once in grey; the extra event numbered in the scenario's colour
    assert numbers(top) == ["1", "2"]
    texts = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert "(2) ban only: CN quota (2025-01-06 to 2025-02-03)" in texts
    assert len([p for p in spans(top) if p.get_height() == 1]) == 2


def test_overlay_unknown_group():
    with pytest.raises(KeyError, match="no sector 'nope'"):
        overlay_figure({"a": timeseries(1)}, "nope")


def test_overlay_title_and_note_never_run_under_the_scenario_legend():
    """Long scenario names widen the legend right of the panels: the title and the
    paired-difference note wrap to the panels' width (in the app's overlay both ran under
    the legend)."""
    base = timeseries(4, shock=1.0)
    alt = timeseries(4, shock=0.5)
    long_a, long_b = "china_heavy_ree_controls_2026_reference", "heavy_ree_licences_eased_a_lot"
    did = next(iter(DEMAND))
    long_group = f"{did}_with_a_very_long_demand_sector_identifier"
    fig = overlay_figure({long_a: base.replace({"demand_id": {did: long_group}}),
                          long_b: alt.replace({"demand_id": {did: long_group}})},
                         long_group, by="demand_id", window=None)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    legend = next(lg for lg in fig.legends if lg.get_title().get_text() == "Scenario")
    left_of_legend = legend.get_window_extent(renderer).x0
    from matplotlib.text import Text

    title = next(t for t in fig.get_children()
                 if isinstance(t, Text) and t.get_text() == fig.get_suptitle())
    note = next(t for t in fig.axes[0].get_children()
                if isinstance(t, Text) and t.get_text() == fig.axes[0].get_title(loc="left"))
    for text in (title, note):
        assert text.get_window_extent(renderer).x1 <= left_of_legend + 1, text.get_text()
    assert "\n" in note.get_text()
