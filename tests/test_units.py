"""Shortfall counted in units not built (issue 12, item 5): ``demand.<id>.units``."""

from __future__ import annotations

import math

import pytest

from simulator.analysis.metrics import replication_metrics
from simulator.engine import run_replication
from tests.conftest import deep_update, make_scenario
from tests.test_events import BASE, R, date


def test_units_short_is_the_shortfall_over_the_intensity() -> None:
    """A 60-day ban leaves JP 90 days x 10 t short (test_events); at 1.5 kg per unit that is
    600,000 units; a sector without units gets none."""
    ban = {"type": "export_control", "exporter": "AU", "materials": ["ore"], "mode": "ban",
           "effective": date(100), "end": date(200)}
    data = deep_update(BASE, {
        "demand": {"jp_use": {"units": {"name": "EV", "kg_per_unit": 1.5}},
                   "us_use": {"country": "US", "sector": "wind", "material": "ore",
                              "rate_tpy": 365}},
        "sourcing": {"us_ore": {"country": "US", "material": "ore", "suppliers": {"AU": 1.0}}},
        "events": {"ban": ban}})
    s = make_scenario(data)
    m = replication_metrics(run_replication(s, seed=1).timeseries, s).set_index("demand_id")
    assert m.loc["jp_use", "cumulative_shortfall_t"] == pytest.approx(90 * R)
    assert m.loc["jp_use", "unit"] == "EV"
    assert m.loc["jp_use", "units_short"] == pytest.approx(90 * R * 1000 / 1.5)
    assert m.loc["us_use", "unit"] == "" and math.isnan(m.loc["us_use", "units_short"])


@pytest.mark.parametrize("where", ["inline", "uncertainty map"])
def test_an_uncertain_intensity_is_refused_not_counted_at_its_centre(tmp_path, where) -> None:
    """Units are counted after the run from the scenario's values, so ``kg_per_unit: {uniform:
    [1, 2]}`` was loaded and silently counted at 1.5 in every replication; now it is a located
    error."""
    from pathlib import Path

    from simulator.scenario import ScenarioError, load_scenario

    tiny = (Path(__file__).parent / "fixtures" / "tiny.yaml").read_text()
    units = ("{uniform: [1, 2]}" if where == "inline" else "1.5")
    line = "jp_ev: {country: JP, sector: ev, material: oxide, rate_tpy: 1000, cover_days: 30"
    assert line in tiny
    text = tiny.replace(line, line + f", units: {{name: EV, kg_per_unit: {units}}}")
    if where != "inline":
        text += "uncertainty:\n  demand.jp_ev.units.kg_per_unit: {uniform: [1, 2]}\n"
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert "kg_per_unit" in msg and "cannot be uncertain" in msg, msg


def test_sweep_rows_count_units_not_built_and_value_at_risk() -> None:
    """The same 60-day ban as a sweep point's rows (``replication_kpis``): ``units_short``
    with its ``unit`` per sector, and ``value_at_risk_usd`` per sector and in total: the
    shortfall of each step at that step's price (reference USD 20/kg, raised by the ban), as
    a sum over the run's own rows; no total of units (they differ between sectors), and NaN
    value without prices."""
    from simulator.analysis.long_kpis import replication_kpis

    ban = {"type": "export_control", "exporter": "AU", "materials": ["ore"], "mode": "ban",
           "effective": date(100), "end": date(200)}
    data = deep_update(BASE, {
        "demand": {"jp_use": {"units": {"name": "EV", "kg_per_unit": 1.5}}},
        "market": {"prices": {"ore": {"domestic": 20.0}}},
        "events": {"ban": ban}})
    s = make_scenario(data)
    res = run_replication(s, seed=1)
    rows = replication_kpis(res.timeseries, s, 0, prices=res.prices)
    get = rows.set_index(["demand_id", "kpi"])
    assert get.loc[("jp_use", "units_short"), "value"] == pytest.approx(90 * R * 1000 / 1.5)
    assert get.loc[("jp_use", "units_short"), "unit"] == "EV"
    assert (rows.loc[rows["kpi"] != "units_short", "unit"] == "").all()
    ts = res.timeseries.merge(res.prices, on="day")
    expected = float((ts["shortfall_t"] * 1000 * ts["price_usd_per_kg"]).sum())
    assert expected > 90 * R * 1000 * 20  # the ban raised JP's price above the reference
    assert get.loc[("jp_use", "value_at_risk_usd"), "value"] == pytest.approx(expected)
    assert get.loc[("all", "value_at_risk_usd"), "value"] == pytest.approx(expected)
    assert ("all", "units_short") not in get.index  # units differ between sectors
    unpriced = replication_kpis(res.timeseries, s, 0)
    assert math.isnan(unpriced.set_index(["demand_id", "kpi"])
                      .loc[("all", "value_at_risk_usd"), "value"])
