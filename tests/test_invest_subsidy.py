"""Investment subsidies and co-financing (engine/events/subsidy.py, docs/events.md
``investment_subsidy``), on the network of tests/test_investment.py: JP buys AU ore at an
ex-AU reference price of 12 USD/kg; a JP mine is planned at an incentive price of 30 USD/kg,
held for 30 days, built 60 days after commitment."""

from __future__ import annotations

import math
from copy import deepcopy

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simulator.engine import run_replication
from simulator.scenario.checks import check_scenario
from simulator.scenario.models import Scenario
from tests.strategies import date as day_date
from tests.strategies import scenario_of
from tests.test_events import date
from tests.test_investment import _data, _first_day_above, _run, with_planned_plant


def _subsidy(start: int = 50, end: int | None = None, **terms) -> dict:
    ev = {"type": "investment_subsidy", "facilities": ["jp_mine"], "start": date(start),
          **terms}
    if end is not None:
        ev["end"] = date(end)
    return ev


def _committed(r) -> float:
    return float(r.projects["committed_day"].iloc[0])


@pytest.mark.parametrize("terms", [{"share": 0.65}, {"usd_per_kg": 20.0},
                                   {"share": 0.5, "usd_per_kg": 5.0},
                                   {"country": "JP", "facilities": [], "share": 0.65},
                                   {"stage": "mine", "facilities": [], "share": 0.65}])
def test_a_subsidy_below_the_market_price_commits_the_plant(terms):
    """No ban: JP's price stays at 12. Without help the plant (incentive 30) is never built;
    co-financing of 65% (30 * 0.35 = 10.5), USD 20/kg off (10), or half and USD 5 (10) from
    day 50 bring the incentive under 12: committed on day 80, started on day 140. The
    subsidy is selected by name, by country or by stage."""
    assert math.isnan(_committed(_run(_data(ban=False))))
    data = _data(ban=False)
    data["events"] = {"sub": _subsidy(**terms)}
    r = _run(data)
    assert _committed(r) == 80 and float(r.projects["start_day"].iloc[0]) == 140


@pytest.mark.parametrize(("terms", "end"), [({"share": 0.5}, None),
                                            ({"usd_per_kg": 17.0}, None),
                                            ({"share": 0.65}, 70)])
def test_a_subsidy_that_leaves_the_incentive_above_the_price_builds_nothing(terms, end):
    """Half the incentive (15) or USD 17 off (13) stays above 12; a subsidy ending on day 70,
    before 30 days have passed, resets the clock."""
    data = _data(ban=False)
    data["events"] = {"sub": _subsidy(end=end, **terms)}
    assert math.isnan(_committed(_run(data)))


def test_under_a_ban_a_subsidy_commits_earlier():
    """The ban from day 100 sends JP's price towards 120 USD/kg. At an incentive of 200 the
    plant is never built; 80% co-financing (incentive 40) commits it 30 days after the price
    first reaches 40."""
    data = _data({"incentive_price": 200.0})
    assert math.isnan(_committed(_run(data)))
    data["events"]["sub"] = _subsidy(share=0.8)
    r = _run(data)
    assert _committed(r) == _first_day_above(r, 40.0) + 30


@pytest.mark.parametrize(("terms", "where", "text"), [
    ({"facilities": ["au_mine"]}, ("events", "sub", "facilities", 0), "not built on price"),
    ({"facilities": ["xx"]}, ("events", "sub", "facilities", 0), "unknown facility 'xx'"),
    ({"facilities": [], "country": "AU"}, ("events", "sub"), "selects no plant"),
    ({"facilities": []}, ("events", "sub"), "select the plants"),
    ({"share": 0.0}, ("events", "sub"), "lowers no incentive price"),
    ({"stage": "mien"}, ("events", "sub", "stage"), "unknown stage 'mien'"),
])
def test_invalid_subsidies_are_located(terms, where, text):
    data = _data(ban=False)
    data["events"] = {"sub": _subsidy(**{"share": 0.5, **terms})}
    problems = check_scenario(Scenario.model_validate(data))
    assert any(p.path == where and text in p.message for p in problems), problems


# -- property --------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(with_planned_plant(), st.floats(0, 0.95), st.floats(0, 30), st.integers(-30, 300),
       st.one_of(st.none(), st.integers(1, 200)), st.integers(0, 2**32 - 1))
def test_a_subsidy_never_delays_investment(case, share, usd, start, length, seed) -> None:
    """Whatever the network and events: adding a subsidy (any share, cut, start and end)
    never commits the planned plant later, and a plant committed without it is committed
    with it (a lower incentive holds whenever the higher one does, on the same prices up to
    the first commitment)."""
    data, fid = case
    if share == 0.0 and usd == 0.0:
        share = 0.1
    ev = {"type": "investment_subsidy", "facilities": [fid], "share": share,
          "usd_per_kg": usd, "start": day_date(start)}
    if length is not None:
        ev["end"] = day_date(start + length)
    helped = deepcopy(data)
    helped["events"]["sub"] = ev
    without = _committed(run_replication(scenario_of(data), seed=seed))
    with_ = _committed(run_replication(scenario_of(helped), seed=seed))
    event("committed without" if without == without else "not committed without")
    if without == without:
        assert with_ <= without
    if with_ < without or (with_ == with_ and without != without):
        event("earlier with")
