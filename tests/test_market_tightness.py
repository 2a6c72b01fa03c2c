"""Producers' stocks in the price's scarcity (``market.producer_stock_weight``,
docs/markets.md#producers-stocks-total-stocks-to-use), with hand-computed answers on the tiny
network of tests/test_events.py: an AU mine (100 t/day, 30 days of output cover: 3,000 t of
normal producer stock) sells ore to a JP demand sector (10 t/day, 10 days of cover)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from simulator.engine import run_replication
from simulator.engine.market import PriceIndex
from simulator.engine.network import Buyer, Pool
from simulator.scenario.models import Market as MarketModel
from tests.conftest import deep_update, make_scenario
from tests.test_events import BASE, date

OUTAGE = {"out": {"type": "facility_outage", "facilities": ["au_mine"], "capacity_lost": 1.0,
                  "start": date(100), "duration_days": 400}}
BUYER_NORMAL = 10.0 * (10 + 7)
"""JP's normal supply: 10 t/day over 10 days of cover plus the scarcity's 7-day window."""
POOL_NORMAL = 100.0 * 30
"""The AU pool's normal stock: the mine's full-rate output over its 30-day output cover."""


def _run(weight: float, *, home: str | None = None, events: dict | None = None):
    market: dict = {"elasticity": 1.0, "adjustment_days": 1e-3,  # price = target each step
                    "producer_stock_weight": weight,
                    "prices": {"ore": {"domestic": 10.0, "export": 12.0}}}
    if home is not None:
        market["home"] = home
    data = deep_update(BASE, {"simulation": {"step_days": 1, "warmup_days": 364},
                              "market": market, "events": events or {}})
    return run_replication(make_scenario(data), seed=1)


def _prices(r, market: str = "world"):
    p = r.prices[r.prices["market"] == market]
    return p.set_index("day")["price_usd_per_kg"]


def test_scarcity_counts_weighted_producer_stock_beside_buyers_cover() -> None:
    """Buyers at their normal cover, producers' stock halved: scarcity is
    (N_b + w N_p / 2) / (N_b + w N_p); with elasticity 1 the target is its inverse."""
    buyer = Buyer("jp_use", "JP", "ore", cover_days=10.0, priority=0)
    buyer.usage_per_day, buyer.on_hand, buyer.last_fill = 10.0, 100.0, 1.0
    pool = Pool("AU", "ore")
    pool.cover_t, pool.stock = POOL_NORMAL, POOL_NORMAL / 2
    for w, expected in [(0.0, 1.0), (0.5, (110 + 750) / (110 + 1500)),
                        (1.0, (110 + 1500) / (110 + 3000))]:
        index = PriceIndex("ore", "world", 10.0, [buyer], [pool], w)
        assert index.scarcity(1) == pytest.approx(expected, rel=1e-12)
    only_producers = PriceIndex("ore", "world", 10.0, [], [pool], 1.0)
    assert only_producers.scarcity(7) == pytest.approx(0.5)  # halved stock: target x 2


def test_steady_state_trades_at_the_reference_with_producer_stocks() -> None:
    """Producers hold their output cover in steady state, so the price is the reference."""
    assert _prices(_run(1.0)).to_numpy() == pytest.approx(10.0, rel=1e-6)


@pytest.mark.parametrize("weight", [0.0, 0.5, 1.0])
def test_a_mine_outage_raises_the_price_as_producer_stock_runs_down(weight: float) -> None:
    """From day 100 the mine makes nothing; JP keeps getting 10 t/day from the pool's
    3,000 t, so its cover never falls (the buyers-only price stays at 10) while the pool
    holds 3,000 - 10 (d - 99) t at the end of day d. With elasticity 1 and an instant
    adjustment the price is 10 * normal / supply, the normal and supply weighted by w (to
    1e-6: the warm-up leaves the stocks ~1e-8 from their normal); on day 249 the pool's
    stock is halved: with w = 0.5 the price is 10 * 1,670 / 920."""
    r = _run(weight, events=OUTAGE)
    assert r.timeseries["shortfall_t"].sum() == 0.0  # the buyer never goes short
    price = _prices(r)
    days = np.arange(100, 366)
    stock = POOL_NORMAL - 10.0 * (days - 99)
    expected = 10.0 * (BUYER_NORMAL + weight * POOL_NORMAL) / (BUYER_NORMAL + weight * stock)
    assert price.loc[days].to_numpy() == pytest.approx(expected, rel=1e-6)
    assert price.loc[:99].to_numpy() == pytest.approx(10.0, rel=1e-6)
    if weight == 0.5:
        assert price.loc[249] == pytest.approx(10.0 * 1670 / 920, rel=1e-6)


def test_each_tier_counts_the_producers_of_its_own_countries() -> None:
    """Home AU: the AU pool is the home tier's; the export tier (JP) has no producers, so
    while JP is served its price is only the trade link, home price x 12/10."""
    r = _run(1.0, home="AU", events=OUTAGE)
    home, abroad = _prices(r, "AU"), _prices(r, "ex-AU")
    assert home.loc[:99].to_numpy() == pytest.approx(10.0, rel=1e-6)
    assert home.loc[200] > 10.0 * 1.1  # no AU buyer: scarcity is the pool's alone
    assert home.loc[200] == pytest.approx(10.0 * POOL_NORMAL / (POOL_NORMAL - 1010.0),
                                          rel=1e-6)
    assert abroad.loc[100:].to_numpy() == pytest.approx(
        home.loc[100:].to_numpy() * 1.2, rel=1e-12)


def test_the_weight_is_a_share() -> None:
    with pytest.raises(ValidationError):
        MarketModel(producer_stock_weight=1.5)
    with pytest.raises(ValidationError):
        MarketModel(producer_stock_weight=-0.1)
