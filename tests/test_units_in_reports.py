"""Units not built, demand destroyed by price and prices where an analyst looks (issue 12,
item 5): the run's ``kpis.csv``, ``critmin report``, the compare folder's ``kpis.csv`` and
``pairs.csv``, its report and its terminal table, on the tiny chain with a ban."""

from __future__ import annotations

import html
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.report.markup import format_metric, format_range
from tests.test_compare_cli import critmin

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
KG = 2.0  # kg of oxide per EV in the test scenario

#: The tiny chain with a second, unit-less sector (electronics) that buys less when its
#: price rises, and one price tier for oxide.
UNITS = f"""\
extends: tiny.yaml
name: tiny_units
demand:
  jp_ev: {{country: JP, sector: ev, material: oxide, rate_tpy: 1000, cover_days: 30,
          units: {{name: EV, kg_per_unit: {KG}}}}}
  jp_other: {{country: JP, sector: electronics, material: oxide, rate_tpy: 300,
             cover_days: 30}}
market:
  prices: {{oxide: {{domestic: 10, export: 10}}}}
  demand_response: {{sectors: {{electronics: {{elasticity: 0.5}}}}}}
"""

#: The same with Malaysia's oxide banned to Japan for three months.
UNITS_BAN = """\
extends: tiny_units.yaml
name: tiny_units_ban
events:
  my_ban: {type: export_control, exporter: MY, materials: [oxide], destinations: [JP],
           mode: ban, effective: 2025-01-06, end: 2025-04-07}
"""


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> tuple[str, Path]:
    d = tmp_path_factory.mktemp("units")
    shutil.copy(TINY, d / "tiny.yaml")
    (d / "tiny_units.yaml").write_text(UNITS)
    (d / "tiny_units_ban.yaml").write_text(UNITS_BAN)
    res = critmin("compare", "tiny_units_ban.yaml", "tiny_units.yaml", "-n", "3", "--seed",
                  "2", "--out", "cmp", "-j", "1", "--demand", "jp_ev", cwd=d)
    assert res.returncode == 0, res.stderr
    return res.stdout, d / "cmp"


def _run_dir(out: Path, name: str) -> Path:
    [run_dir] = (out / "runs" / name).iterdir()
    return run_dir


def _pair(pairs: pd.DataFrame, metric: str, level: str = "sector", group: str = "ev"
          ) -> pd.Series:
    hit = pairs[(pairs["metric"] == metric) & (pairs["level"] == level)
                & (pairs["group"] == group)]
    assert len(hit) == 1, (metric, level, group)
    return hit.iloc[0]


@pytest.mark.slow
def test_compare_pairs_units_not_built_with_a_ci(compared) -> None:
    """units_short is the shortfall x 1000 / kg per unit in every replication, so its paired
    difference and CI are the shortfall's times 1000 / 2 = 500; the unit is named."""
    _, out = compared
    pairs = pd.read_csv(out / "pairs.csv", keep_default_na=False, na_values=[""])
    for level, group in (("sector", "ev"), ("demand", "jp_ev")):
        units = _pair(pairs, "units_short", level, group)
        short = _pair(pairs, "cumulative_shortfall_t", level, group)
        assert units["unit"] == "EV" and units["n"] == 3
        assert short["diff_mean"] < 0  # the ban is the reference: no ban, less shortfall
        for col in ("mean_reference", "mean_scenario", "diff_mean", "ci95_low", "ci95_high"):
            assert units[col] == pytest.approx(short[col] * 1000 / KG, rel=1e-9), col
        assert bool(units["ci_excludes_zero"]) == bool(short["ci_excludes_zero"])
    # a sector without units has no unit and no value
    other = _pair(pairs, "units_short", "sector", "electronics")
    assert other["unit"] == "" or (isinstance(other["unit"], float) and math.isnan(other["unit"]))
    assert math.isnan(other["diff_mean"])


def test_compare_pairs_demand_destroyed_by_price(compared) -> None:
    """The ban raises the oxide price, so electronics (elasticity 0.5) buys less in the ban
    than without it: the pair shows demand destroyed falling when the ban is lifted; EV
    demand does not respond (no elasticity), and nothing is thrifted."""
    _, out = compared
    pairs = pd.read_csv(out / "pairs.csv")
    destroyed = _pair(pairs, "demand_destroyed_t", "sector", "electronics")
    assert destroyed["mean_reference"] > 0 and destroyed["diff_mean"] < 0
    assert _pair(pairs, "demand_destroyed_t", "sector", "ev")["mean_reference"] == 0
    assert _pair(pairs, "demand_thrifted_t", "sector", "electronics")["mean_reference"] == 0
    kpis = pd.read_csv(out / "kpis.csv", keep_default_na=False, na_values=[""])
    row = kpis[(kpis["level"] == "sector") & (kpis["group"] == "ev")
               & (kpis["metric"] == "units_short") & (kpis["scenario"] == "tiny_units_ban")]
    assert len(row) == 1 and row.iloc[0]["unit"] == "EV" and row.iloc[0]["mean"] > 0


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _table_rows(page: str, first_cell: str) -> list[list[str]]:
    """The cells of every table row whose first cell is ``first_cell``."""
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S):
        cells = [html.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row,
                                                        flags=re.S)]
        if cells and cells[0] == first_cell:
            out.append(cells)
    return out


def test_compare_report_shows_units_prices_and_demand_destroyed(compared) -> None:
    stdout, out = compared
    page = (out / "report.html").read_text()
    text = _text(page)
    assert "EV not built" in text
    ev_rows = [r for r in _table_rows(page, "ev") if r[1] == "EV not built"]
    assert ev_rows, "no units row for the ev sector"
    assert not [r for r in _table_rows(page, "electronics") if r[1].endswith("not built")]
    assert [r for r in _table_rows(page, "electronics") if r[1] == "Demand destroyed by price"]
    # prices beside the fill rates: a table in the page before the fill-rate figures
    assert page.index('id="price-findings"') < page.index('id="figures"')
    oxide = _table_rows(page, "oxide")
    assert {r[2] for r in oxide} == {"peak", "average", "share of steps at the ceiling"}
    prices = [r for r in oxide if r[2] != "share of steps at the ceiling"]
    assert all(re.fullmatch(r"[0-9.,]+( \[[0-9.,]+,\s[0-9.,]+\])?", c) for r in prices
               for c in r[3:5])  # the unit is in the column head, not in every cell
    shares = [c for r in oxide if r[2] == "share of steps at the ceiling" for c in r[3:5]]
    assert shares and all(re.fullmatch(r">?[0-9.]+%( \[[0-9.]+,\s[0-9.]+\])?", c)
                          for c in shares), shares
    assert "Price (USD/kg; share: % of steps)" in text
    # the terminal table names the unit too
    assert "EV not built (/rep)" in stdout


def test_run_report_and_kpis_show_units_not_built(compared) -> None:
    _, out = compared
    run_dir = _run_dir(out, "tiny_units_ban")
    kpis = pd.read_csv(run_dir / "kpis.csv", keep_default_na=False, na_values=[""])
    metrics = pd.read_csv(run_dir / "metrics.csv", keep_default_na=False, na_values=[""])
    assert {"unit", "units_short"} <= set(kpis.columns)
    ev = kpis[kpis["demand_id"] == "jp_ev"]
    assert (ev["unit"] == "EV").all()
    assert ev["units_short"].to_numpy() == pytest.approx(
        ev["cumulative_shortfall_t"].to_numpy() * 1000 / KG, rel=1e-12)
    assert ev["units_short"].to_numpy() == pytest.approx(
        metrics.loc[metrics["demand_id"] == "jp_ev", "units_short"].to_numpy(), rel=1e-12)
    assert kpis.loc[kpis["demand_id"] == "jp_other", "units_short"].isna().all()

    report = run_dir / "report.html"
    res = critmin("report", str(run_dir), "--out", str(report), cwd=out)
    assert res.returncode == 0, res.stderr
    page = report.read_text()
    [head] = [r for r in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S)
              if "Demand id" in r][:1]
    heads = [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", head)]
    col = heads.index("Units not built per replication mean [95% CI]")
    jp_ev = _table_rows(page, "jp_ev")[0]  # the first is in the demand-sector table
    jp_other = _table_rows(page, "jp_other")[0]
    expected = format_metric("units_short", float(ev["units_short"].mean()))
    assert jp_ev[col].startswith(expected) and jp_ev[col].endswith(" EV")
    assert jp_other[col] == "-"
    assert "Demand destroyed by price mean [95% CI]" in heads
    assert " EV not built" in _text(page)  # in the findings


def test_units_and_prices_format_for_people() -> None:
    assert format_range("units_short", 5022493.4, 2400136, 7644850) == \
        "5,020,000 [2,400,000, 7,640,000]"
    assert format_metric("units_short", -314923, signed=True) == "-315,000"
    assert format_metric("units_short", 8.64) == "8.6"
    assert format_metric("price_usd_per_kg", 4168.2) == "4,168 USD/kg"
    assert format_metric("price_usd_per_kg", 52.46) == "52.5 USD/kg"


def test_price_table_known_answers() -> None:
    """Two replications with prices [1, 3] and [2, 6]: peaks 3 and 6 (mean 4.5), averages
    2 and 4 (mean 3); a scenario 1 USD/kg dearer at every step differs by exactly +1."""
    from simulator.comparison.tables import price_table

    a = pd.DataFrame({"replication": [0, 0, 1, 1], "day": [0, 7, 0, 7],
                      "material": "oxide", "market": "world",
                      "price_usd_per_kg": [1.0, 3.0, 2.0, 6.0]})
    b = a.assign(price_usd_per_kg=a["price_usd_per_kg"] + 1.0)
    t = price_table({"a": a, "b": b}, "a").set_index(["scenario", "stat"])
    assert t.loc[("a", "peak"), "mean"] == 4.5 and t.loc[("a", "average"), "mean"] == 3.0
    assert t.loc[("b", "peak"), "mean"] == 5.5
    assert t.loc[("a", "peak"), "diff_vs"] == "" and np.isnan(t.loc[("a", "peak"), "diff_mean"])
    for stat in ("peak", "average"):
        r = t.loc[("b", stat)]
        assert r["diff_vs"] == "a" and r["diff_n"] == 2
        assert r["diff_mean"] == pytest.approx(1.0)
        assert r["diff_ci95_low"] == pytest.approx(1.0)
        assert r["diff_ci95_high"] == pytest.approx(1.0)
    assert price_table({"a": a.iloc[0:0]}, "a").empty


def test_price_table_counts_the_steps_at_the_ceiling() -> None:
    """With a ceiling of 3 USD/kg: prices [1, 3] and [2, 6] are at it (within 2%) half the
    steps each (mean 0.5); one dearer by 1 USD/kg, [2, 4] and [3, 7], half and all (mean
    0.75, +0.25 paired). A scenario without ceilings has no such row."""
    from simulator.comparison.tables import price_table

    a = pd.DataFrame({"replication": [0, 0, 1, 1], "day": [0, 7, 0, 7],
                      "material": "oxide", "market": "world",
                      "price_usd_per_kg": [1.0, 3.0, 2.0, 6.0]})
    b = a.assign(price_usd_per_kg=a["price_usd_per_kg"] + 1.0)
    caps = {"a": {("oxide", "world"): 3.0}, "b": {("oxide", "world"): 3.0}}
    t = price_table({"a": a, "b": b}, "a", caps).set_index(["scenario", "stat"])
    assert t.loc[("a", "at_ceiling"), "mean"] == pytest.approx(0.5)
    assert t.loc[("b", "at_ceiling"), "mean"] == pytest.approx(0.75)
    assert t.loc[("b", "at_ceiling"), "diff_mean"] == pytest.approx(0.25)
    assert t.loc[("b", "peak"), "mean"] == 5.5  # the other statistics as without ceilings
    t = price_table({"a": a, "b": b}, "a", {"b": caps["b"]}).set_index(["scenario", "stat"])
    assert ("a", "at_ceiling") not in t.index and t.loc[("b", "at_ceiling"), "diff_vs"] == ""


def test_price_ceilings_are_the_reference_times_the_cap() -> None:
    from simulator.engine.market import price_ceilings
    from simulator.scenario.models import Market as MarketModel

    m = MarketModel.model_validate({"home": "CN", "max_multiple": 10, "prices": {
        "ndpr_oxide": {"domestic": 52}, "dytb_oxide": {"domestic": 334, "export": 417}}})
    assert price_ceilings(m) == {("ndpr_oxide", "CN"): 520, ("ndpr_oxide", "ex-CN"): 520,
                                 ("dytb_oxide", "CN"): 3340, ("dytb_oxide", "ex-CN"): 4170}
    world = MarketModel.model_validate({"max_multiple": 4, "prices": {"x": {"domestic": 5}}})
    assert price_ceilings(world) == {("x", "world"): 20}
    off = world.model_copy(update={"enabled": False})
    assert price_ceilings(off) == {}  # no prices are formed, so no ceiling is drawn


def test_sector_sums_carry_demand_destroyed_and_thrifted() -> None:
    """The sector level of reports and compare sums destroyed_t and thrifted_t over
    countries (they were dropped, so a sector never showed demand destroyed by price)."""
    from simulator.report import sector_timeseries

    ts = pd.DataFrame({"replication": 0, "day": 0, "date": pd.Timestamp("2024-01-01"),
                       "country": ["JP", "US"], "sector": "ev", "demand_id": ["a", "b"],
                       "material": "x", "demand_t": [4.0, 6.0], "delivered_t": [4.0, 5.0],
                       "shortfall_t": [0.0, 1.0], "stockpile_t": 0.0,
                       "destroyed_t": [1.5, 2.0], "thrifted_t": [0.25, 0.5]})
    [row] = sector_timeseries(ts).to_dict("records")
    assert (row["demand_t"], row["destroyed_t"], row["thrifted_t"]) == (10.0, 3.5, 0.75)
    # a series written before the demand response (no such columns) still sums
    assert "destroyed_t" not in sector_timeseries(ts.drop(columns=["destroyed_t",
                                                                    "thrifted_t"]))


def test_shipped_baseline_counts_evs_and_wind_only() -> None:
    """ev and wind magnet users carry units (DATA.md intensities; wind's a labelled
    assumption); defense, electronics, industrial and the oxide users do not."""
    from simulator.scenario import load_scenario

    s = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    units = {(d.sector, d.units.name if d.units else None,
              d.units.kg_per_unit if d.units else None) for d in s.demand.values()}
    with_units = {u for u in units if u[1] is not None}
    assert with_units == {("ev", "EV-equivalents", 1.5), ("wind", "MW of wind", 425.0)}
    assert {"defense", "electronics", "industrial"} <= {u[0] for u in units if u[1] is None}


def test_price_figures_mark_the_ceiling_only_when_prices_come_near_it() -> None:
    """A tier whose P95 reaches half its ceiling gets a dotted line at the ceiling (one grey
    line when every scenario shares it, one per scenario otherwise); a tier far below its
    ceiling gets none, so its own scale stays readable."""
    from simulator.viz.prices import price_figure, price_overlay_figure

    days = np.arange(0, 70, 7)
    frame = pd.DataFrame({"replication": 0, "day": days,
                          "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"),
                          "material": "oxide", "market": "ex-CN",
                          "price_usd_per_kg": np.linspace(10.0, 60.0, len(days))})
    frame = pd.concat([frame, frame.assign(market="CN", price_usd_per_kg=10.0)])

    def ceiling_lines(ax):
        return sorted(round(line.get_ydata()[0]) for line in ax.get_lines()
                      if line.get_linestyle() == ":")

    caps = {("oxide", "ex-CN"): 100.0, ("oxide", "CN"): 100.0}
    fig = price_overlay_figure({"a": frame, "b": frame}, "oxide", window=None,
                               ceilings={"a": caps, "b": caps})
    by_tier = {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_title(loc="left")}
    assert ceiling_lines(by_tier["market ex-CN"]) == [100]  # 60 >= 50: shown, once
    assert ceiling_lines(by_tier["market CN"]) == []  # 10 < 50: not drawn
    labels = by_tier["market ex-CN"].get_legend_handles_labels()[1]
    assert "ceiling 100 (assumption)" in labels
    fig = price_overlay_figure({"a": frame, "b": frame}, "oxide", window=None,
                               ceilings={"a": caps, "b": {("oxide", "ex-CN"): 110.0}})
    by_tier = {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_title(loc="left")}
    assert ceiling_lines(by_tier["market ex-CN"]) == [100, 110]
    fig = price_figure(frame, "a", 1, window=None, ceilings=caps)
    assert ceiling_lines(fig.axes[0]) == [100]
    assert ceiling_lines(price_figure(frame, "a", 1, window=None).axes[0]) == []


def test_compare_report_values_the_shortfall_of_valued_sectors(compared) -> None:
    """The hardest-hit country x sector table gives each scenario's value at risk (M USD
    per replication) where the material is valued, and its paired difference."""
    _, out = compared
    page = (out / "report.html").read_text()
    rows = [r for r in _table_rows(page, "jp_ev") if r[1] == "Value at risk per replication"]
    assert rows, "no value-at-risk row for jp_ev"
    kpis = pd.read_csv(out / "kpis.csv")
    var = kpis[(kpis["group"] == "jp_ev") & (kpis["metric"] == "value_at_risk_usd")]
    ban = var[var["scenario"] == "tiny_units_ban"].iloc[0]
    assert ban["mean"] > 0
    assert rows[0][2].startswith(format_metric("value_at_risk_usd", ban["mean"]))
    assert rows[0][2].split(" [")[0].endswith("M USD")
