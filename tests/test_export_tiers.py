"""One export tier per controlled group of destinations (docs/markets.md, "Tiers";
simulator/scenario/tiers.py, simulator/engine/market.py).

On 5c3b3d1 a priced material had one export tier, every buyer outside ``market.home``: a ban
on Japan alone raised the price the US buyers paid, so they gave up demand to a price they
never faced, and a plant in the banning country was built on the price of buyers it could
not sell to. Each test here fails there."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.analysis.tiers import country_prices
from simulator.engine import run_replication
from simulator.scenario.tiers import export_tiers, tier_of_country
from tests.conftest import deep_update, make_scenario
from tests.test_events import BASE, date
from tests.test_market import PRICED

US = {"demand": {"us_use": {"country": "US", "sector": "wind", "material": "ore",
                            "rate_tpy": 3650, "cover_days": 10}},
      "sourcing": {"us_ore": {"country": "US", "material": "ore", "suppliers": {"AU": 1.0}}}}
"""A second importer beside Japan, buying AU's ore on the same terms."""


def ban(*destinations: str, start: int = 100, end: int | None = 160) -> dict:
    ev = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
          "destinations": list(destinations), "mode": "ban", "effective": date(start)}
    if end is not None:
        ev["end"] = date(end)
    return ev


def data(events: dict | None = None, patch: dict | None = None) -> dict:
    out = deep_update(deep_update(BASE, {"simulation": {"step_days": 1, "warmup_days": 364},
                                         **PRICED}), US)
    return deep_update(out, {"events": events or {}, **(patch or {})})


def run(d: dict):
    return run_replication(make_scenario(d), seed=1)


def price(r, market: str) -> pd.Series:
    p = r.prices[r.prices["market"] == market]
    return p.set_index("day")["price_usd_per_kg"]


def test_a_ban_on_japan_raises_japans_price_and_not_the_us_buyers() -> None:
    """Japan runs out during its ban and its price heads for the cap; the US buyers, served
    throughout, pay the trade-linked 12 USD/kg while the ban lasts and, with a short-run
    elasticity, give up nothing to price (on 5c3b3d1 they paid Japan's price and gave up
    hundreds of tonnes). Once it ends the two are one market again: Japan's restocking
    lifts the common price for a while (the gap between the two closing at the
    adjustment speed), and both return to 12."""
    elastic = {"market": {"demand_response": {"sectors": {"wind": {"elasticity": 0.5}}}}}
    r = run(data({"ban": ban("JP")}, elastic))
    assert set(r.prices["market"]) == {"AU", "ex-AU", "ex-AU:JP"}
    jp, us = price(r, "ex-AU:JP"), price(r, "ex-AU")
    assert jp.max() > 80.0 and jp.loc[:100].to_numpy() == pytest.approx(12.0, rel=1e-6)
    assert us.loc[:159].to_numpy() == pytest.approx(12.0, rel=1e-6)
    ts = r.timeseries.set_index("demand_id")
    us_use = ts.loc["us_use"].set_index("day")
    assert us_use["shortfall_t"].sum() == 0.0
    assert us_use.loc[:160, "destroyed_t"].sum() < 1e-3  # (a price 1e-7 above 12)
    assert ts.loc["jp_use", "shortfall_t"].sum() > 100.0
    # from day 160 one market: both move to the same target, so their log gap closes as
    # exp(-t / adjustment_days), exactly
    gap = np.log(jp) - np.log(us)
    days = np.arange(160, 200)
    assert gap.loc[days].to_numpy() == pytest.approx(
        gap.loc[159] * np.exp(-(days - 159) / 20.0), rel=1e-9)
    assert jp.iloc[-1] == pytest.approx(12.0, rel=1e-3)
    assert us.iloc[-1] == pytest.approx(12.0, rel=1e-3)


def test_a_control_of_every_destination_keeps_one_export_tier() -> None:
    """A ban of Japan and the US (every buyer abroad) is one export tier, as 'all' is: the
    same prices, to the bit."""
    listed = run(data({"ban": ban("JP", "US", "CN")}))
    everyone = run(data({"ban": {**ban("JP"), "destinations": "all"}}))
    assert set(listed.prices["market"]) == {"AU", "ex-AU"}
    assert listed.prices.equals(everyone.prices)
    assert price(listed, "ex-AU").max() > 80.0


def test_tiers_rejoin_while_no_control_in_force_tells_them_apart() -> None:
    """Before a later ban, Japan's tier trades as one with the rest: every country's price
    is the run's without the ban, to the bit, though the tier is recorded from day 0."""
    calm, later = data(), data({"ban": ban("JP", start=200, end=None)})
    a, b = run(calm), run(later)
    pa = country_prices(a.prices[a.prices["day"] < 200], make_scenario(calm))
    pb = country_prices(b.prices[b.prices["day"] < 200], make_scenario(later))
    pd.testing.assert_frame_equal(pa, pb, check_exact=True)
    assert price(b, "ex-AU:JP").iloc[-1] > 80.0


def mine(country: str) -> dict:
    """A mine of 10 t/day in ``country`` built once its export price holds 30 USD/kg."""
    return {"facilities": {f"{country.lower()}_new_mine": {
        "country": country, "recipe": "mining", "capacity_tpy": 3650,
        "invest": {"material": "ore", "incentive_price": 30.0, "sustained_days": 30,
                   "lead_time_days": 60}}}}


def committed(d: dict) -> float:
    (row,) = run(d).projects.itertuples()
    return row.committed_day


def test_a_plant_sees_the_best_export_price_it_can_sell_at() -> None:
    """Under a ban on Japan alone, a new mine in the US can sell to Japan: its export price
    is Japan's tier, and it is committed about a month after Japan's price passes 30; a new
    mine in Australia, the banning country, cannot: its export price is the other buyers'
    (12 USD/kg) and it is never committed (on 5c3b3d1 it saw Japan's price and was)."""
    japan_short = run(data({"ban": ban("JP", end=None)}))
    above = int(price(japan_short, "ex-AU:JP").pipe(lambda p: p[p >= 30.0]).index.min())
    us_day = committed(data({"ban": ban("JP", end=None)}, mine("US")))
    assert above + 30 <= us_day <= above + 31
    assert pd.isna(committed(data({"ban": ban("JP", end=None)}, mine("AU"))))


def test_tiers_are_named_by_the_countries_a_control_sets_apart() -> None:
    """The group no control (or every control alike) names is ``ex-AU``; a group some
    control singles out is named by its countries; controls of other materials, or of
    another exporter, split nothing."""
    def tiers(events: dict) -> dict[str, list[tuple[str, list[str], tuple[str, ...]]]]:
        sc = make_scenario(data(events))
        return {m: [(t.name, sorted(t.countries), t.controls) for t in ts]
                for m, ts in export_tiers(sc).items()}

    assert tiers({}) == {"ore": [("ex-AU", ["CN", "JP", "US"], ())]}
    assert tiers({"a": {**ban("JP"), "destinations": "all"}, "b": ban("US")}) == {
        "ore": [("ex-AU", ["CN", "JP"], ("a",)), ("ex-AU:US", ["US"], ("a", "b"))]}
    assert tiers({"a": ban("JP"), "b": ban("US")}) == {
        "ore": [("ex-AU", ["CN"], ()), ("ex-AU:JP", ["JP"], ("a",)),
                ("ex-AU:US", ["US"], ("b",))]}
    assert tiers({"a": ban("JP", "US"), "b": ban("JP")})["ore"][1:] == [
        ("ex-AU:JP", ["JP"], ("a", "b")), ("ex-AU:US", ["US"], ("a",))]
    magnets_only = {**ban("JP"), "materials": ["magnet"]}
    other_exporter = {**ban("JP"), "exporter": "CN"}
    assert tiers({"m": magnets_only, "o": other_exporter}) == tiers({})
    by_element = {**ban("JP"), "materials": [], "elements": ["Dy"]}  # ore holds Dy
    assert [t[0] for t in tiers({"e": by_element})["ore"]] == ["ex-AU", "ex-AU:JP"]
    of = tier_of_country(make_scenario(data({"a": ban("JP")})))
    assert of == {"ore": {"AU": "AU", "CN": "ex-AU", "US": "ex-AU", "JP": "ex-AU:JP"}}


def test_compare_reads_a_tier_one_scenario_lacks_as_its_countries_tier_there() -> None:
    """Comparing a ban on Japan with no ban: the calm run has no ``ex-AU:JP``; compare (and
    the workbench) read Japan's price there, ``ex-AU``, under that name, so the paired
    difference is Japan's price against Japan's, and say so in the tier notes."""
    from simulator.analysis.tiers import compared_prices
    from simulator.comparison.tables import price_table

    calm, banned = data(), data({"ban": ban("JP")})
    runs = {"calm": run(calm), "ban": run(banned)}
    prices = {n: r.prices.assign(replication=0) for n, r in runs.items()}
    scenarios = {"calm": make_scenario(calm), "ban": make_scenario(banned)}
    aligned, ceilings, notes = compared_prices(prices, scenarios)
    calm_jp = aligned["calm"][aligned["calm"]["market"] == "ex-AU:JP"]
    calm_ex = aligned["calm"][aligned["calm"]["market"] == "ex-AU"]
    assert calm_jp["price_usd_per_kg"].tolist() == calm_ex["price_usd_per_kg"].tolist()
    assert len(aligned["ban"]) == len(prices["ban"])  # nothing borrowed the other way
    assert ceilings["calm"][("ore", "ex-AU:JP")] == ceilings["ban"][("ore", "ex-AU:JP")] == 120
    assert "ex-AU:JP in calm: no tier of its own there (from ban), its ex-AU price" in notes["ore"]
    table = price_table(aligned, "calm", ceilings)
    peak = table[(table["market"] == "ex-AU:JP") & (table["stat"] == "peak")
                 & (table["scenario"] == "ban")].iloc[0]
    assert peak["diff_vs"] == "calm" and peak["diff_mean"] > 60.0
