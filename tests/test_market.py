"""Prices from scarcity (engine/market.py, docs/markets.md), on the tiny network of
tests/test_events.py: AU sells ore to a JP demand sector (10 t/day, 10 days of cover)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine import run_replication
from simulator.engine.market import price_factor
from simulator.scenario.checks import check_scenario
from simulator.scenario.models import Market as MarketModel
from simulator.scenario.models import Scenario
from tests.conftest import deep_update, make_scenario
from tests.strategies import scenario_data, scenario_of
from tests.test_events import BASE, date

PRICED = {"market": {"home": "AU", "elasticity": 0.5, "adjustment_days": 20,
                     "prices": {"ore": {"domestic": 10.0, "export": 12.0}}},
          "demand": {"au_use": {"country": "AU", "sector": "ev", "material": "ore",
                                "rate_tpy": 365, "cover_days": 10}}}


def _run(patch: dict | None = None, step: int = 1):
    data = deep_update(deep_update(BASE, {"simulation": {"step_days": step, "warmup_days": 364},
                                          **PRICED}), patch or {})
    return run_replication(make_scenario(data), seed=1)


def _prices(r, market: str):
    p = r.prices[r.prices["market"] == market]
    return p.set_index("day")["price_usd_per_kg"]


def test_steady_state_trades_at_the_reference_price() -> None:
    r = _run()
    assert list(r.prices.columns) == ["day", "material", "market", "price_usd_per_kg"]
    assert set(r.prices["market"]) == {"AU", "ex-AU"}
    assert _prices(r, "AU").to_numpy() == pytest.approx(10.0, rel=1e-6)
    assert _prices(r, "ex-AU").to_numpy() == pytest.approx(12.0, rel=1e-6)


@pytest.mark.parametrize("step", [7, 14, 28])
def test_a_short_last_step_does_not_move_the_steady_price(step: int) -> None:
    """2024's last step has 2 days before the end date; its rows are scaled to them, and
    nothing else changes: the price stays at its reference. (A first version of the short
    last step simulated only its 2 days of use, so its buyers held the rest of the step's
    stock, which the price read as a glut: V7's baseline moved 0.09% on its last day. It
    also served those days from a whole step's lot, a fill the step's rate does not have.)
    At 28-day steps too (a short buyer's fill counts the lots landing in its step:
    ``test_no_event_no_premium_over_random_lanes_covers_and_steps``)."""
    r = _run(step=step)
    assert r.prices["day"].max() == 364
    assert _prices(r, "AU").to_numpy() == pytest.approx(10.0, rel=1e-6)
    assert _prices(r, "ex-AU").to_numpy() == pytest.approx(12.0, rel=1e-6)


def test_a_ban_raises_the_export_price_only_and_it_returns_after() -> None:
    """JP runs out 15 days into a 60-day ban (its cover and the 5 lots at sea): its price
    heads for the cap, ten times the reference, closing the log gap as exp(-t / 20) until
    the first lot after the ban lands (day 165); AU's buyers keep their supply."""
    ban = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "ban", "effective": date(100), "end": date(160)}
    r = _run({"events": {"ban": ban}})
    home, abroad = _prices(r, "AU"), _prices(r, "ex-AU:JP")
    assert home.to_numpy() == pytest.approx(10.0, rel=1e-6)
    assert abroad.loc[:100].to_numpy() == pytest.approx(12.0, rel=1e-6)
    assert abroad.loc[114] < abroad.loc[130] <= 120.0 + 1e-9
    assert 160 <= abroad.idxmax() <= 166 and 80.0 < abroad.max() < 120.0
    assert abroad.iloc[-1] == pytest.approx(12.0, rel=1e-3)  # back once JP is restocked


def test_a_tier_nobody_buys_in_is_priced_only_while_it_trades_with_others() -> None:
    """A ban on JP (days 100-160) splits the export market into ``ex-AU:JP`` and
    ``ex-AU``, the rest of the world, where nobody buys ore in this network: ``ex-AU`` is
    priced while it trades as one market with JP's (the same price), not during the ban,
    when its price is one nobody pays. (Until 2026-12-07 it was recorded throughout, at
    its trade link to AU's during the ban, and the demo's compare drew an ``ex-CN`` Dy/Tb
    oxide price that no buyer paid.) A US magnet plant buying ore from day 200 of a ban
    without end makes ``ex-AU`` priced again from its start day, and changes nothing
    recorded before it."""
    ban = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "ban", "effective": date(100), "end": date(160)}
    r = _run({"events": {"ban": ban}})
    wide = r.prices.pivot(index="day", columns="market", values="price_usd_per_kg")
    rest, jp = wide["ex-AU"], wide["ex-AU:JP"]
    assert rest.loc[100:159].isna().all() and rest.drop(range(100, 160)).notna().all()
    assert rest.loc[:99].equals(jp.loc[:99])  # one market before the ban; after it the
    gap = (rest - jp).abs()                    # two close as exp(-t / adjustment_days)
    assert gap.loc[365] < 0.01 * gap.loc[160]
    lasting = {**ban, "end": None}
    plant = {"recipes": {"magnets": {"stage": "magnet", "inputs": {"ore": 1.0},
                                     "outputs": {"magnet": 1.0}}},
             "facilities": {"us_magnets": {"country": "US", "recipe": "magnets",
                                           "capacity_tpy": 365, "start_date": date(200)}},
             "sourcing": {"us_ore": {"country": "US", "material": "ore",
                                     "suppliers": {"AU": 1.0}}},
             "demand": {"us_magnet_use": {"country": "US", "sector": "ev",
                                          "material": "magnet", "rate_tpy": 300}}}
    built = _run({"events": {"ban": lasting}, **plant})
    days = set(built.prices.loc[built.prices["market"] == "ex-AU", "day"])
    assert days == set(range(100)) | set(range(200, int(built.prices["day"].max()) + 1))
    without = _run({"events": {"ban": lasting}})

    def early(p):
        return p[p["day"] < 200].astype({"material": str, "market": str}).reset_index(drop=True)
    assert early(built.prices).equals(early(without.prices))


def test_the_export_price_never_falls_below_the_home_price_times_their_ratio() -> None:
    """A glut abroad (JP's demand halves) lowers the export price only down to the home
    price times 12/10: buyers abroad can always bid for the home market's ore."""
    shock = {"type": "demand_shock", "country": "JP", "multiplier": 0.1, "start": date(50)}
    r = _run({"events": {"s": shock}})
    assert (_prices(r, "ex-AU") >= _prices(r, "AU") * 1.2 - 1e-9).all()


def test_prices_change_nothing_else_and_no_market_records_none() -> None:
    ban = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "ban", "effective": date(100), "end": date(160)}
    priced = _run({"events": {"ban": ban}}, step=7)
    off = _run({"events": {"ban": ban}, "market": {"enabled": False}}, step=7)
    assert priced.timeseries.equals(off.timeseries) and priced.flows.equals(off.flows)
    assert off.prices.empty


@pytest.mark.parametrize("step", [1, 7, 28])
def test_adjustment_speed_is_the_same_whatever_the_step(step: int) -> None:
    """A price moves a share 1 - exp(-step / adjustment_days) of the log distance to its
    target per step: after a sudden, lasting scarcity the gap closes as exp(-t / 20) at any
    step."""
    ban = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "ban", "effective": date(56)}
    abroad = _prices(_run({"events": {"ban": ban}}, step=step), "ex-AU:JP")
    # from the first step JP is wholly short (its scarcity is 0: the target is the cap)
    short = _run({"events": {"ban": ban}}, step=step)
    ts = short.timeseries[short.timeseries["demand_id"] == "jp_use"].set_index("day")
    start = int(ts.index[(ts["delivered_t"] == 0) & (ts.index > 56)][0])
    days = 56
    gap = math.log(120.0) - math.log(abroad.loc[start + days])
    first_gap = math.log(120.0) - math.log(abroad.loc[start])
    assert gap == pytest.approx(first_gap * math.exp(-days / 20), rel=1e-9)


def test_a_lasting_half_supply_sets_nearly_the_same_price_whatever_the_step() -> None:
    """A quota of half JP's need from day 56: JP runs out and gets half its use every day.
    Its scarcity counts 7 days of use at that fill (``scarcity_window_days``) over 7 days'
    normal use plus its 10 days of cover, 3.5 / 17, and with elasticity 2 a daily run's
    price settles at 12 * (17 / 3.5) ** 0.5 = USD 26.4/kg. Until 2026-12-07 the window was
    the step (0.5 / 11 daily): the same shortage priced at USD 56.3/kg daily and 29.4 at 7-
    and 14-day steps (V4 with magnets priced read 5.3% more shortfall at 14-day steps than
    daily: its Chinese magnet price rose more slowly at longer steps). Then 26.4, 29.4 and
    30.4 at 1, 7 and 14 days: the price read the step's fill on its first day, before the
    step's later lots landed (JP's week's lot lands on its sixth day: a fill of 25 / 70 read
    where the step ends at 35 / 70). Since a short buyer's fill counts the lots on their way
    that land in its step, and its stock is read as days of its cover (docs/markets.md,
    "Equations"), 26.4 at every step, 28 days included."""
    quota = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
             "destinations": ["JP"], "mode": "quota", "quota_tpy": 1825.0,
             "effective": date(56)}
    settled = {}
    for step in (1, 7, 14, 28):
        r = _run({"events": {"q": quota}, "market": {"elasticity": 2.0}}, step=step)
        jp = r.timeseries[r.timeseries["demand_id"] == "jp_use"].set_index("day")
        late = jp.loc[200:]
        assert late["delivered_t"].sum() == pytest.approx(late["demand_t"].sum() / 2, rel=0.03)
        settled[step] = _prices(r, "ex-AU:JP").loc[250:].mean()
    assert settled[1] == pytest.approx(12.0 * (17 / 3.5) ** 0.5, rel=1e-3)
    assert settled[7] == pytest.approx(settled[1], rel=1e-4)
    assert settled[14] == pytest.approx(settled[1], rel=1e-4)
    assert settled[28] == pytest.approx(settled[1], rel=1e-4)


def test_unknown_material_and_home_are_errors() -> None:
    bad = deep_update(BASE, {"market": {"home": "FR", "prices": {"oar": {"domestic": 1}}}})
    problems = {p.path: p.message for p in check_scenario(Scenario.model_validate(bad))}
    assert problems == {("market", "home"): "unknown country 'FR'",
                        ("market", "prices", "oar"): "unknown material 'oar' (did you mean 'ore'?)"}


# -- properties over random networks with random events -------------------------------------
@settings(max_examples=15, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenario_data(), st.integers(0, 2**32 - 1), st.floats(0.1, 3.0),
       st.floats(1.0, 200.0), st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0))
def test_prices_are_positive_finite_linked_and_change_nothing(
        data: dict, seed: int, elasticity: float, adjustment_days: float,
        producer_stock_weight: float) -> None:
    """Every material priced, the first country as home, producers' stocks weighed or not:
    prices are positive and finite, the export price is never below the home price times the
    reference ratio, and every other output is bit-identical to the run without a market."""
    home = next(iter(data["countries"]))
    market = {"home": home, "elasticity": elasticity, "adjustment_days": adjustment_days,
              "producer_stock_weight": producer_stock_weight,
              "prices": {m: {"domestic": 10.0, "export": 13.0} for m in data["materials"]}}
    priced = run_replication(scenario_of({**data, "market": market}), seed=seed)
    plain = run_replication(scenario_of({**data, "market": {**market, "enabled": False}}),
                            seed=seed)
    for name in ("timeseries", "flows", "production", "stockpiles"):
        assert getattr(priced, name).equals(getattr(plain, name)), name
    p = priced.prices["price_usd_per_kg"].to_numpy()
    assert np.isfinite(p).all() and (p > 0).all()
    wide = priced.prices.pivot_table(index=["day", "material"], columns="market",
                                     values="price_usd_per_kg", observed=True)
    if {home, f"ex-{home}"} <= set(wide.columns):  # (a tier without buyers has no price)
        both = wide[[home, f"ex-{home}"]].dropna()
        assert (both[f"ex-{home}"] >= both[home] * 1.3 * (1 - 1e-12)).all()


def test_price_factor_is_the_power_law_within_its_cap() -> None:
    """target / reference at a given scarcity; found by the property above: with elasticity
    0.1 a tiny scarcity overflowed (scarcity ** -10) instead of giving the cap."""
    m = MarketModel(elasticity=0.5, surplus_elasticity=2.0, max_multiple=10.0)
    assert price_factor(1.0, m) == 1.0
    assert price_factor(0.5, m) == pytest.approx(4.0)       # 0.5 ** -2
    assert price_factor(4.0, m) == pytest.approx(0.5)       # 4 ** -0.5
    assert price_factor(0.0, m) == 10.0 and price_factor(0.2, m) == 10.0
    assert price_factor(1e6, m) == pytest.approx(0.1)
    steep = MarketModel(elasticity=0.1, max_multiple=10.0)
    assert price_factor(1e-40, steep) == 10.0


@pytest.mark.slow
def test_run_folders_hold_prices(tmp_path) -> None:
    """`critmin run` writes prices.parquet: the replay V7 scenario's two tiers, and an empty
    table with the same columns for a scenario with the market off."""
    import subprocess
    import sys

    import pandas as pd

    from simulator.runner.tables import columns

    root = Path(__file__).resolve().parents[1] / "scenarios"
    for name, rows in (("prices_2025_04", True), ("baseline", False)):
        off = [] if rows else ["--set", "market.enabled=false"]
        out = subprocess.run([sys.executable, "-m", "simulator", "run", str(root / f"{name}.yaml"),
                              "-n", "2", "-j", "2", "--out", str(tmp_path),
                              "--set", "end_date=2025-07-01", *off],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        (path,) = (tmp_path / name).glob("*/prices.parquet")
        p = pd.read_parquet(path)
        assert list(p.columns) == columns("prices")
        if rows:
            assert set(p["market"]) == {"CN", "ex-CN"} and set(p["replication"]) == {0, 1}
            assert (p["price_usd_per_kg"] > 0).all()
        else:
            assert p.empty


@pytest.mark.slow
def test_report_shows_prices(tmp_path) -> None:
    """`critmin report` on a run with prices draws the price figure."""
    from tests.conftest import critmin_in_process

    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "prices_2025_04.yaml"
    # -j 1: in-process, a pool the default -j may start would be a forkserver's (threads)
    run = critmin_in_process("run", str(scenario), "-n", "2", "-j", "1", "--out",
                             str(tmp_path), "--set", "end_date=2026-01-01")
    assert run.returncode == 0, run.stderr
    (folder,) = (tmp_path / "prices_2025_04").iterdir()
    rep = critmin_in_process("report", str(folder))
    assert rep.returncode == 0, rep.stderr
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert 'id="fig-prices"' in html and "prices.parquet" in html


@pytest.mark.slow
def test_compare_overlays_prices(tmp_path) -> None:
    """`critmin compare` draws one price overlay per priced material, in its report too; a
    scenario without a market is named as such."""
    from matplotlib.figure import Figure

    from simulator.viz.prices import price_overlay_figure
    from tests.conftest import critmin_in_process

    root = Path(__file__).resolve().parents[1] / "scenarios"
    out = critmin_in_process("compare", str(root / "china_controls_2025_04.yaml"),
                             str(root / "prices_2025_04.yaml"), "-n", "2", "-j", "1",
                             "--out", str(tmp_path), "--set", "end_date=2025-10-01")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "overlay_prices_dytb_oxide.png").is_file()
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="overlay-prices-dytb_oxide"' in html
    r = run_replication(make_scenario(deep_update(BASE, {**PRICED})), seed=1)
    prices = r.prices.assign(replication=0, date=pd_dates(r.prices["day"]))
    fig = price_overlay_figure({"plain": prices.iloc[:0], "priced": prices}, "ore",
                               window=None)
    assert isinstance(fig, Figure)
    assert "1 of 2 scenarios price it; not plain" in fig.get_suptitle()
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["market AU", "market ex-AU"]


def pd_dates(days):
    import pandas as pd

    return pd.Timestamp("2024-01-01") + pd.to_timedelta(days.astype("int64"), unit="D")


def test_the_shipped_baseline_prices_oxides_metals_and_magnets_and_changes_no_tonnes() -> None:
    """The baseline prices NdPr and Dy/Tb oxide and metal, and magnets (sources.csv), at
    their reference in its steady state; its prices alone change no tonnes (the market off
    changes no other output once thrifting is off too), and its thrifting, on by default,
    removes practically nothing in a steady state without a shock: 5e-4 t of the world's
    200,470 t in half a year (the magnet users thrift on the steady state's price moves, a
    few millionths of the reference: V7's check 5)."""
    from simulator.scenario import load_scenario

    root = Path(__file__).resolve().parents[1] / "scenarios"
    default = load_scenario(root / "baseline.yaml", ["end_date=2024-07-01"])
    thrift = default.market.demand_response.default.thrifting
    assert thrift.max_share > 0.0 and thrift.time_constant_days == 1095  # on by default
    on = load_scenario(root / "baseline.yaml", [
        "end_date=2024-07-01", "market.demand_response.default.thrifting.max_share=0"])
    off = load_scenario(root / "baseline.yaml", ["end_date=2024-07-01", "market.enabled=false"])
    a, b = run_replication(on, seed=0), run_replication(off, seed=0)
    steady = run_replication(default, seed=0).timeseries
    assert steady["thrifted_t"].sum() < 1e-3  # t, over half a year of the whole world
    assert (steady["demand_t"] + steady["thrifted_t"]).sum() == pytest.approx(
        a.timeseries["demand_t"].sum(), rel=1e-12)
    assert set(a.prices["material"]) == {"ndpr_oxide", "dytb_oxide", "ndpr_metal",
                                         "dytb_metal", "ndfeb_magnet"}
    ref = {("ndpr_oxide", "CN"): 52, ("ndpr_oxide", "ex-CN"): 52, ("dytb_oxide", "CN"): 334,
           ("dytb_oxide", "ex-CN"): 417, ("ndpr_metal", "CN"): 65, ("ndpr_metal", "ex-CN"): 65,
           ("dytb_metal", "CN"): 418, ("dytb_metal", "ex-CN"): 521,
           ("ndfeb_magnet", "CN"): 49, ("ndfeb_magnet", "ex-CN"): 49}
    for (m, tier), price in ref.items():
        got = a.prices[(a.prices["material"] == m) & (a.prices["market"] == tier)]
        assert got["price_usd_per_kg"].to_numpy() == pytest.approx(price, rel=0.02), (m, tier)
    for name in ("timeseries", "flows", "production", "stockpiles"):
        assert getattr(a, name).equals(getattr(b, name)), name
    assert b.prices.empty


def test_value_at_risk_is_the_shortfall_at_the_buyers_tier_price() -> None:
    """value_at_risk_usd = sum over steps of shortfall (t) x 1000 x the step's price of the
    sector's material in its country's tier (JP: ex-AU; AU's own users: AU), by hand from
    the run's tables; NaN without prices."""
    from simulator.analysis.metrics import replication_metrics

    ban = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "ban", "effective": date(100), "end": date(160)}
    r = _run({"events": {"ban": ban}})
    data = deep_update(deep_update(BASE, {"simulation": {"step_days": 1, "warmup_days": 364},
                                          **PRICED}), {"events": {"ban": ban}})
    sc = make_scenario(data)
    m = replication_metrics(r.timeseries, sc, prices=r.prices).set_index("demand_id")
    ts = r.timeseries[r.timeseries["demand_id"] == "jp_use"].set_index("day")
    px = _prices(r, "ex-AU:JP")
    by_hand = float((ts["shortfall_t"] * 1000 * px.reindex(ts.index)).sum())
    assert ts["shortfall_t"].sum() > 0 and by_hand > 0
    assert m.loc["jp_use", "value_at_risk_usd"] == pytest.approx(by_hand, rel=1e-12)
    assert m.loc["au_use", "value_at_risk_usd"] == 0.0  # priced, never short
    plain = replication_metrics(r.timeseries, sc)
    assert plain["value_at_risk_usd"].isna().all()


# -- demand response (issue 12 item 2, step a: short-run price elasticity) -------------------
def test_demand_at_four_times_the_reference_price_halves_with_elasticity_half() -> None:
    """A lasting ban on JP with the price capped at 4x: JP's price tends to 4 x 12 USD/kg,
    so with e_short = 0.5 its demand tends to 10 * 4 ** -0.5 = 5 t/day; each day's demand is
    10 t times (yesterday's price / 12) ** -0.5 (causal) and the rest is destroyed by price,
    not short; AU's sector (the same sector) follows AU's own price."""
    ban = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "ban", "effective": date(56)}
    patch = {"events": {"ban": ban},
             "market": {"max_multiple": 4.0,
                        "demand_response": {"sectors": {"ev": {"elasticity": 0.5}}}}}
    data = deep_update(deep_update(BASE, {"simulation": {"step_days": 1, "warmup_days": 364},
                                          **PRICED}), patch)
    data["demand"]["jp_use"]["sector"] = "ev"
    r = run_replication(make_scenario(data), seed=1)
    ts = r.timeseries[r.timeseries["demand_id"] == "jp_use"].set_index("day")
    price = _prices(r, "ex-AU:JP")
    expected = 10.0 * (price.shift(1) / 12.0) ** -0.5  # day 0's is the warm-up's last price
    assert ts["demand_t"].iloc[1:].to_numpy() == pytest.approx(expected.iloc[1:].to_numpy(),
                                                               rel=1e-12)
    assert (ts["demand_t"] + ts["destroyed_t"]).to_numpy() == pytest.approx(10.0, rel=1e-12)
    assert ts["demand_t"].iloc[-1] == pytest.approx(5.0, rel=1e-4)   # 4 ** -0.5 = 0.5
    assert (ts["shortfall_t"] == ts["demand_t"] - ts["delivered_t"]).all()
    au = r.timeseries[r.timeseries["demand_id"] == "au_use"]
    home = _prices(r, "AU").shift(1) / 10.0
    assert au["demand_t"].iloc[1:].to_numpy() == pytest.approx(
        (home ** -0.5).iloc[1:].to_numpy(), rel=1e-12)   # its own tier's price


def test_elasticity_zero_and_market_off_are_the_rule_only_run() -> None:
    """Default response (none), a response on an unpriced run (market off) and no market at
    all give the same outputs; destroyed_t is 0 throughout."""
    ban = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "ban", "effective": date(100), "end": date(160)}
    respond = {"demand_response": {"default": {"elasticity": 0.7}}}
    default = _run({"events": {"ban": ban}}, step=7)
    off = _run({"events": {"ban": ban}, "market": {"enabled": False, **respond}}, step=7)
    assert default.timeseries.equals(off.timeseries) and default.flows.equals(off.flows)
    assert (off.timeseries["destroyed_t"] == 0.0).all()
    on = _run({"events": {"ban": ban}, "market": respond}, step=7)
    assert on.timeseries["destroyed_t"].sum() > 0.0
    calm = _run({"market": respond}, step=7)  # causality: the ban changes nothing before day 100
    assert on.timeseries.loc[on.timeseries["day"] < 100].equals(
        calm.timeseries.loc[calm.timeseries["day"] < 100])
    # the ban gives JP a tier of its own, trading as one with ex-AU until the ban starts
    def wide(r):
        p = r.prices[r.prices["day"] < 100]
        return p.pivot(index="day", columns="market", values="price_usd_per_kg")
    ban_px, calm_px = wide(on), wide(calm)
    for tier, same in (("AU", "AU"), ("ex-AU", "ex-AU"), ("ex-AU:JP", "ex-AU")):
        assert ban_px[tier].to_numpy().tolist() == calm_px[same].to_numpy().tolist(), tier


def test_unknown_response_sector_is_an_error() -> None:
    bad = deep_update(BASE, {"market": {"demand_response": {"sectors": {"evv": {}}}}})
    problems = {p.path: p.message for p in check_scenario(Scenario.model_validate(bad))}
    assert ("market", "demand_response", "sectors", "evv") in problems


@settings(max_examples=10, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenario_data(), st.integers(0, 2**32 - 1), st.floats(0.05, 3.0))
def test_demand_response_keeps_prices_finite_and_tonnes_consistent(
        data: dict, seed: int, e_short: float) -> None:
    """Random networks with random events, every sector responding: prices positive and
    finite, no negative or NaN tonnes, demand + destroyed equal the run without response's
    demand where no shortfall came before (same draws: paired randomness), mass balance
    (run_replication raises otherwise)."""
    home = next(iter(data["countries"]))
    market = {"home": home,
              "prices": {m: {"domestic": 10.0, "export": 13.0} for m in data["materials"]}}
    resp = run_replication(scenario_of({**data, "market": {
        **market, "demand_response": {"default": {"elasticity": e_short}}}}), seed=seed)
    p = resp.prices["price_usd_per_kg"].to_numpy()
    assert np.isfinite(p).all() and (p > 0).all()
    ts = resp.timeseries
    for col in ("demand_t", "delivered_t", "shortfall_t", "destroyed_t", "inventory_t"):
        v = ts[col].to_numpy()
        assert np.isfinite(v).all() and (v >= -1e-9).all(), col
    assert (ts["delivered_t"] <= ts["demand_t"] + 1e-9).all()


def test_metrics_report_destroyed_demand_apart_from_shortfall() -> None:
    """metrics.csv's demand_destroyed_t is the sum of destroyed_t; fill rate and shortfall
    are on the price-reduced demand."""
    from simulator.analysis.metrics import replication_metrics

    ban = {"type": "export_control", "exporter": "AU", "materials": ["ore"],
           "destinations": ["JP"], "mode": "ban", "effective": date(100), "end": date(160)}
    data = deep_update(deep_update(BASE, {"simulation": {"step_days": 7}, **PRICED}),
                       {"events": {"ban": ban},
                        "market": {"demand_response": {"default": {"elasticity": 0.5}}}})
    scenario = make_scenario(data)
    r = run_replication(scenario, seed=1)
    m = replication_metrics(r.timeseries, scenario).set_index("demand_id")
    jp = r.timeseries[r.timeseries["demand_id"] == "jp_use"]
    assert m.loc["jp_use", "demand_destroyed_t"] == pytest.approx(jp["destroyed_t"].sum())
    assert m.loc["jp_use", "demand_destroyed_t"] > 0
    assert m.loc["jp_use", "demand_t"] == pytest.approx(jp["demand_t"].sum())
    assert m.loc["jp_use", "cumulative_shortfall_t"] == pytest.approx(jp["shortfall_t"].sum())


@pytest.mark.parametrize("name", ["china_heavy_ree_controls_2026", "china_controls_2025_04"])
def test_the_shipped_thrifting_cuts_every_countrys_shortage(name: str) -> None:
    """Under the shipped shocks, the baseline's thrifting cuts the total shortage and every
    country's (same draws). Not every sector's: a sector's orders and allocations move with
    its neighbours' thrifting. Under the heavy-REE threat, US civil users thrift, the US
    magnet plants order less Dy/Tb and the US gets less of the rationed supply, so US defense
    users, served by the same plants, drain their reserve a year sooner: 444 t short against
    344 t without thrifting (replication 0; docs/markets.md, "Read fill rates with the
    tonnes"). A country's shortage may move the same way by a little: under the April 2025
    shock, with magnets priced (2026-12-07), Japan's users design out 1,137 t and Japan's EV
    and electronics users are 1.05 t and 0.24 t more short in June 2025 (its magnet plants,
    ordering less Dy/Tb, got less of the licensed supply): 1.35 t, 0.7% of Japan's 183 t
    (before magnets were priced: 0.02 t)."""
    from simulator.scenario import load_scenario

    root = Path(__file__).resolve().parents[1] / "scenarios"
    runs = {}
    off_sets = ["market.demand_response.default.thrifting.max_share=0"]
    for label, sets in (("on", []), ("off", off_sets)):
        ts = run_replication(load_scenario(root / f"{name}.yaml", sets), seed=0).timeseries
        runs[label] = ts.groupby("country", observed=True)[["shortfall_t", "thrifted_t"]].sum()
    on, off = runs["on"].align(runs["off"])
    assert on["thrifted_t"].sum() > 100.0 and off["thrifted_t"].sum() == 0.0
    assert on["shortfall_t"].sum() < off["shortfall_t"].sum()
    worse = on["shortfall_t"] - off["shortfall_t"] - 0.01 * off["shortfall_t"]
    assert worse.max() <= 0.5, worse.idxmax()  # t beyond 1% (April 2025: JP 1.35 t of 183)


@pytest.mark.parametrize("step", [1, 7, 14])
@pytest.mark.parametrize("lead", [5, 10, 14, 24])
def test_no_event_no_premium_whatever_the_lane_and_the_step(lead: int, step: int) -> None:
    """With no event the price stays at its reference, at any step and lead time. A buyer
    whose lane is not a whole number of steps plans its lead as it is, so in steady state it
    holds less than ``cover_days`` after a step's use (engine.md, step 5); the normal supply
    the scarcity compares with must say so. It did not: with a 10-day lane at weekly steps
    the export price sat at 20.5 USD/kg against its reference of 12 for the whole run, with
    nobody short (17.3 with a 24-day lane at 14-day steps; found 2026-12-06 on the licence
    test chain of tests/test_step_timing.py: 15.0 against 10)."""
    data = deep_update(BASE, {"simulation": {"step_days": step, "warmup_days": 364},
                              "lead_times": {"default_days": lead}, **PRICED})
    r = run_replication(make_scenario(data), seed=1)
    assert r.timeseries["shortfall_t"].sum() == 0.0
    ref = PRICED["market"]["prices"]["ore"]["export"]
    p = r.prices.loc[r.prices["market"] != "AU", "price_usd_per_kg"]
    assert p.max() == pytest.approx(ref, rel=0.01)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(step=st.integers(1, 28), lead=st.integers(0, 60), domestic=st.integers(0, 40),
       share=st.sampled_from([0.0, 0.3, 0.5, 1.0]), cover=st.integers(1, 60),
       au_cover=st.integers(1, 60))
def test_no_event_no_premium_over_random_lanes_covers_and_steps(
        step: int, lead: int, domestic: int, share: float, cover: int, au_cover: int) -> None:
    """With no event and nobody short, every price stays at its reference whatever the
    step, the lanes (a share from a domestic mine on its own lane) and the buyers' covers.
    A buyer whose cover is shorter than the wait for its next lot runs short at each step's
    start and is served by lots that land later in the step, as a daily run would serve
    it: nothing is short, but until 2026-12-07 the price read the step day's fill (and the
    stock of a buyer that plans to hold nothing after a step's use) as scarcity: with 2-day
    steps, same-day lanes and a day of cover both tiers sat at 4 times their references
    (elasticity 0.5: a fill of 1/2)."""
    patch: dict = {
        "simulation": {"step_days": step, "warmup_days": 364},
        "lead_times": {"default_days": lead, "domestic_days": domestic},
        **PRICED,
        "demand": {"au_use": {**PRICED["demand"]["au_use"], "cover_days": au_cover},
                   "jp_use": {"cover_days": cover}}}
    if share > 0.0:
        patch["facilities"] = {"jp_mine": {"country": "JP", "recipe": "mining",
                                           "capacity_tpy": 36500}}
        patch["sourcing"] = {"jp_ore": {"suppliers": {"AU": 1.0 - share, "JP": share}}}
    r = run_replication(make_scenario(deep_update(BASE, patch)), seed=1)
    assert r.timeseries["shortfall_t"].sum() < 1e-9  # (rounding: 6e-13 t once)
    refs = PRICED["market"]["prices"]["ore"]
    for market, prices in r.prices.groupby("market")["price_usd_per_kg"]:
        ref = refs["domestic"] if market == "AU" else refs["export"]
        assert prices.to_numpy() == pytest.approx(ref, rel=1e-3), (market, prices.max())


def test_no_premium_for_a_buyer_with_a_same_day_lane_and_a_longer_one() -> None:
    """The same with JP buying half from a domestic mine on a 0-day lane (planned as a step,
    it lacks nothing after a step's use) and half on a 10-day lane (4 days short at weekly
    steps). The buyer's slack is the lanes' own, weighted: netting the 0-day lane's surplus
    of planning against the other's shortfall held the export price at 15.4 against 12."""
    data = deep_update(BASE, {
        "simulation": {"step_days": 7, "warmup_days": 364},
        "facilities": {"jp_mine": {"country": "JP", "recipe": "mining", "capacity_tpy": 36500}},
        "sourcing": {"jp_ore": {"suppliers": {"AU": 0.5, "JP": 0.5}}},
        "lead_times": {"default_days": 10, "domestic_days": 0}, **PRICED})
    r = run_replication(make_scenario(data), seed=1)
    assert r.timeseries["shortfall_t"].sum() == 0.0
    p = r.prices.loc[r.prices["market"] != "AU", "price_usd_per_kg"]
    assert p.max() == pytest.approx(PRICED["market"]["prices"]["ore"]["export"], rel=0.01)


def test_a_metal_is_never_cheaper_than_its_reference_plus_its_oxides_rise() -> None:
    """Cost pass-through: a priced product made from priced inputs costs at least its
    reference plus what its inputs cost more than at their references (same tier, per its
    recipe). Under the heavy-REE threat the ex-China Dy/Tb oxide went to its ceiling (about
    USD 4,100/kg) while Dy/Tb metal, made from 1.2 kg of it per kg, sold at 1,100: its
    buyers, the magnet plants, were no scarcer than before, so nothing lifted it. A metal
    plant does not sell below what its oxide costs it."""
    from simulator.scenario import load_scenario

    root = Path(__file__).resolve().parents[1] / "scenarios"
    scenario = load_scenario(root / "china_heavy_ree_controls_2026.yaml",
                             ["end_date=2027-07-01"])
    px = run_replication(scenario, seed=0).prices.pivot_table(
        index=["day", "market"], columns="material", values="price_usd_per_kg")
    refs = {("CN", "ndpr"): (52, 65), ("ex-CN", "ndpr"): (52, 65),
            ("CN", "dytb"): (334, 418), ("ex-CN", "dytb"): (417, 521),
            ("ex-CN:JP,US", "dytb"): (417, 521)}
    for (tier, el), (oxide_ref, metal_ref) in refs.items():
        # (nobody outside CN, JP and US buys Dy/Tb oxide: its ex-CN tier has no price
        # once the licences set JP and US apart; the metal's floor is checked before)
        p = px.xs(tier, level="market").dropna(subset=[f"{el}_oxide"])
        floor = metal_ref + 1.2 * (p[f"{el}_oxide"] - oxide_ref)
        assert (p[f"{el}_metal"] >= floor * (1 - 1e-12)).all(), (tier, el)
    dytb = px.xs("ex-CN:JP,US", level="market")  # the licences' destinations
    assert dytb["dytb_oxide"].max() > 4 * 417  # the threat did lift the oxide
    assert dytb["dytb_metal"].max() > 1.2 * 4 * 417
    # before the threat (no event on Dy/Tb) every price is its reference (to the warm-up's
    # residual: 1.1e-6 of it on the start date with an 8-day adjustment)
    early = px[px.index.get_level_values("day") < 600]
    for tier in ("ex-CN", "ex-CN:JP,US"):
        assert early.loc[(slice(None), tier), "dytb_metal"].to_numpy() == pytest.approx(
            521, rel=1e-5)


@settings(max_examples=200, deadline=None)
@given(ref=st.floats(0.01, 1e5), refs=st.lists(st.floats(0.01, 1e5), min_size=1, max_size=3),
       coefs=st.lists(st.floats(0.001, 10.0), min_size=3, max_size=3))
def test_the_cost_floor_at_the_references_is_the_reference_exactly(ref, refs, coefs) -> None:
    """With its inputs at their references, a product's cost floor is its reference to the
    bit, so pass-through never lifts a price (nor, through it, thrifting or a plant's
    decision) without an event; ``reference - cost + cost`` rounds away from it (e.g.
    0.3 + 0.1 - 0.1)."""
    from simulator.engine.market import PriceIndex

    product = PriceIndex("metal", "world", ref, [])
    inputs = [PriceIndex(f"oxide{i}", "world", r, []) for i, r in enumerate(refs)]
    product.routes = [[((index,), coef) for index, coef in zip(inputs, coefs, strict=False)]]
    assert product.cost_floor() == ref
    assert product.passed_on() == 0.0
