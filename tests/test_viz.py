"""The fill-rate figure: title, labels, one line per sector, date axis, reproducible files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from simulator.viz import PALETTE, fill_rate_figure, group_colors, save_figure

ROOT = Path(__file__).resolve().parents[1]
START = pd.Timestamp("2025-10-01")
SECTORS = {"jp_ev": ("JP", "ev"), "us_ev": ("US", "ev"), "jp_wind": ("JP", "wind"),
           "us_defense": ("US", "defense")}


def timeseries(replications: int = 5, steps: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for rep in range(replications):
        for did, (country, sector) in SECTORS.items():
            for i in range(steps):
                noisy = float(np.clip(0.6 + 0.2 * rng.random(), 0, 1))
                fill = 1.0 if i < 20 or i > 60 else 0.62 if sector == "defense" else noisy
                rows.append((rep, 7 * i, country, sector, did, "magnet", 10.0, 10.0 * fill))
    df = pd.DataFrame(rows, columns=["replication", "day", "country", "sector", "demand_id",
                                     "material", "demand_t", "delivered_t"])
    df["shortfall_t"] = df["demand_t"] - df["delivered_t"]
    df.insert(2, "date", START + pd.to_timedelta(df["day"], unit="D"))
    return df


def sector(line) -> str:
    return line.get_label().split(" (low")[0]


def sector_lines(ax):
    return [ln for ln in ax.get_lines() if sector(ln) in {"defense", "ev", "wind"}]


def test_figure_title_labels_and_lines():
    fig = fill_rate_figure(timeseries(), "china_controls", 5)
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() == "china_controls - fill rate by sector (5 replications)"
    top, bottom = fig.axes[:2]
    assert "Fill rate" in top.get_ylabel() and "%" in top.get_ylabel()
    assert "Shortfall" in bottom.get_ylabel() and "t per 7-day step" in bottom.get_ylabel()
    assert bottom.get_xlabel() == "Date"
    assert top.get_ylim() == (0, 105)
    lines = sector_lines(top)
    assert sorted(sector(ln) for ln in lines) == ["defense", "ev", "wind"]
    labels = {sector(ln): ln.get_label() for ln in lines}
    assert labels["defense"] == "defense (low 62%)"  # lowest median fill rate
    assert len(sector_lines(bottom)) == 0 and len(bottom.get_lines()) == 3
    # dashed 95% reference line
    ref = [ln for ln in top.get_lines() if ln.get_linestyle() == "--"]
    assert len(ref) == 1 and np.allclose(ref[0].get_ydata(), 95)
    # one P5-P95 band per sector in each panel when there are several replications
    for ax in (top, bottom):
        assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 3
    # the legend is a figure legend, outside the axes
    assert fig.legends and not top.get_legend()


def test_colours_fixed_by_sorted_sector_names():
    fig = fill_rate_figure(timeseries(), "s", 5)
    top, bottom = fig.axes[:2]
    colors = group_colors(["wind", "ev", "defense"])
    assert colors == {"defense": PALETTE[0], "ev": PALETTE[1], "wind": PALETTE[2]}
    for ln in sector_lines(top):
        assert ln.get_color() == colors[sector(ln)]
    assert [ln.get_color() for ln in bottom.get_lines()] == list(colors.values())


def test_date_axis():
    fig = fill_rate_figure(timeseries(), "s", 5)
    bottom = fig.axes[1]
    assert isinstance(bottom.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    lo, hi = (mdates.num2date(x).date() for x in bottom.get_xlim())
    assert lo == START.date()
    assert hi == (START + pd.Timedelta(days=7 * 79)).date()
    ev = next(ln for ln in sector_lines(fig.axes[0]) if sector(ln) == "ev")
    # the lines are the median across replications of the sector's fill rate
    y = np.asarray(ev.get_ydata(), dtype=float)
    assert np.allclose(y[:20], 100) and np.all(y[21:60] < 95)


def test_single_replication_has_no_bands():
    ts = timeseries(replications=1)
    fig = fill_rate_figure(ts, "s", 1)
    assert fig.get_suptitle() == "s - fill rate by sector (1 replication)"
    assert not any(isinstance(c, PolyCollection) for c in fig.axes[0].collections)


def test_save_figure_png_and_svg_reproducible(tmp_path):
    fig = fill_rate_figure(timeseries(), "s", 5)
    paths = save_figure(fig, tmp_path / "fill_rate")
    assert [p.name for p in paths] == ["fill_rate.png", "fill_rate.svg"]
    png, svg = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:1000]
    assert b"Software" not in png.read_bytes()
    assert b"<dc:date>" not in svg.read_bytes()
    again = save_figure(fill_rate_figure(timeseries(), "s", 5), tmp_path / "again")
    assert again[0].read_bytes() == png.read_bytes()
    assert again[1].read_bytes() == svg.read_bytes()


@pytest.mark.slow
def test_no_pyplot_import():
    code = ("import sys; import simulator.viz, simulator.runner, simulator.cli; "
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_date_ticks_kept_per_view_interval_are_matplotlibs_ticks() -> None:
    """AutoDateTicks / MonthTicks (the date axes' locators) keep the ticks of the last view
    interval: the same ticks as matplotlib's locators, recomputed when the limits change, and
    a copy each time (a caller may change it)."""
    from simulator.viz.curves import AutoDateTicks, MonthTicks

    fig = Figure()
    ax = fig.add_subplot()
    for lo, hi in [("2024-01-01", "2026-01-01"), ("2025-03-01", "2025-05-01"),
                   ("2024-01-01", "2026-01-01"), ("2020-01-01", "2049-01-01")]:
        ax.set_xlim(pd.Timestamp(lo), pd.Timestamp(hi))
        for mine, theirs in [(AutoDateTicks(minticks=4, maxticks=12),
                              mdates.AutoDateLocator(minticks=4, maxticks=12)),
                             (MonthTicks(), mdates.MonthLocator())]:
            mine.set_axis(ax.xaxis)
            theirs.set_axis(ax.xaxis)
            first = mine()
            first[:] = 0
            np.testing.assert_array_equal(mine(), theirs())
    kept = AutoDateTicks()
    kept.set_axis(ax.xaxis)
    before = kept()
    ax.set_xlim(pd.Timestamp("2030-01-01"), pd.Timestamp("2030-03-01"))
    assert not np.array_equal(kept(), before)
