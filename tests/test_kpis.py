"""KPIs on hand-made time series with answers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.analysis import (
    KPI_COLUMNS,
    fill_rate_curve,
    group_summary,
    kpi_percentiles,
    sector_kpis,
)

DAYS = [0, 7, 14, 21]
START = pd.Timestamp("2025-01-01")

# (replication, demand_id, country, sector, demand per step, delivered per step)
SERIES = [
    (0, "jp_ev", "JP", "ev", [10, 10, 10, 10], [10, 5, 8, 10]),
    (0, "us_ev", "US", "ev", [5, 10, 5, 0], [5, 5, 5, 0]),
    (0, "de_wind", "DE", "wind", [0, 0, 0, 0], [0, 0, 0, 0]),
    (1, "jp_ev", "JP", "ev", [10, 10, 10, 10], [10, 10, 2, 2]),
    (1, "us_ev", "US", "ev", [5, 10, 5, 0], [5, 5, 5, 0]),
    (1, "de_wind", "DE", "wind", [0, 0, 0, 0], [0, 0, 0, 0]),
]


def frame(series=SERIES) -> pd.DataFrame:
    rows = []
    for rep, did, country, sector, demand, delivered in series:
        for day, dem, dlv in zip(DAYS, demand, delivered, strict=True):
            rows.append({"replication": rep, "day": day, "date": START + pd.Timedelta(days=day),
                         "country": country, "sector": sector, "demand_id": did,
                         "material": "oxide", "demand_t": float(dem), "delivered_t": float(dlv),
                         "shortfall_t": float(dem - dlv), "inventory_t": 0.0,
                         "stockpile_t": 0.0})
    df = pd.DataFrame(rows)
    for col in ("country", "sector", "demand_id", "material"):
        df[col] = pd.Categorical(df[col])
    df["replication"] = df["replication"].astype(np.int32)
    df["day"] = df["day"].astype(np.int32)
    return df.sample(frac=1.0, random_state=3)  # KPIs must not depend on row order


def kpi_row(kpis: pd.DataFrame, rep: int, did: str) -> pd.Series:
    sel = kpis[(kpis["replication"] == rep) & (kpis["demand_id"] == did)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_sector_kpis_known_answers():
    kpis = sector_kpis(frame())
    assert list(kpis.columns) == KPI_COLUMNS
    assert len(kpis) == 6

    a0 = kpi_row(kpis, 0, "jp_ev")
    assert (a0["country"], a0["sector"], a0["material"]) == ("JP", "ev", "oxide")
    assert a0["demand_t"] == 40 and a0["delivered_t"] == 33
    assert a0["fill_rate"] == pytest.approx(33 / 40)
    assert a0["trough_fill_rate"] == pytest.approx(0.5)
    assert a0["trough_day"] == 7
    assert pd.Timestamp(a0["trough_date"]) == pd.Timestamp("2025-01-08")
    assert a0["cumulative_shortfall_t"] == pytest.approx(7)

    a1 = kpi_row(kpis, 1, "jp_ev")
    assert a1["fill_rate"] == pytest.approx(0.6)
    assert a1["trough_fill_rate"] == pytest.approx(0.2)
    assert a1["trough_day"] == 14  # the first of two equal troughs
    assert a1["cumulative_shortfall_t"] == pytest.approx(16)

    # weighted by demand: 15 / 20, not the mean of step fill rates (0.875)
    us = kpi_row(kpis, 1, "us_ev")
    assert us["fill_rate"] == pytest.approx(0.75)
    assert us["trough_fill_rate"] == pytest.approx(0.5)
    assert us["trough_day"] == 7
    assert us["cumulative_shortfall_t"] == pytest.approx(5)


def test_zero_demand_counts_as_fully_served():
    kpis = sector_kpis(frame())
    for rep in (0, 1):
        row = kpi_row(kpis, rep, "de_wind")
        assert row["fill_rate"] == 1.0
        assert row["trough_fill_rate"] == 1.0
        assert row["trough_day"] == 0


def test_engine_frame_without_replication_or_date():
    ts = frame()
    ts = ts[ts["replication"] == 1].drop(columns=["replication", "date"])
    kpis = sector_kpis(ts)
    row = kpi_row(kpis, 0, "jp_ev")
    assert row["fill_rate"] == pytest.approx(0.6)
    assert pd.isna(row["trough_date"])


def test_fill_rate_curve_sums_within_group():
    curve = fill_rate_curve(frame(), by=("sector",))
    assert list(curve.columns) == ["replication", "day", "date", "sector", "demand_t",
                                   "delivered_t", "shortfall_t", "fill_rate"]
    assert len(curve) == 2 * 4 * 2  # replications x steps x sectors
    ev = curve[(curve["sector"] == "ev") & (curve["replication"] == 0)].set_index("day")
    # day 7: (5 + 5) / (10 + 10); day 21: (10 + 0) / (10 + 0)
    assert ev.loc[7, "fill_rate"] == pytest.approx(0.5)
    assert ev.loc[7, "shortfall_t"] == pytest.approx(10)
    assert ev.loc[21, "fill_rate"] == pytest.approx(1.0)
    assert ev.loc[7, "date"] == pd.Timestamp("2025-01-08")
    wind = curve[curve["sector"] == "wind"]
    assert (wind["fill_rate"] == 1.0).all()


def test_fill_rate_curve_by_country_and_sector():
    curve = fill_rate_curve(frame(), by=["country", "sector"])
    jp = curve[(curve["country"] == "JP") & (curve["replication"] == 1)]
    assert jp["fill_rate"].tolist() == pytest.approx([1.0, 1.0, 0.2, 0.2])


def test_group_summary_across_replications():
    summary = group_summary(frame(), by="sector").set_index("sector")
    ev = summary.loc["ev"]
    assert ev["replications"] == 2
    assert ev["fill_rate_min"] == pytest.approx(39 / 60)  # replication 1: (24 + 15) / 60
    assert ev["fill_rate_p50"] == pytest.approx((48 / 60 + 39 / 60) / 2)
    assert ev["trough_fill_rate_min"] == pytest.approx(0.2)  # rep 1, day 21: (2 + 0) / 10
    assert ev["shortfall_t_mean"] == pytest.approx((12 + 21) / 2)
    assert ev["shortfall_t_max"] == pytest.approx(21)
    assert summary.loc["wind", "fill_rate_min"] == 1.0


def test_kpi_percentiles():
    pct = kpi_percentiles(sector_kpis(frame())).set_index("demand_id")
    assert pct.loc["jp_ev", "replications"] == 2
    assert pct.loc["jp_ev", "fill_rate_p50"] == pytest.approx((0.825 + 0.6) / 2)
    assert pct.loc["jp_ev", "fill_rate_p5"] == pytest.approx(0.6 + 0.05 * 0.225)
    assert pct.loc["jp_ev", "cumulative_shortfall_t_p95"] == pytest.approx(7 + 0.95 * 9)


def test_duplicate_index_labels_do_not_matter():
    ts = frame()
    doubled = pd.concat([ts[ts["replication"] == 0], ts[ts["replication"] == 1]])
    doubled.index = np.zeros(len(doubled), dtype=int)
    pd.testing.assert_frame_equal(sector_kpis(doubled), sector_kpis(ts))


def test_fill_rate_is_one_definition_used_everywhere() -> None:
    """Delivered over demanded, 1.0 with no demand, elementwise; the run tables, the sector
    curves, the overlays and the sweeps use this one function (issue 13: five copies)."""
    import numpy as np

    from simulator.analysis import kpis, metrics
    from simulator.runner import summaries
    from simulator.viz import compare

    assert kpis.fill_rate(np.array([5.0, 0.0, 3.0]), np.array([10.0, 0.0, 0.0])).tolist() == \
        [0.5, 1.0, 1.0]
    assert float(kpis.fill_rate(7.0, 7.0)) == 1.0
    for module in (metrics, summaries, compare):
        assert module.fill_rate is kpis.fill_rate, module.__name__


def test_fill_rate_is_computed_in_one_place():
    """The V3 and V6 replays divided delivered by demanded tonnes by hand (V6 with its own
    copy of :func:`fill_rate`); every fill rate now comes from ``analysis.kpis.fill_rate``
    (issue 13 QA)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "simulator"
    by_hand = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "analysis" / "kpis.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
            if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
                    and "delivered" in ast.unparse(node.left)
                    and "demand" in ast.unparse(node.right)):
                by_hand.append(where)
            if isinstance(node, ast.FunctionDef):
                calls = {ast.unparse(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)}
                if {"np.divide", "np.ones_like"} <= calls:  # a copy of fill_rate
                    by_hand.append(where)
    assert not by_hand, by_hand
