"""Value at risk of products that are not priced, at their content of priced materials
(simulator/analysis/value_at_risk.py, docs/metrics.md): a magnet, where a scenario does not
price it, at its NdPr and Dy/Tb oxide, through the recipes. The shipped baseline prices
magnets (since 2026-12-07): its magnet users are valued at their tier's magnet price."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.analysis.metrics import replication_metrics
from simulator.analysis.value_at_risk import priced_content
from simulator.engine import run_replication
from simulator.scenario import load_scenario
from simulator.scenario.models import Scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def unpriced_magnets(scenario: Scenario) -> Scenario:
    """``scenario`` without its magnet reference price."""
    prices = {m: p for m, p in scenario.market.prices.items() if m != "ndfeb_magnet"}
    return scenario.model_copy(update={"market": scenario.market.model_copy(
        update={"prices": prices})})


def test_a_magnet_holds_0_372_t_ndpr_oxide_and_0_024_t_dytb_oxide() -> None:
    """By hand from baseline.yaml's recipes: a tonne of magnet takes 0.31 t of NdPr metal
    and 0.02 t of Dy/Tb metal, a tonne of metal 1.2 t of its oxide (magnets unpriced;
    the shipped baseline prices them, so a magnet is valued as itself)."""
    base = load_scenario(SCENARIOS / "baseline.yaml")
    assert priced_content(base)["ndfeb_magnet"] == {"ndfeb_magnet": 1.0}
    content = priced_content(unpriced_magnets(base))
    assert content["ndfeb_magnet"] == pytest.approx({"ndpr_oxide": 0.31 * 1.2,
                                                     "dytb_oxide": 0.02 * 1.2}, rel=1e-12)
    assert content["ndpr_metal"] == {"ndpr_metal": 1.0}  # priced: itself
    assert content["ndpr_oxide"] == {"ndpr_oxide": 1.0}
    # co-products (separation) and mine outputs have no content to value
    assert "other_reo" not in content and "ree_concentrate" not in content


def test_a_magnet_is_valued_alike_whether_the_metals_are_priced_or_not() -> None:
    """An unpriced product is valued at its content of the basic priced materials (those not
    made from other priced materials: the oxides), through priced intermediates, so pricing
    the metals, or making magnets from oxide in one integrated plant, does not change what a
    tonne of magnet is worth: paired comparisons value both runs alike. With the metals
    valued at their own prices, the baseline's sintering (from metal) and us_allies_response's
    integrated plant (from oxide) disagreed, and that scenario's magnets had no value."""
    base = unpriced_magnets(load_scenario(SCENARIOS / "baseline.yaml"))
    oxides = {m: p for m, p in base.market.prices.items() if m.endswith("_oxide")}
    assert set(base.market.prices) - set(oxides) == {"ndpr_metal", "dytb_metal"}
    unpriced = base.model_copy(update={"market": base.market.model_copy(
        update={"prices": oxides})})
    assert priced_content(base)["ndfeb_magnet"] == priced_content(unpriced)["ndfeb_magnet"]
    allied = priced_content(unpriced_magnets(load_scenario(SCENARIOS /
                                                           "us_allies_response.yaml")))
    assert allied["ndfeb_magnet"] == pytest.approx(priced_content(base)["ndfeb_magnet"],
                                                   rel=1e-12)


def test_no_content_when_recipes_disagree_or_the_market_is_off() -> None:
    base = unpriced_magnets(load_scenario(SCENARIOS / "baseline.yaml"))
    odd = base.recipes["magnet_sintering"].model_copy(update={"inputs": {"ndpr_metal": 0.5}})
    two = base.model_copy(update={"recipes": {**base.recipes, "magnet_odd": odd}})
    content = priced_content(two)
    assert "ndfeb_magnet" not in content and "ndpr_metal" in content
    # the integrated plant of us_allies_response takes the same oxide: they agree
    assert "ndfeb_magnet" in priced_content(unpriced_magnets(
        load_scenario(SCENARIOS / "us_allies_response.yaml")))
    off = load_scenario(SCENARIOS / "baseline.yaml", ["market.enabled=false"])
    assert priced_content(off) == {}


def test_a_magnet_users_value_at_risk_is_its_shortfall_at_its_oxide_content() -> None:
    """Under the heavy-REE threat (replication 0, to mid-2028), Japan's EV makers' value at
    risk is the sum over steps of shortfall (t) x 1000 x (0.372 x NdPr oxide price in
    ``ex-CN`` + 0.024 x Dy/Tb oxide price in ``ex-CN:JP,US``, Japan's tiers, that step), by
    hand from the run's tables, where magnets are not priced; China's own users' rows use
    China's tier; a sector never short has 0."""
    scenario = unpriced_magnets(load_scenario(SCENARIOS / "china_heavy_ree_controls_2026.yaml",
                                              ["end_date=2028-07-01"]))
    r = run_replication(scenario, seed=0)
    m = replication_metrics(r.timeseries, scenario, prices=r.prices).set_index("demand_id")
    px = r.prices.pivot_table(index=["day", "market"], columns="material",
                              values="price_usd_per_kg")
    ts = r.timeseries
    jp = ts[ts["demand_id"] == "jp_magnet_ev"].set_index("day")
    price = (0.372 * px["ndpr_oxide"].xs("ex-CN", level="market")
             + 0.024 * px["dytb_oxide"].xs("ex-CN:JP,US", level="market")).reindex(jp.index)
    by_hand = float((jp["shortfall_t"] * 1000.0 * price).sum())
    assert jp["shortfall_t"].sum() > 100.0 and np.isfinite(by_hand)
    assert m.loc["jp_magnet_ev", "value_at_risk_usd"] == pytest.approx(by_hand, rel=1e-12)
    assert m.loc["cn_magnet_ev", "value_at_risk_usd"] == 0.0  # valued, never short
    # mixed oxides (co-products) stay unvalued
    others = m[m["material"].astype(str) == "other_reo"]["value_at_risk_usd"]
    assert len(others) and others.isna().all()
    # at the reference prices a tonne of magnet is worth 0.372 x 52 + 0.024 x 417 USD/kg
    first = (0.372 * px["ndpr_oxide"].xs("ex-CN", level="market").iloc[0]
             + 0.024 * px["dytb_oxide"].xs("ex-CN:JP,US", level="market").iloc[0])
    assert first == pytest.approx(0.372 * 52 + 0.024 * 417, rel=0.02)
    # nobody in ex-CN (Germany, Korea...) buys Dy/Tb oxide: that tier has no price of it
    # once the licences set JP and US apart, and a magnet user there is then valued at
    # China's price times 417 / 334 (the trade link); Germany's EV makers are never short
    # here, so give them a tonne short every step
    rest = px["dytb_oxide"].xs("ex-CN", level="market").dropna()
    assert 0 < len(rest) < len(px["dytb_oxide"].xs("CN", level="market"))
    short = ts.assign(shortfall_t=np.where(ts["demand_id"] == "de_magnet_ev", 1.0,
                                           ts["shortfall_t"]))
    de_var = replication_metrics(short, scenario, prices=r.prices).set_index(
        "demand_id").loc["de_magnet_ev", "value_at_risk_usd"]
    de = short[short["demand_id"] == "de_magnet_ev"].set_index("day")
    dytb = rest.reindex(de.index).fillna(
        px["dytb_oxide"].xs("CN", level="market").reindex(de.index) * 417 / 334)
    link = (0.372 * px["ndpr_oxide"].xs("ex-CN", level="market").reindex(de.index)
            + 0.024 * dytb)
    assert de_var == pytest.approx(float((de["shortfall_t"] * 1000.0 * link).sum()),
                                   rel=1e-12)


def test_a_priced_magnet_users_value_at_risk_is_its_shortfall_at_the_magnet_price() -> None:
    """The shipped scenarios price magnets: under the heavy-REE threat Japan's EV makers'
    value at risk is their shortfall x 1000 x the ``ex-CN:JP,US`` magnet price, step by step,
    by hand; at the reference a tonne is USD 49,000."""
    scenario = load_scenario(SCENARIOS / "china_heavy_ree_controls_2026.yaml",
                             ["end_date=2028-07-01"])
    r = run_replication(scenario, seed=0)
    m = replication_metrics(r.timeseries, scenario, prices=r.prices).set_index("demand_id")
    px = r.prices[r.prices["material"] == "ndfeb_magnet"].pivot_table(
        index="day", columns="market", values="price_usd_per_kg")
    jp = r.timeseries[r.timeseries["demand_id"] == "jp_magnet_ev"].set_index("day")
    by_hand = float((jp["shortfall_t"] * 1000.0 * px["ex-CN:JP,US"].reindex(jp.index)).sum())
    assert jp["shortfall_t"].sum() > 100.0 and np.isfinite(by_hand)
    assert m.loc["jp_magnet_ev", "value_at_risk_usd"] == pytest.approx(by_hand, rel=1e-12)
    assert px["ex-CN"].iloc[0] == pytest.approx(49.0, rel=0.02)
