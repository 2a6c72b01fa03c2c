"""Engine results against answers computed by hand or in closed form."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import special

from simulator.engine import run_replication
from tests.conftest import make_scenario

DIRECT = {  # one mine in AU selling ore straight to a demand sector in JP
    "name": "direct",
    "start_date": "2024-01-01",
    "end_date": "2025-01-01",
    "simulation": {"step_days": 1, "warmup_days": 0},
    "stages": ["mine"],
    "countries": {"AU": {"name": "Australia"}, "JP": {"name": "Japan"}},
    "materials": {"ore": {}},
    "recipes": {"mining": {"stage": "mine", "outputs": {"ore": 1.0}}},
    "facilities": {"au_mine": {"country": "AU", "recipe": "mining", "capacity_tpy": 36500,
                               "output_cover_days": 30}},
    "demand": {"jp_use": {"country": "JP", "sector": "ev", "material": "ore",
                          "rate_tpy": 3650, "cover_days": 0}},
    "sourcing": {"jp_ore": {"country": "JP", "material": "ore", "suppliers": {"AU": 1.0}}},
    "lead_times": {"default_days": 5},
}


def test_empty_buyer_waits_exactly_one_lead_time():
    """Buyer starts empty with cover 0: short for exactly L days, then served every day."""
    r = run_replication(make_scenario(DIRECT))
    ts = r.timeseries
    assert (ts["demand_t"] == 10.0).all()
    short = ts.loc[ts["shortfall_t"] > 1e-9, "day"].tolist()
    assert short == [0, 1, 2, 3, 4]
    assert ts["shortfall_t"].sum() == pytest.approx(5 * 10.0)
    # First order on day 0 is the whole order-up-to level r * (cover + L) = 50 t: what is used
    # until that lot lands (the lead time, in whole steps) plus the cover (0).
    first = r.flows.iloc[0]
    assert (first["day"], first["origin"], first["destination"], first["tonnes"]) == (
        0, "AU", "JP", pytest.approx(50.0))
    # Afterwards one lot a day that replaces exactly one day's use.
    later = r.flows[r.flows["day"] >= 5]
    np.testing.assert_allclose(later["tonnes"], 10.0, rtol=1e-12)


@pytest.mark.parametrize("lead", [0, 3, 12])
def test_lead_time_shifts_first_delivery(lead):
    s = make_scenario(DIRECT, lead_times={"default_days": lead})
    ts = run_replication(s).timeseries
    # Day 0 consumes before the first order is placed, so even L = 0 misses one day.
    days_short = max(lead, 1)
    assert ts["shortfall_t"].sum() == pytest.approx(10.0 * days_short)
    assert ts.loc[ts["day"] >= days_short, "shortfall_t"].max() == pytest.approx(0.0)


def test_three_node_chain_steady_state_by_hand(chain):
    """JP uses 1000 t/yr oxide; refining yields 0.8, so MY refines 1000 and AU mines 1250."""
    r = run_replication(chain)
    last_year = lambda df: df[df["day"] >= 364 + 7]  # noqa: E731 - after transients
    assert chain.horizon_days == 731  # 104 weeks and 3 days: the last step has 3 days
    whole = r.production[r.production["day"] < 728]
    prod = last_year(whole).groupby("facility", observed=True)["tonnes"]
    per_step = prod.mean()
    # (pools plan on their smoothed outflow, 28-day time constant: after a year the start's
    # transient is below 1e-6 of the flow)
    assert per_step["my_refinery"] == pytest.approx(1000 * 7 / 365, rel=1e-6)
    assert per_step["au_mine"] == pytest.approx(1250 * 7 / 365, rel=1e-6)
    # the last step runs its 3 days before the end date, not 7
    end = r.production[r.production["day"] == 728].set_index("facility")["tonnes"]
    assert end["my_refinery"] == pytest.approx(1000 * 3 / 365, rel=1e-6)
    assert end["au_mine"] == pytest.approx(1250 * 3 / 365, rel=1e-6)
    assert r.timeseries["demand_t"].sum() == pytest.approx(1000 * 731 / 365, rel=1e-12)
    flows = last_year(r.flows[r.flows["day"] < 728]).groupby(
        ["origin", "destination"], observed=True)["tonnes"].mean()
    assert flows[("AU", "MY")] == pytest.approx(1250 * 7 / 365, rel=1e-6)
    assert flows[("MY", "JP")] == pytest.approx(1000 * 7 / 365, rel=1e-6)
    assert r.timeseries["shortfall_t"].sum() == 0.0


def test_binding_mine_capacity_caps_fill_rate(chain):
    """A mine of 1000 t/yr ore feeds at most 800 t/yr oxide: steady fill rate 0.8."""
    from tests.conftest import CHAIN
    from tests.conftest import make_scenario as mk

    s = mk(CHAIN, end_date="2027-01-01", facilities={"au_mine": {"capacity_tpy": 1000}})
    ts = run_replication(s).timeseries
    assert s.horizon_days == 1096  # 156 weeks and 4 days: the last row stands for 4 days
    tail = ts[ts["day"] >= 730]  # after the starting inventories have drained (~18 months)
    assert tail["delivered_t"].sum() / tail["demand_t"].sum() == pytest.approx(0.8, rel=1e-6)
    last = ts[ts["day"] == 1092].iloc[0]
    assert last["demand_t"] == pytest.approx(1000 * 4 / 365, rel=1e-12)


def _allocation_case(rule: list[str]) -> pd.Series:
    """CN makes 730 t/yr; CN (priority 0) and US (priority 5) each want 730 t/yr."""
    data = {
        "name": "alloc", "start_date": "2024-01-01", "end_date": "2025-01-01",
        "simulation": {"step_days": 1, "warmup_days": 0}, "stages": ["mine"],
        "countries": {"CN": {"name": "China"}, "US": {"name": "United States"}},
        "materials": {"ore": {}},
        "recipes": {"mining": {"stage": "mine", "outputs": {"ore": 1.0}}},
        "facilities": {"cn_mine": {"country": "CN", "recipe": "mining", "capacity_tpy": 730,
                                   "output_cover_days": 0}},
        "demand": {
            "cn_use": {"country": "CN", "sector": "ev", "material": "ore", "rate_tpy": 730,
                       "cover_days": 0, "priority": 0},
            "us_use": {"country": "US", "sector": "defense", "material": "ore",
                       "rate_tpy": 730, "cover_days": 0, "priority": 5},
        },
        "sourcing": {"us_ore": {"country": "US", "material": "ore", "suppliers": {"CN": 1.0}}},
        "lead_times": {"domestic_days": 0, "default_days": 0},
        "allocation": {"rule": rule},
    }
    ts = run_replication(make_scenario(data)).timeseries
    tail = ts[ts["day"] >= 30]
    return tail.groupby("demand_id", observed=True)["delivered_t"].sum() / tail.groupby(
        "demand_id", observed=True)["demand_t"].sum()


def test_allocation_domestic_first():
    fill = _allocation_case(["domestic", "priority"])
    assert fill["cn_use"] == pytest.approx(1.0)
    assert fill["us_use"] == pytest.approx(0.0, abs=1e-9)


def test_allocation_priority_first():
    fill = _allocation_case(["priority", "domestic"])
    assert fill["us_use"] == pytest.approx(1.0)
    assert fill["cn_use"] == pytest.approx(0.0, abs=1e-9)


def test_allocation_pro_rata():
    fill = _allocation_case([])
    assert fill["us_use"] == pytest.approx(0.5, rel=1e-6)
    assert fill["cn_use"] == pytest.approx(0.5, rel=1e-6)


@pytest.mark.parametrize("cover_days", [0.0, 0.5, 1.0])
def test_base_stock_fill_rate_matches_newsvendor(cover_days):
    """Zero lead time, daily review, gamma demand: each day starts at S = mu (1 + cover), so
    the fill rate is E[min(D, S)] / E[D] = F_{k+1}(S) + S/mu (1 - F_k(S)) for D ~ Gamma(k, theta)
    (F_a the Gamma(a, theta) CDF), the lost-sales newsvendor result."""
    cv = 0.5
    s = make_scenario(DIRECT, end_date="2044-01-01", lead_times={"default_days": 0},
                      demand={"jp_use": {"cv": cv, "cover_days": cover_days}})
    ts = run_replication(s, seed=7).timeseries
    simulated = ts["delivered_t"].sum() / ts["demand_t"].sum()
    mu = 10.0
    k = 1 / cv**2
    theta = mu / k
    big_s = mu * (1 + cover_days)
    expected = special.gammainc(k + 1, big_s / theta) + big_s / mu * (
        1 - special.gammainc(k, big_s / theta))
    assert simulated == pytest.approx(expected, abs=0.006)
    assert not math.isclose(expected, 1.0)
