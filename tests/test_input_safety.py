"""Input safety: what files are read, how much of them, and what gets printed back.

The CLI checks run in a subprocess with a 2 GB address-space limit and a 20 s timeout, so a
regression (reading /dev/zero, blocking on a FIFO) fails the test instead of eating the machine.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.scenario import ScenarioError, load_scenario
from simulator.sweep import load_sweep

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
LIMIT_AS = 2 << 30
MAX_BYTES_ENV = "CRITMIN_MAX_SCENARIO_BYTES"
DEFAULT_MAX_BYTES = 2_000_000  # docs/scenario-language.md, Limits and safety


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))


def critmin(*args: str, cwd: Path, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess:
    """Run ``python -m simulator`` with bounded memory and time."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full.pop("CRITMIN_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "simulator", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=20, preexec_fn=_limits)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.exit_code == 65
    return [str(p) for p in info.value.problems]


# ------------------------------------------------------------------ only regular files, bounded


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_validate_refuses_a_device(tmp_path: Path, device: str) -> None:
    res = critmin("validate", device, cwd=tmp_path)
    assert res.returncode == 65, res.stderr[-500:]
    assert res.stderr == f"{device}: cannot read: a character device, " \
                         "not a regular file\n"


def test_extends_a_device_is_located_at_extends(tmp_path: Path) -> None:
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nextends: /dev/zero\n")
    res = critmin("validate", str(child), cwd=tmp_path)
    assert res.returncode == 65, res.stderr[-500:]
    assert res.stderr == f"{child}:2:1: extends: cannot read /dev/zero: a character " \
                         "device, not a regular file\n"


def test_fifo_never_blocks(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    child = tmp_path / "child.yaml"
    child.write_text("extends: pipe.yaml\nname: child\n")
    res = critmin("validate", str(fifo), str(child), cwd=tmp_path)
    assert res.returncode == 65, res.stderr[-500:]
    assert res.stderr.splitlines() == [
        f"{fifo}: cannot read: a named pipe (FIFO), not a regular file",
        f"{child}:1:1: extends: cannot read {tmp_path / 'pipe.yaml'}: a named pipe (FIFO), "
        "not a regular file"]
    listed = critmin("list", str(tmp_path), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "pipe.yaml" in listed.stdout and "INVALID" in listed.stdout


def test_directory_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "dir.yaml"
    d.mkdir()
    assert problems_of(d) == [f"{d}: cannot read: a directory, not a regular file"]


def test_size_limit_is_checked_before_parsing(tmp_path: Path, monkeypatch) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(TINY.read_text() + "#" * 2000 + "\n")
    size = big.stat().st_size
    monkeypatch.setenv(MAX_BYTES_ENV, "1000")
    assert problems_of(big) == [
        f"{big}: cannot read: {size:,} bytes, over the limit of 1,000 bytes "
        f"for an input file (a safety limit; set {MAX_BYTES_ENV} to raise it)"]
    monkeypatch.setenv(MAX_BYTES_ENV, str(size))
    assert load_scenario(big).name == "tiny"
    monkeypatch.setenv(MAX_BYTES_ENV, "lots")
    assert problems_of(big) == [
        f"{big}: cannot read: invalid {MAX_BYTES_ENV}='lots': expected a "
        "whole number of bytes >= 1"]


def test_default_size_limit(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(MAX_BYTES_ENV, raising=False)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"name: big\n" + b"#" * DEFAULT_MAX_BYTES)
    [message] = problems_of(big)
    assert message.endswith(f"over the limit of {DEFAULT_MAX_BYTES:,} bytes for an input file "
                            f"(a safety limit; set {MAX_BYTES_ENV} to raise it)")


def test_sweep_files_are_read_safely(tmp_path: Path) -> None:
    res = critmin("sweep", "/dev/zero", "--param", "seed=1,2", "--check", cwd=tmp_path)
    assert res.returncode == 65, res.stderr[-500:]
    assert res.stderr == "/dev/zero: cannot read: a character device, " \
                         "not a regular file\n"
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("sweep:\n  scenario: /dev/zero\n  params: {seed: [1, 2]}\n")
    res = critmin("sweep", str(sweep), "--check", cwd=tmp_path)
    assert res.returncode == 65, res.stderr[-500:]
    assert "/dev/zero: cannot read: a character device, not a regular file" in res.stderr


# ------------------------------------------------------------- foreign files: named, never echoed

SHADOW = "root:$6$salt$secrethash:20228:0:99999:7:::\ndaemon:*:20228:0:99999:7:::\n"
FOREIGN = {
    "shadow": SHADOW,  # YAML: a mapping whose keys are the lines
    "config.json": '{"password": "hunter2-secret", "token": "abc-secret"}\n',
    "settings.toml": '[server]\napi_key = "secret-key"\nhost: = "x"\n',  # not YAML
}
NOT_A_SCENARIO = ("not a scenario file: {}; expected a YAML mapping with keys such as name, "
                  "start_date, end_date, countries and materials")


@pytest.mark.parametrize("name", FOREIGN)
def test_foreign_file_gets_one_problem_and_is_never_echoed(tmp_path: Path, name: str) -> None:
    foreign = tmp_path / name
    foreign.write_text(FOREIGN[name])
    reason = ("it is not valid YAML and no line starts with a scenario key"
              if name.endswith(".toml") else "a mapping with none of the scenario keys")
    assert problems_of(foreign) == [f"{foreign}:1:1: <root>: {NOT_A_SCENARIO.format(reason)}"]
    child = tmp_path / "child.yaml"
    child.write_text(f"name: child\nextends: {name}\n")
    res = critmin("validate", str(child), cwd=tmp_path)
    assert res.returncode == 65
    assert res.stderr == f"{child}:2:1: extends: {tmp_path / name} is " \
                         f"{NOT_A_SCENARIO.format(reason)}\n"
    assert "secret" not in res.stderr


def test_scenarios_with_mistakes_keep_their_detailed_problems(tmp_path: Path) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text("nmae: x\n")
    assert f"{typo}:1:1: nmae: unknown key 'nmae' (did you mean 'name'?)" in problems_of(typo)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nstages: [mine\n")
    [message] = problems_of(broken)
    assert "invalid YAML" in message


# -------------------------------------------------------------- sweep names stay in results/

NAME_RULE = ("a name starts with a letter or _ and has only letters, digits, _ and - (at most "
             "64 characters): it names the folder results/sweeps/<name>")


@pytest.mark.parametrize("name", ["../../../sweep_escape", "/tmp/sweep_escape", "a/b", "..",
                                  "ok\\n", "x" * 65])
def test_sweep_name_is_checked_like_a_scenario_name(tmp_path: Path, name: str) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f'sweep:\n  name: "{name}"\n  scenario: {TINY}\n  params: {{seed: [1]}}\n')
    with pytest.raises(ScenarioError) as info:
        load_sweep(sweep)
    shown = name.replace("\\n", "\n")
    assert [str(p) for p in info.value.problems] == [
        f"{sweep}:2:3: sweep.name: invalid sweep name {shown!r}: {NAME_RULE}"]


def test_sweep_name_from_the_file_name_is_checked(tmp_path: Path) -> None:
    sweep = tmp_path / "my sweep.yaml"
    sweep.write_text(f"sweep:\n  scenario: {TINY}\n  params: {{seed: [1]}}\n")
    with pytest.raises(ScenarioError) as info:
        load_sweep(sweep)
    assert [str(p) for p in info.value.problems] == [
        f"{sweep}:1:1: sweep: the file name gives the sweep name 'my sweep', which is not "
        f"valid ({NAME_RULE}); set sweep.name"]
    sweep.write_text(f"sweep:\n  name: my_sweep\n  scenario: {TINY}\n  params: {{seed: [1]}}\n")
    assert load_sweep(sweep).name == "my_sweep"


def test_escaping_sweep_writes_nothing(tmp_path: Path) -> None:
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    sweep = work / "sweep.yaml"
    sweep.write_text(f"sweep:\n  name: ../../../sweep_escape\n  scenario: {TINY}\n"
                     "  params: {seed: [1]}\n")
    res = critmin("sweep", str(sweep), cwd=work)
    assert res.returncode == 65, res.stderr
    assert "sweep.name: invalid sweep name" in res.stderr
    assert not list(tmp_path.rglob("sweep_escape*"))


# ------------------------------------------------- dates: only what the outputs can hold

DATE_RANGE = ("is outside the supported range 1900-01-01..2200-12-31 (results store dates as "
              "datetime64[ns])")
OUTAGE = ("events:\n  cut:\n    type: facility_outage\n    facilities: [au_mine]\n"
          "    start: {start}\n    end: {end}\n")


@pytest.mark.parametrize(("edit", "where", "bad"), [
    (("start_date: 2024-01-01", "start_date: 0001-01-01"), "3:1: start_date", "0001-01-01"),
    (("end_date: 2026-01-01", "end_date: 9999-01-01"), "4:1: end_date", "9999-01-01"),
    (("end_date: 2026-01-01", "end_date: 2263-01-01"), "4:1: end_date", "2263-01-01"),
    (("capacity_tpy: 2000}\n  my_", "capacity_tpy: 2000, start_date: 1677-01-01}\n  my_"),
     "18:62: facilities.au_mine.start_date", "1677-01-01"),
])
def test_dates_outside_the_range_are_refused(tmp_path: Path, edit: tuple[str, str], where: str,
                                            bad: str) -> None:
    text = TINY.read_text()
    assert text.count(edit[0]) == 1
    f = tmp_path / "dates.yaml"
    f.write_text(text.replace(*edit))
    assert f"{f}:{where}: date {bad} {DATE_RANGE}" in problems_of(f)


def test_event_dates_outside_the_range_are_refused(tmp_path: Path) -> None:
    f = tmp_path / "dates.yaml"
    f.write_text(TINY.read_text() + OUTAGE.format(start="1066-10-14", end="2999-01-01"))
    assert problems_of(f) == [f"{f}:30:5: events.cut.start: date 1066-10-14 {DATE_RANGE}",
                              f"{f}:31:5: events.cut.end: date 2999-01-01 {DATE_RANGE}"]


def test_a_run_at_the_end_of_the_range_keeps_its_dates(tmp_path: Path) -> None:
    import pandas as pd

    res = critmin("run", str(TINY), "--set", "start_date=2200-01-01", "--set",
                  "end_date=2200-12-31", "--out", str(tmp_path / "results"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    [run_dir] = (tmp_path / "results" / "tiny").iterdir()
    dates = pd.read_parquet(run_dir / "timeseries.parquet", columns=["date"])["date"]
    assert dates.min() == pd.Timestamp("2200-01-01")
    assert dates.max() <= pd.Timestamp("2200-12-31")


# ---------------------------------------------- quantities: bounded, and never NaN or inf out

TONNES_LIMIT = ("is above the safety limit of 1e9 t or t/yr on one quantity (world rare-earth "
                "mining is about 4e5 t/yr)")
DAYS_LIMIT = "is above the safety limit of 36500 days (100 years)"


@pytest.mark.parametrize(("edit", "where", "message"), [
    (("rate_tpy: 1000", "rate_tpy: 1e308"), "21:53: demand.jp_ev.rate_tpy",
     f"1e+308 {TONNES_LIMIT}"),
    (("capacity_tpy: 2000}\n  my_", "capacity_tpy: 2e9}\n  my_"),
     "18:42: facilities.au_mine.capacity_tpy", f"2000000000 {TONNES_LIMIT}"),
    (("cover_days: 30}", "cover_days: 1e12}"), "21:69: demand.jp_ev.cover_days",
     f"1000000000000 {DAYS_LIMIT}"),
    (("default_days: 21", "default_days: 99999999999999999999"), "25:32: lead_times.default_days",
     f"99999999999999999999 {DAYS_LIMIT}"),
    (("outputs: {ore: 1.0}", "outputs: {ore: 1e300}"), "15:35: recipes.mining.outputs.ore",
     "1e+300 is above the safety limit of 1e6 t per run of a recipe"),
    (("rate_tpy: 1000", "rate_tpy: 1000, priority: -1000000"), "21:69: demand.jp_ev.priority",
     "-1000000 is below the smallest priority, -999999 (stockpile purchases rank at -1000000, "
     "below every demand)"),
    (("rate_tpy: 1000", "rate_tpy: {uniform: [0, 2e9]}"), "21:64: demand.jp_ev.rate_tpy",
     f"upper bound 2000000000 of uniform [0, 2000000000]: 2000000000 {TONNES_LIMIT}"),
])
def test_absurd_quantities_are_refused(tmp_path: Path, edit: tuple[str, str], where: str,
                                       message: str) -> None:
    text = TINY.read_text()
    assert text.count(edit[0]) == 1
    f = tmp_path / "absurd.yaml"
    f.write_text(text.replace(*edit))
    assert problems_of(f) == [f"{f}:{where}: {message}"]


def test_absurd_event_quantities_are_refused(tmp_path: Path) -> None:
    f = tmp_path / "absurd.yaml"
    f.write_text(TINY.read_text() + (
        "events:\n"
        "  boom: {type: demand_shock, demand: [jp_ev], multiplier: 1e308, start: 2025-01-01}\n"
        "  cap: {type: export_control, exporter: MY, materials: [oxide], mode: quota,\n"
        "        quota_tpy: .inf, effective: 2025-01-01}\n"))
    assert problems_of(f) == [
        f"{f}:27:47: events.boom.multiplier: 1e+308 is above the safety limit of 1000 on "
        "multipliers, elasticities and rates per year",
        f"{f}:29:9: events.cap.quota_tpy: Input should be a finite number"]


def test_a_scenario_at_the_limits_runs_with_finite_outputs(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    text = TINY.read_text().replace("capacity_tpy: 2000}", "capacity_tpy: 1e9}").replace(
        "rate_tpy: 1000, cover_days: 30", "rate_tpy: 1e9, cover_days: 36500")
    f = tmp_path / "limits.yaml"
    f.write_text(text + "events:\n  boom: {type: demand_shock, demand: [jp_ev], "
                        "multiplier: 1000, start: 2025-01-01}\n")
    res = critmin("run", str(f), "--out", str(tmp_path / "results"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "overflow" not in res.stderr
    [run_dir] = (tmp_path / "results" / "tiny").iterdir()
    for table in ("timeseries", "flows", "production"):
        values = pd.read_parquet(run_dir / f"{table}.parquet").select_dtypes("float")
        assert np.isfinite(values.to_numpy()).all(), table
    kpis = pd.read_csv(run_dir / "kpis.csv").select_dtypes("number")
    assert not np.isinf(kpis.to_numpy()).any()


def test_a_non_finite_value_never_reaches_an_output() -> None:
    import pandas as pd

    from simulator.runner.tables import to_arrow

    row = {"replication": 0, "day": 7, "date": pd.Timestamp("2025-01-08"), "country": "JP",
           "sector": "ev", "demand_id": "jp_ev", "material": "oxide", "demand_t": 1.0,
           "delivered_t": 1.0, "shortfall_t": 0.0, "inventory_t": 2.0, "stockpile_t": 0.0,
           "destroyed_t": 0.0, "thrifted_t": 0.0}
    assert to_arrow("timeseries", pd.DataFrame([row])).num_rows == 1
    bad = pd.DataFrame([row, {**row, "day": 14, "shortfall_t": float("inf")}])
    with pytest.raises(Exception, match=r"output table timeseries, column shortfall_t: 1 NaN "
                                        r"or infinite value\(s\), the first \(inf\) at "
                                        r"replication 0, day 14"):
        to_arrow("timeseries", bad)


def test_every_safety_limit_has_its_own_message() -> None:
    """Messages look limits up by value: two equal limits would name the wrong quantity (a
    recipe coefficient above 1e6 once read 'the safety limit of 1e6 USD/kg on a price')."""
    from simulator.scenario import base

    limits = [v for k, v in vars(base).items() if k.startswith("MAX_") and k != "MAX_DATE"
              and isinstance(v, int | float)]
    assert len(set(limits)) == len(limits)
    assert all(v in base.SAFETY_LIMITS for v in limits)
