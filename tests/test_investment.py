"""Plants built on price (engine/investment.py, docs/markets.md "Supply response"), on the
tiny network of tests/test_market.py: AU sells ore to JP (10 t/day, 10 days of cover); from
day 100 AU bans ore exports to JP, so JP's (ex-AU) price climbs to ten times its reference
of 12 USD/kg. A JP mine is planned at an incentive price of 30 USD/kg."""

from __future__ import annotations

from copy import deepcopy

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from simulator.engine import run_replication
from simulator.scenario.checks import check_scenario
from simulator.scenario.models import Scenario
from tests.conftest import deep_update, make_scenario
from tests.strategies import date as day_date
from tests.strategies import horizon, scenario_data, scenario_of
from tests.test_events import BASE, date
from tests.test_market import PRICED

BAN = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
       "destinations": ["JP"], "mode": "ban", "effective": date(100)}


def _data(invest: dict | None = None, *, ban: bool = True, plant: bool = True) -> dict:
    data = deep_update(BASE, {"simulation": {"step_days": 1, "warmup_days": 364}, **PRICED})
    if ban:
        data["events"] = {"ban": BAN}
    if plant:
        data["facilities"]["jp_mine"] = {
            "country": "JP", "recipe": "mining", "capacity_tpy": 36500,
            "invest": {"material": "ore", "incentive_price": 30.0, "sustained_days": 30,
                       "lead_time_days": 60, **(invest or {})}}
        data["sourcing"]["jp_ore"]["suppliers"] = {"AU": 0.5, "JP": 0.5}
    return data


def _run(data: dict, replication: int = 0):
    return run_replication(make_scenario(data), seed=1, replication=replication)


def _first_day_above(r, level: float) -> int:
    p = r.prices[r.prices["market"] == "ex-AU:JP"].set_index("day")["price_usd_per_kg"]
    return int(p[p >= level].index.min())


def test_a_project_is_committed_after_the_price_holds_and_starts_after_its_lead_time():
    r = _run(_data())
    above = _first_day_above(r, 30.0)
    assert 100 < above < 130  # JP runs short, its price climbs past the incentive
    made = r.production[r.production["facility"] == "jp_mine"]
    assert made["tonnes"].sum() > 0
    # committed 30 days after the price first reached 30, started 60 days later
    assert int(made.loc[made["tonnes"] > 0, "day"].min()) == above + 30 + 60
    # JP is served again: no shortfall in the last 100 days
    ts = r.timeseries[r.timeseries["demand_id"] == "jp_use"]
    assert ts.loc[ts["day"] > 366 - 100, "shortfall_t"].sum() == 0.0
    assert ts.loc[ts["day"] < above + 90, "shortfall_t"].sum() > 0


def test_a_project_that_never_completes_changes_nothing():
    """Committed but never built (completion_probability 0): the run is bit-identical to one
    without the planned plant."""
    never = _run(_data({"completion_probability": 0.0}))
    without = _run(_data(plant=False))
    assert never.production[never.production["facility"] == "jp_mine"]["tonnes"].sum() == 0
    pd.testing.assert_frame_equal(never.timeseries, without.timeseries)
    pd.testing.assert_frame_equal(never.prices, without.prices)


def test_a_price_below_the_incentive_builds_nothing():
    """Without the ban JP's price stays at its reference (12 < 30): the mine is never built
    and the run is the run without it."""
    calm = _run(_data(ban=False))
    without = _run(_data(ban=False, plant=False))
    assert calm.production[calm.production["facility"] == "jp_mine"]["tonnes"].sum() == 0
    pd.testing.assert_frame_equal(calm.timeseries, without.timeseries)


def test_nothing_changes_before_the_plant_starts():
    """Causality: a built plant changes nothing before its start day."""
    built = _run(_data())
    never = _run(_data({"completion_probability": 0.0}))
    start = _first_day_above(built, 30.0) + 90
    a = built.timeseries[built.timeseries["day"] < start].reset_index(drop=True)
    b = never.timeseries[never.timeseries["day"] < start].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert not built.timeseries.equals(never.timeseries)


def test_completion_is_drawn_on_the_plants_own_stream():
    """Half the replications build the mine at completion_probability 0.5 (within
    binomial noise), and replication r draws the same whatever else the scenario holds."""
    data = _data({"completion_probability": 0.5})
    built = [bool(_run(data, r).production.query("facility == 'jp_mine'")["tonnes"].sum())
             for r in range(16)]
    assert 3 <= sum(built) <= 13
    longer = _data({"completion_probability": 0.5, "lead_time_days": 90})
    again = [bool(_run(longer, r).production.query("facility == 'jp_mine'")["tonnes"].sum())
             for r in range(16)]
    assert again == built


@pytest.mark.parametrize(("patch", "where", "text"), [
    ({"start_date": "2024-06-01"}, ("facilities", "jp_mine", "invest"), "no start_date"),
    ({"invest": {"material": "magnet"}}, ("facilities", "jp_mine", "invest", "material"),
     "has no price"),
])
def test_invalid_investments_are_located(patch, where, text):
    data = _data()
    data["facilities"]["jp_mine"] = deep_update(data["facilities"]["jp_mine"], patch)
    problems = check_scenario(Scenario.model_validate(data))
    assert any(p.path == where and text in p.message for p in problems), problems


def test_a_disabled_market_cannot_call_for_a_plant():
    data = deep_update(_data(), {"market": {"enabled": False}})
    problems = check_scenario(Scenario.model_validate(data))
    assert any(p.path == ("facilities", "jp_mine", "invest") and "market.enabled is false"
               in p.message for p in problems), problems


# -- properties over random networks with random events -------------------------------------
@st.composite
def with_planned_plant(draw: st.DrawFn):
    """A random network with random events, every material priced (the first country as
    home), and one facility turned into a plant built on price."""
    data = draw(scenario_data())
    home = next(iter(data["countries"]))
    data["market"] = {"home": home, "elasticity": draw(st.floats(0.2, 2.0)),
                      "adjustment_days": draw(st.floats(1.0, 60.0)),
                      "prices": {m: {"domestic": 10.0, "export": 13.0}
                                 for m in data["materials"]}}
    fid = draw(st.sampled_from(sorted(data["facilities"])))
    fac = data["facilities"][fid]
    fac.pop("start_date", None)
    fac["invest"] = {"material": draw(st.sampled_from(sorted(data["materials"]))),
                     "market": draw(st.sampled_from(["export", "home"])),
                     "incentive_price": draw(st.floats(5.0, 40.0)),
                     "sustained_days": draw(st.integers(0, 90)),
                     "lead_time_days": draw(st.integers(1, 200)),
                     "completion_probability": draw(st.sampled_from([0.0, 0.5, 1.0]))}
    return data, fid


@settings(max_examples=40, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(with_planned_plant(), st.integers(0, 2**32 - 1))
def test_a_plant_built_on_price_is_the_plant_scripted_for_its_start_day(case, seed) -> None:
    """Whatever the network and events: the run with a plant built on price is bit-identical
    to the run with the same plant scripted to start on the day it started (or, if it was
    never built, with a plant whose incentive no price reaches); prices stay positive and
    finite, and mass balance holds (run_replication checks it)."""
    data, fid = case
    r = run_replication(scenario_of(data), seed=seed)
    p = r.prices["price_usd_per_kg"].to_numpy()
    assert np.isfinite(p).all() and (p > 0).all()
    (row,) = r.projects.itertuples()
    other = deepcopy(data)
    start = row.start_day
    built = start == start and start < horizon(data)
    event("built" if built else "not built")
    if built:  # within the horizon
        other["facilities"][fid].pop("invest")
        other["facilities"][fid]["start_date"] = day_date(int(start))
    else:  # never built (or after the end): a plant no price calls for
        other["facilities"][fid]["invest"]["incentive_price"] = 1e5
    note(f"plant {fid} starts on day {start}")
    s = run_replication(scenario_of(other), seed=seed)
    for name in ("timeseries", "flows", "production", "stockpiles", "prices"):
        pd.testing.assert_frame_equal(getattr(r, name), getattr(s, name), check_exact=True,
                                      obj=name)


# -- price floors ---------------------------------------------------------------------------
def _floor(floor: float, start: int = 50, end: int | None = None) -> dict:
    ev = {"type": "price_floor", "facilities": ["jp_mine"], "floor": floor,
          "start": date(start)}
    if end is not None:
        ev["end"] = date(end)
    return ev


def _started(r) -> float:
    return float(r.projects["start_day"].iloc[0])


def test_a_floor_above_the_incentive_builds_the_plant_without_a_shortage():
    """No ban: JP's price stays at 12 < 30, but a floor of 40 from day 50 is what the
    decision sees: committed on day 80 (30 days held), started on day 140; the market price
    itself does not move."""
    data = _data(ban=False)
    data["events"] = {"floor": _floor(40.0)}
    r = _run(data)
    assert r.projects.iloc[0]["committed_day"] == 80 and _started(r) == 140
    made = r.production[(r.production["facility"] == "jp_mine") & (r.production["tonnes"] > 0)]
    assert int(made["day"].min()) == 140
    calm = _run(_data(ban=False))
    pd.testing.assert_frame_equal(r.timeseries[r.timeseries["day"] < 140],
                                  calm.timeseries[calm.timeseries["day"] < 140])


@pytest.mark.parametrize(("floor", "end"), [(20.0, None), (40.0, 70)])
def test_a_floor_below_the_incentive_or_too_short_builds_nothing(floor, end):
    """A floor of 20 < 30 changes nothing; one that ends on day 70, before the 30 days
    from day 50 have passed, resets the clock."""
    data = _data(ban=False)
    data["events"] = {"floor": _floor(floor, end=end)}
    r = _run(data)
    assert r.projects["committed_day"].isna().all()
    pd.testing.assert_frame_equal(r.timeseries, _run(_data(ban=False)).timeseries)


def test_a_floor_names_only_plants_built_on_price():
    data = _data(ban=False)
    data["events"] = {"floor": {**_floor(40.0), "facilities": ["au_mine", "xx"]}}
    problems = {p.path: p.message for p in check_scenario(Scenario.model_validate(data))}
    assert "not built on price" in problems[("events", "floor", "facilities", 0)]
    assert "unknown facility 'xx'" in problems[("events", "floor", "facilities", 1)]


def test_run_folders_and_reports_hold_the_plants_built_on_price(tmp_path):
    """projects.csv (one row per replication and planned plant) in the run folder, and the
    report's "Plants built on price" section with the share built."""
    from simulator.report import write_report
    from simulator.runner import run_scenario, write_run

    sc = make_scenario(_data({"completion_probability": 0.5}))
    run_dir = write_run(run_scenario(sc, replications=4, seed=1), sc, out_root=tmp_path)
    projects = pd.read_csv(run_dir / "projects.csv")
    assert list(projects.columns) == ["replication", "facility", "committed_day", "completed",
                                      "start_day"]
    assert list(projects["replication"]) == [0, 1, 2, 3]
    assert (projects["facility"] == "jp_mine").all() and projects["committed_day"].notna().all()
    built = projects["completed"] == 1.0
    assert (projects.loc[built, "start_day"] == projects.loc[built, "committed_day"] + 60).all()
    assert projects.loc[~built, "start_day"].isna().all()
    page = write_report(run_dir).read_text(encoding="utf-8")
    assert 'href="#projects"' in page and 'id="projects"' in page
    assert f"{built.sum() / 4:.0%}" in page


def test_a_plant_takes_at_least_a_day_to_build():
    """A zero lead time is refused (before: a project committed on the first day with no lead
    time started on day 0 with no stock, whereas the same plant scripted for that date counts
    as one that existed before the run and holds its output cover: the two runs differed)."""
    import pydantic

    with pytest.raises(pydantic.ValidationError, match="lead_time_days"):
        Scenario.model_validate(_data({"lead_time_days": 0}))
    assert make_scenario(_data({"lead_time_days": 1}))


def _planned_metal_plant(incentive: float, end: str = "2028-07-01"):
    """The heavy-REE threat to mid-2028 with a planned Japanese Dy/Tb metal plant built on
    the ex-China Dy/Tb metal price (100 t/yr, 90 days sustained, a year to build)."""
    from pathlib import Path

    from simulator.scenario import load_scenario

    root = Path(__file__).resolve().parents[1] / "scenarios"
    plant = ('{"country": "JP", "recipe": "metal_dytb", "capacity_tpy": 100, "invest": '
             f'{{"material": "dytb_metal", "incentive_price": {incentive}, '
             '"sustained_days": 90, "lead_time_days": 365}}')
    return load_scenario(root / "china_heavy_ree_controls_2026.yaml",
                         [f"end_date={end}", f"facilities.jp_dytb_metal_planned={plant}"])


def test_a_plant_is_not_built_on_a_price_that_only_passes_its_inputs_cost_on():
    """A metal's price passes its oxide's cost on (markets.md, "Cost pass-through"); a metal
    plant that buys that oxide earns no more for it. Its investment decision sees the price
    net of its inputs' cost rise since their references: under the heavy-REE threat Japan's
    and the US's Dy/Tb metal price rises tenfold with its oxide, but the metal plant's
    margin does not, and a plant needing USD 800/kg (reference 521) is not committed; seeing
    the gross price it would be, within months of the licences. With both prices at their
    ceilings the net price is 10 x 521 - 1.2 x (10 x 417 - 417) = 706 USD/kg (ten times the
    reference margin plus the oxide's reference cost: the ceilings' doing, a modelling
    assumption), so a plant needing 600 is committed once the metal's own buyers there
    lift it to its ceiling (2027; with one export tier for every destination, the US and
    Japanese buyers' scarcity was diluted by the others' and it never was). In 2028 a
    licensed oxide lot lands in Japan while the metal's buyers are still short: the oxide
    falls back near its reference and the metal does not, a real margin (3,000-5,000 USD/kg
    for months) on which even a plant needing 800 is committed, so this test ends with
    2027. A plant needing less than the reference is committed as before."""
    import math

    r = run_replication(_planned_metal_plant(800, end="2028-01-01"), seed=0)
    px = r.prices[(r.prices["material"] == "dytb_metal") & (r.prices["market"] == "ex-CN:JP,US")]
    assert px["price_usd_per_kg"].max() > 5 * 800  # the gross price was far above it
    (row,) = r.projects.itertuples()
    assert math.isnan(row.committed_day)
    (row,) = run_replication(_planned_metal_plant(500), seed=0).projects.itertuples()
    assert row.committed_day < 200  # the reference 521 >= 500 from the start
