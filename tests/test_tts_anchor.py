"""Time to first shortfall is counted from the event that reduces each sector's supply.

Issue 11, defect 10: the demo's threat scenario counted it from a 2025 Chinese tariff on US
concentrate (622 days) instead of from the 2026 licences that cause the shortfall.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.analysis import Anchor, replication_metrics, summarize, tts_anchors
from simulator.report import sector_timeseries
from simulator.scenario import load_scenario
from tests.conftest import make_scenario
from tests.test_compare_cli import critmin

ROOT = Path(__file__).resolve().parents[1]
THREAT = ROOT / "scenarios" / "china_heavy_ree_controls_2026.yaml"

# AU mine -> MY refinery -> JP ev demand (tests/conftest.py). Malaysia taxes Australian ore
# from 15 Jan 2024 (day 14) and bans oxide exports to Japan from 4 Mar 2024 (day 63).
TARIFF_THEN_BAN = {
    "my_ore_tariff": {"type": "tariff", "importers": ["MY"], "exporters": ["AU"],
                      "materials": ["ore"], "rate": 0.25, "start": "2024-01-15"},
    "my_oxide_ban": {"type": "export_control", "exporter": "MY", "materials": ["oxide"],
                     "destinations": ["JP"], "mode": "ban", "effective": "2024-03-04"},
}
BAN_DAY, TARIFF_DAY = 63, 14


@pytest.fixture(scope="module")
def tariff_then_ban():
    return make_scenario(events=TARIFF_THEN_BAN)


def series(demand: list[float], delivered: list[float], *, did: str = "jp_ev",
           country: str = "JP", sector: str = "ev", material: str = "oxide",
           start: str = "2024-01-01") -> pd.DataFrame:
    """One replication's weekly time series of one demand sector."""
    days = np.arange(len(demand)) * 7
    dem, dlv = np.asarray(demand, float), np.asarray(delivered, float)
    return pd.DataFrame({
        "replication": np.int32(0), "day": days.astype(np.int32),
        "date": pd.Timestamp(start) + pd.to_timedelta(days, unit="D"),
        "country": country, "sector": sector, "demand_id": did, "material": material,
        "demand_t": dem, "delivered_t": dlv, "shortfall_t": dem - dlv, "stockpile_t": 0.0})


# first short step on day 84 (step 12); a little noise short on day 21, before the ban
SHORT_FROM_84 = series([10.0] * 16, [10.0] * 3 + [9.0] + [10.0] * 8 + [4.0] * 4)


# --------------------------------------------------------------------------- the default

def test_default_anchor_is_the_export_control_not_the_earlier_upstream_tariff(tariff_then_ban):
    r = replication_metrics(SHORT_FROM_84, tariff_then_ban).iloc[0]
    # counted from the ban (day 63), not from Malaysia's tariff on its own ore (day 14)
    assert r["time_to_survive_days"] == 84 - BAN_DAY == 21
    assert r["tts_anchor_event"] == "my_oxide_ban"
    assert r["tts_anchor_date"] == pd.Timestamp("2024-03-04")
    assert tts_anchors(tariff_then_ban) == {
        "jp_ev": Anchor("my_oxide_ban", dt.date(2024, 3, 4))}


def test_named_anchor_known_answer(tariff_then_ban):
    """--disruption my_ore_tariff: day 14 -> first shortfall after it on day 21 (noise)."""
    r = replication_metrics(SHORT_FROM_84, tariff_then_ban, event_id="my_ore_tariff").iloc[0]
    assert r["time_to_survive_days"] == 21 - TARIFF_DAY == 7
    assert r["tts_anchor_event"] == "my_ore_tariff"
    assert r["tts_anchor_date"] == pd.Timestamp("2024-01-15")
    # a ban from mid-step (Wed 6 Mar = day 65) is first felt in the next step, day 70
    later = make_scenario(events={"ban": {**TARIFF_THEN_BAN["my_oxide_ban"],
                                          "effective": "2024-03-06"}})
    short70 = series([10.0] * 12, [10.0] * 10 + [0.0, 0.0])
    assert replication_metrics(short70, later).iloc[0]["time_to_survive_days"] == 70 - 65


def test_unknown_event_lists_the_known_ids(tariff_then_ban):
    with pytest.raises(KeyError, match=r"no event 'nope'.*my_ore_tariff, my_oxide_ban"):
        replication_metrics(SHORT_FROM_84, tariff_then_ban, event_id="nope")


def test_demo_threat_anchors_us_and_japan_on_the_licences():
    sc = load_scenario(THREAT)
    anchors = tts_anchors(sc)
    licences = Anchor("cn_heavy_ree_licences_2026", dt.date(2026, 10, 30))
    for did in sc.demand:
        if did.startswith(("us_magnet_", "jp_magnet_")):
            assert anchors[did] == licences, did
    # the 2025 tariff re-sources Chinese separators: no one's magnet or oxide purchases are
    # taxed, and US and Japanese oxide users get no Dy/Tb: nothing reduces their supply
    assert anchors["cn_magnet_ev"] is None
    assert anchors["us_oxide_catalysts"] is None and anchors["jp_oxide_glass"] is None
    # on a series of the demo, the time to survive is counted from 30 Oct 2026 (day 1033)
    ts = series([10.0] * 160, [10.0] * 152 + [5.0] * 8, did="us_magnet_ev", country="US",
                material="ndfeb_magnet")
    r = replication_metrics(ts, sc).iloc[0]
    assert r["tts_anchor_event"] == "cn_heavy_ree_licences_2026"
    assert r["time_to_survive_days"] == 152 * 7 - sc.day_of(dt.date(2026, 10, 30)) == 31
    # summed over countries (compare's sector level), EV users count from the licences too
    ev = replication_metrics(sector_timeseries(ts), sc).iloc[0]
    assert (ev["tts_anchor_event"], ev["time_to_survive_days"]) == (
        "cn_heavy_ree_licences_2026", 31)


# --------------------------------------------------------------------------- which events

CHAIN_EVENTS = {
    "boom": {"type": "demand_shock", "demand": ["jp_ev"], "multiplier": 1.3,
             "start": "2024-01-08"},
    "deal": {"type": "cooperation_agreement", "members": ["JP", "AU"], "signed": "2024-01-08"},
    "breakdowns": {"type": "facility_outage", "facilities": ["au_mine"],
                   "random": {"failures_per_year": 2, "mean_repair_days": 10}},
    "ban_to_au": {"type": "export_control", "exporter": "MY", "materials": ["oxide"],
                  "destinations": ["AU"], "mode": "ban", "effective": "2024-01-15"},
    "subsidy": {"type": "tariff", "importers": ["JP"], "exporters": ["MY"], "rate": -0.1,
                "start": "2024-01-22"},
    "au_jp_strike": {"type": "logistics_disruption", "origin": "AU", "destination": "JP",
                     "start": "2024-01-29", "extra_days": 30},
}


@pytest.mark.parametrize(("event", "date"), [
    ({"type": "facility_outage", "country": "AU", "stage": "mine", "start": "2024-02-05",
      "duration_days": 30}, "2024-02-05"),                       # upstream plant
    ({"type": "logistics_disruption", "origin": "MY", "start": "2024-02-05",
      "capacity_tpy": 100}, "2024-02-05"),                       # the route it buys on
    ({"type": "logistics_disruption", "destination": "MY", "materials": ["ore"],
      "start": "2024-02-05", "extra_days": 14}, "2024-02-05"),   # an upstream route
    ({"type": "tariff", "importers": ["JP"], "exporters": ["MY"], "materials": ["oxide"],
      "rate": 0.3, "start": "2024-02-05"}, "2024-02-05"),        # its own country's tariff
    ({"type": "export_control", "exporter": "AU", "materials": ["ore"], "mode": "quota",
      "quota_tpy": 10, "effective": "2024-02-05"}, "2024-02-05"),  # upstream input
    (None, None),                                                 # nothing reduces supply
])
def test_what_counts_as_reducing_supply(event, date):
    """Demand shocks, responses, random outages, subsidies, controls on other destinations
    and routes the sector does not use are never the anchor; the parametrized event is."""
    events = dict(CHAIN_EVENTS, **({"x": event} if event else {}))
    got = tts_anchors(make_scenario(events=events))["jp_ev"]
    assert got == (Anchor("x", dt.date.fromisoformat(date)) if event else None)


def test_elements_and_destinations_of_export_controls():
    dy = make_scenario(materials={"oxide": {"stage": "separation", "elements": {"Dy": 0.02}}},
                       events={"dy": {"type": "export_control", "exporter": "MY",
                                      "elements": ["Dy"], "mode": "ban",
                                      "destinations": {"all_except": ["AU"]},
                                      "effective": "2024-02-05"}})
    assert tts_anchors(dy)["jp_ev"] == Anchor("dy", dt.date(2024, 2, 5))
    tb = make_scenario(materials={"ore": {"stage": "mine", "elements": {"Tb": 0.01}}},
                       events={"tb": {"type": "export_control", "exporter": "MY",
                                      "elements": ["Tb"], "mode": "ban",
                                      "effective": "2024-02-05"}})
    assert tts_anchors(tb)["jp_ev"] is None  # MY's oxide holds no Tb; it sells no ore


def test_no_anchor_means_no_time_to_survive():
    sc = make_scenario(events=CHAIN_EVENTS)
    m = replication_metrics(SHORT_FROM_84, sc)
    assert math.isnan(m.iloc[0]["time_to_survive_days"])
    assert m.iloc[0]["tts_anchor_event"] == "" and pd.isna(m.iloc[0]["tts_anchor_date"])
    s = summarize(m).set_index("metric")
    assert s.loc["time_to_survive_days", "tts_anchor_event"] == ""
    assert math.isnan(s.loc["time_to_survive_days", "p50"])


def test_summary_and_sector_level_state_the_anchor(tariff_then_ban):
    m = replication_metrics(SHORT_FROM_84, tariff_then_ban)
    s = summarize(m).set_index("metric")
    assert s.loc["time_to_survive_days", "tts_anchor_event"] == "my_oxide_ban"
    assert s.loc["time_to_survive_days", "tts_anchor_date"] == "2024-03-04"
    assert s.loc["fill_rate", "tts_anchor_event"] == ""  # only on the rows it concerns
    # summed over countries: the earliest anchor among the sector's demand sectors
    sec = replication_metrics(sector_timeseries(SHORT_FROM_84), tariff_then_ban).iloc[0]
    assert (sec["demand_id"], sec["tts_anchor_event"]) == ("ev", "my_oxide_ban")
    assert sec["time_to_survive_days"] == 21


# --------------------------------------------------------------------------- the CLI

@pytest.fixture(scope="module")
def tiny_ban(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("anchor")
    text = (ROOT / "tests" / "fixtures" / "tiny.yaml").read_text()
    text = text.replace("name: tiny", "name: tiny_ban") + (
        "events:\n"
        "  my_ore_tariff: {type: tariff, importers: [MY], exporters: [AU], materials: [ore],\n"
        "                  rate: 0.25, start: 2024-01-15}\n"
        "  my_oxide_ban: {type: export_control, exporter: MY, materials: [oxide],\n"
        "                 destinations: [JP], mode: ban, effective: 2024-03-04,\n"
        "                 end: 2024-06-03}\n")
    (folder / "tiny_ban.yaml").write_text(text)
    return folder


def test_cli_run_with_and_without_disruption(tiny_ban):
    runs = {}
    for name, extra in (("default", []), ("named", ["--disruption", "my_ore_tariff"])):
        res = critmin("run", "tiny_ban.yaml", "-j", "1", "--out", name, *extra, cwd=tiny_ban)
        assert res.returncode == 0, res.stderr
        (run_dir,) = (tiny_ban / name / "tiny_ban").iterdir()
        runs[name] = run_dir
    m0 = pd.read_csv(runs["default"] / "metrics.csv")
    m1 = pd.read_csv(runs["named"] / "metrics.csv")
    assert m0.loc[0, "tts_anchor_event"] == "my_oxide_ban"
    assert m0.loc[0, "tts_anchor_date"].startswith("2024-03-04")
    assert m1.loc[0, "tts_anchor_event"] == "my_ore_tariff"
    # the same first shortfall, counted from 49 days earlier
    assert m1.loc[0, "time_to_survive_days"] == m0.loc[0, "time_to_survive_days"] + 49
    s = pd.read_csv(runs["named"] / "metrics_summary.csv")
    assert set(s.loc[s["metric"] == "time_to_survive_days", "tts_anchor_event"]) == {
        "my_ore_tariff"}
    html = critmin("report", str(runs["named"]), cwd=tiny_ban)
    assert html.returncode == 0, html.stderr
    page = (runs["named"] / "report.html").read_text()
    assert "my_ore_tariff (2024-01-15)" in page


def test_cli_unknown_disruption_is_a_usage_error(tiny_ban):
    for cmd in (["run", "tiny_ban.yaml"], ["compare", "tiny_ban.yaml", "tiny_ban.yaml"],
                ["sweep", "tiny_ban.yaml", "--param", "demand.jp_ev.rate_tpy=900,1000"]):
        res = critmin(*cmd, "--disruption", "nope", "--out", "never", cwd=tiny_ban)
        assert res.returncode == 2, (cmd, res.stderr)
        assert "Traceback" not in res.stderr
        assert "--disruption" in res.stderr and "nope" in res.stderr
        assert "my_ore_tariff, my_oxide_ban" in res.stderr, res.stderr
        assert not (tiny_ban / "never").exists()


def test_cli_compare_states_the_anchor(tiny_ban):
    res = critmin("compare", str(ROOT / "tests" / "fixtures" / "tiny.yaml"), "tiny_ban.yaml",
                  "-n", "2", "-j", "1", "--disruption", "my_oxide_ban", "--out", "cmp",
                  cwd=tiny_ban)
    assert res.returncode == 0, res.stderr
    assert "tiny has no event 'my_oxide_ban'" in res.stderr
    k = pd.read_csv(tiny_ban / "cmp" / "kpis.csv")
    tts = k[(k["metric"] == "time_to_survive_days") & (k["scenario"] == "tiny_ban")]
    assert set(tts["tts_anchor_event"]) == {"my_oxide_ban"}
    assert set(tts["tts_anchor_date"]) == {"2024-03-04"}
    page = (tiny_ban / "cmp" / "report.html").read_text()
    assert "Time to first shortfall after my_oxide_ban (2024-03-04)" in page
