"""An uncertain event date anchors each replication's time to first shortfall at the date
drawn in that replication, not at the distribution's central date (issue 13)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from simulator.analysis import replication_metrics
from simulator.analysis.anchors import event_start
from simulator.analysis.long_kpis import replication_kpis
from simulator.engine import run_replication
from simulator.engine.rng import RandomStreams
from simulator.runner import run_scenario
from simulator.scenario import load_scenario
from simulator.scenario.distributions import realize
from tests.conftest import CHAIN, deep_update

SEED = 7
LOW, HIGH = "2024-03-01", "2025-06-30"
# Malaysia stops oxide exports to Japan at a date drawn uniformly over 16 months; a tariff
# that cannot reduce Japan's supply stays at a fixed date (never an anchor).
EVENTS = {
    "my_oxide_ban": {"type": "export_control", "exporter": "MY", "materials": ["oxide"],
                     "destinations": ["JP"], "mode": "ban",
                     "effective": {"uniform": [LOW, HIGH]}},
}


@pytest.fixture(scope="module")
def uncertain(tmp_path_factory) -> object:
    folder = tmp_path_factory.mktemp("uncertain")
    data = deep_update(CHAIN, {"name": "uncertain_ban", "events": EVENTS})
    path = Path(folder) / "uncertain_ban.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_scenario(path)


def drawn(scenario, replication: int) -> dt.date:
    """The ban's date in ``replication``, as the engine realises it."""
    real = realize(scenario, RandomStreams(SEED, replication).get)
    return event_start(real.events["my_oxide_ban"], real)


def first_short_day(ts: pd.DataFrame, from_day: int) -> int:
    short = ts[(ts["day"] >= from_day) & (ts["shortfall_t"] > 1e-9)]
    return int(short["day"].min())


def test_the_scenario_holds_the_central_date_and_draws_differ(uncertain) -> None:
    central = dt.date(2024, 3, 1) + (dt.date(2025, 6, 30) - dt.date(2024, 3, 1)) / 2
    assert abs((uncertain.events["my_oxide_ban"].effective - central).days) <= 1
    dates = {drawn(uncertain, r) for r in range(4)}
    assert len(dates) == 4 and uncertain.events["my_oxide_ban"].effective not in dates


def test_run_anchors_each_replication_at_its_drawn_date(uncertain) -> None:
    res = run_scenario(uncertain, replications=4, seed=SEED)
    m = res.summary("metrics").set_index("replication")
    for r in range(4):
        when = drawn(uncertain, r)
        row = m.loc[r]
        assert row["tts_anchor_event"] == "my_oxide_ban"
        assert pd.Timestamp(row["tts_anchor_date"]) == pd.Timestamp(when)
        ts = res.timeseries[res.timeseries["replication"] == r]
        day = uncertain.day_of(when)
        assert row["time_to_survive_days"] == first_short_day(ts, day) - day


def test_metrics_of_many_replications_take_the_seed(uncertain) -> None:
    """The metrics of a whole run (reports, compare) need the run's seed to know the draws."""
    ts = pd.concat([run_replication(uncertain, SEED, r).timeseries.assign(
        replication=np.int32(r)) for r in (0, 3)], ignore_index=True)
    m = replication_metrics(ts, uncertain, seed=SEED).set_index("replication")
    for r in (0, 3):
        assert pd.Timestamp(m.loc[r, "tts_anchor_date"]) == pd.Timestamp(drawn(uncertain, r))
    with pytest.raises(ValueError, match="seed"):
        replication_metrics(ts, uncertain)


def test_sweep_kpis_count_from_the_drawn_date(uncertain) -> None:
    ts = run_replication(uncertain, SEED, 2).timeseries
    rows = replication_kpis(ts, uncertain, 2, seed=SEED)
    tts = rows[(rows["kpi"] == "time_to_survive_days") & (rows["demand_id"] == "jp_ev")]
    day = uncertain.day_of(drawn(uncertain, 2))
    assert tts["value"].item() == first_short_day(ts, day) - day


def test_named_disruption_with_an_uncertain_date(uncertain) -> None:
    res = run_scenario(uncertain, replications=3, seed=SEED, disruption="my_oxide_ban")
    m = res.summary("metrics").set_index("replication")
    for r in range(3):
        assert pd.Timestamp(m.loc[r, "tts_anchor_date"]) == pd.Timestamp(drawn(uncertain, r))
