"""Compared runs are paired over the same period and the step each used is stated.

Found 2026-12-06, trying compare as an analyst would: the threat run to 2034 against the
framework run to 2032 at 14-day steps printed "JP EV shortfall -4,775 t [-7,416, -2,134] *"
with no word that the second run simulated two years fewer, nor that its step differed.
Every metric now covers the period all compared runs cover, and a comparison says so (and
warns about runs at different steps, whose differences are partly the step's).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.comparison import CompareError, compare_runs
from simulator.exit_codes import EXIT_INVALID
from simulator.runner import SequentialEvaluator
from simulator.runs import execute_run
from simulator.scenario import load_scenario_text

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
# the tiny chain with its refinery out for 120 days in each year: shortfalls in both years
SHORT = TINY.read_text(encoding="utf-8") + """
events:
  refinery_2024:
    type: facility_outage
    facilities: [my_refinery]
    start: 2024-06-03
    duration_days: 120
  refinery_2025:
    type: facility_outage
    facilities: [my_refinery]
    start: 2025-06-02
    duration_days: 120
"""


def run_folder(out: Path, overrides: list[str], seed: int = 3, text: str = SHORT) -> Path:
    scenario = load_scenario_text(text, "tiny_short.yaml", overrides)
    done = execute_run(scenario, [0, 1, 2], seed, SequentialEvaluator(), out,
                       overrides=overrides, state={"seed": seed})
    assert done.run_dir is not None
    return done.run_dir


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("runs")
    return {
        "to_2026": run_folder(out, []),
        "to_2027": run_folder(out, ["end_date=2027-01-01"]),
        "from_2024_09": run_folder(out, ["start_date=2024-09-02"]),
        "fortnightly": run_folder(out, ["simulation.step_days=14"]),
        "in_2024": run_folder(out, ["end_date=2025-01-01"], text=TINY.read_text("utf-8")),
        "in_2026": run_folder(out, ["start_date=2026-03-02", "end_date=2027-01-01"],
                              text=TINY.read_text("utf-8")),
    }


def test_a_longer_run_of_the_same_scenario_differs_by_nothing(folders, tmp_path) -> None:
    """The same scenario and seed to 2026 and to 2027: over the common period the runs are
    identical (a later end changes nothing before it), so every paired difference is 0;
    the old comparison set a year of the longer run's shortfall against nothing."""
    said: list[str] = []
    done = compare_runs([folders["to_2026"], folders["to_2027"]], out=tmp_path / "c",
                        notify=said.append)
    shortfall = done.pairs[(done.pairs["metric"] == "cumulative_shortfall_t")
                           & (done.pairs["level"] == "demand")]
    assert len(shortfall) == 1 and shortfall["mean_reference"].iloc[0] > 100.0
    numeric = done.pairs[["diff_mean", "ci95_low", "ci95_high"]].to_numpy(dtype=float)
    assert np.all(np.nan_to_num(numeric) == 0.0), done.pairs[done.pairs["diff_mean"] != 0]
    period = [n for n in done.notes if "period" in n]
    # 2024-2025 is 104 weeks and 3 days: the run to 2026 has a 3-day last step, the run to
    # 2027 a whole week there, so the pair ends at the last whole step
    assert len(period) == 1 and "2024-01-01 to 2025-12-29" in period[0], done.notes
    assert "in whole steps" in period[0]
    assert "tiny (2024-01-01 to 2027-01-01)" in period[0] or "2027-01-01" in period[0]
    assert period[0] in said
    info = json.loads((done.folder / "compare.json").read_text(encoding="utf-8"))
    assert info["period"] == {"start": "2024-01-01", "end": "2025-12-29"}
    assert "2024-01-01 to 2025-12-29" in done.report.read_text(encoding="utf-8")
    ts = pd.read_csv(done.folder / "kpis.csv")
    mean = ts[(ts["metric"] == "cumulative_shortfall_t") & (ts["level"] == "demand")]["mean"]
    assert mean.nunique() == 1


def test_a_later_start_is_compared_from_that_start(folders, tmp_path) -> None:
    """A run that starts on 2 September 2024 against one that starts in January: the
    January run's metrics count its shortfall from September on (part of the 2024 outage's
    came before; the old comparison counted it in one run and not the other)."""
    done = compare_runs([folders["to_2026"], folders["from_2024_09"]], out=tmp_path / "c")
    note = next(n for n in done.notes if "period" in n)
    assert "2024-09-02 to 2026-01-01" in note
    ts = pd.read_parquet(folders["to_2026"] / "timeseries.parquet")
    whole = ts.groupby("replication")["shortfall_t"].sum().mean()
    later = ts[ts["date"] >= pd.Timestamp("2024-09-02")].groupby(
        "replication")["shortfall_t"].sum().mean()
    assert whole > later + 10.0  # the test tells the two apart
    kpis = done.kpis
    got = kpis[(kpis["metric"] == "cumulative_shortfall_t") & (kpis["level"] == "demand")
               & (kpis["role"] == "reference")]["mean"]
    assert got.to_list() == [pytest.approx(later, rel=1e-12)]


def test_runs_at_different_steps_are_flagged(folders, tmp_path) -> None:
    said: list[str] = []
    done = compare_runs([folders["to_2026"], folders["fortnightly"]], out=tmp_path / "c",
                        notify=said.append)
    warning = [n for n in done.notes if "step" in n]
    assert len(warning) == 1 and warning[0].startswith("warning:"), done.notes
    assert "7 days" in warning[0] and "14 days" in warning[0] and warning[0] in said
    assert "different steps" in done.report.read_text(encoding="utf-8")
    same = compare_runs([folders["to_2026"], folders["to_2027"]], out=tmp_path / "d")
    assert not [n for n in same.notes if "different steps" in n]


def test_runs_that_share_no_period_are_not_compared(folders, tmp_path) -> None:
    with pytest.raises(CompareError) as bad:
        compare_runs([folders["in_2024"], folders["in_2026"]], out=tmp_path / "c")
    assert bad.value.code == EXIT_INVALID
    assert "no period in common" in str(bad.value)
    assert "2024-01-01 to 2025-01-01" in str(bad.value)
    assert "2026-03-02 to 2027-01-01" in str(bad.value)
    assert not (tmp_path / "c").exists()
