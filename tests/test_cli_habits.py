"""Command-line habits an analyst expects (issue 13, item 6)."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import critmin_in_process


def test_version() -> None:
    """`critmin --version` was "No such option" (exit 2)."""
    out = subprocess.run([sys.executable, "-m", "simulator", "--version"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"critmin {importlib.metadata.version('critmin')} (Python 3.")


def _critmin(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    """In-process: these habits are the app's (exit codes, streams, formats), not the
    interpreter's; the one about matplotlib's warnings runs a real process."""
    return critmin_in_process(*args, cwd=cwd)


def _critmin_process(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


@pytest.mark.parametrize("args", [
    ("run", "nonexistent.yaml"),
    ("validate", "nonexistent.yaml"),
    ("compare", "nonexistent.yaml", "nonexistent.yaml"),
    ("sweep", "nonexistent.yaml"),
    ("sweep", "nonexistent.yaml", "--param", "demand.growth_pa=0,0.1"),
    ("report", "nonexistent.yaml"),
])
def test_missing_file_says_no_such_file(args: tuple[str, ...], tmp_path) -> None:
    """A missing file read ``nonexistent.yaml:0:0: <root>: scenario file not found: ...``
    (run, validate), needed --param (sweep), or had other wordings (compare, report)."""
    out = _critmin(*args, cwd=tmp_path)
    assert out.returncode == 66, out.stderr
    assert out.stderr.strip() == "nonexistent.yaml: no such file"
    assert out.stdout == ""


def test_resolved_yaml_quotes_yaml11_ambiguous_strings(tmp_path) -> None:
    """Norway's code ``NO`` was written bare in scenario.resolved.yaml, which YAML 1.1 readers
    (PyYAML) load as False; so were other YAML-1.1 booleans, nulls and numbers."""
    import re
    from pathlib import Path

    from simulator.scenario import dump_scenario_yaml, load_scenario

    tiny = (Path(__file__).parent / "fixtures" / "tiny.yaml").read_text()
    text = tiny.replace("  AU: {name: Australia}", "  AU: {name: Australia, note: 'yes'}\n"
                        "  'NO': {name: Norway, note: 'on'}")
    text = text.replace("au_mine: {country: AU", "au_mine: {country: 'NO'")
    text = text.replace("suppliers: {AU: 1.0}", "suppliers: {'NO': 1.0}")
    src = tmp_path / "norway.yaml"
    src.write_text(text)
    resolved = dump_scenario_yaml(load_scenario(src))
    for word in ("NO", "on", "yes"):
        assert not re.search(rf"(: |- |^ *){word}(:|$)", resolved, re.M), word
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load(resolved)
    assert "NO" in set(data["countries"])
    assert data["countries"]["NO"]["note"] == "on"
    assert data["countries"]["AU"]["note"] == "yes"
    assert data["facilities"]["au_mine"]["country"] == "NO"
    assert data["sourcing"]["my_ore"]["suppliers"] == {"NO": 1.0}
    assert load_scenario(src) == load_scenario_text(resolved, tmp_path)


def load_scenario_text(text: str, where):
    from simulator.scenario import load_scenario

    path = where / "resolved.yaml"
    path.write_text(text)
    return load_scenario(path)


TINY = str(Path(__file__).parent / "fixtures" / "tiny.yaml")
SCENARIOS = Path(__file__).parent.parent / "scenarios"


def _csv(text: str) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(text)))


#: Shipped scenarios with the two longest descriptions (350+ characters, over four 80-column
#: lines), one a base and one that extends it. Listing all eleven parsed the 34 KB baseline
#: eleven times per call (~3.5 s CPU a call, YAML parsing); the wrapping does not depend on
#: how many files there are.
LISTED = ("baseline.yaml", "china_controls_2025_04.yaml", "gallium_germanium_2023.yaml")


def test_list_formats_and_no_wrapping_when_piped(tmp_path) -> None:
    """`critmin list` had no --format; piped (not a terminal) its table wrapped each
    description over several 80-column lines."""
    import shutil

    from simulator.scenario import load_scenario

    folder = tmp_path / "scenarios"
    folder.mkdir()
    for name in LISTED:
        shutil.copy(SCENARIOS / name, folder / name)
    table = _critmin("list", str(folder))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    for path in sorted(folder.glob("*.yaml")):
        desc = " ".join((load_scenario(path).description or "").split())
        assert len(desc) > 250, path.name  # would wrap on an 80-column terminal
        assert any(desc in line for line in lines), path.name
    rows = _csv(_critmin("list", str(folder), "--format", "csv").stdout)
    assert [r["file"] for r in rows] == sorted(LISTED)
    assert set(rows[0]) == {"file", "name", "description", "valid"}
    out = _critmin("list", str(folder), "--format", "json")
    assert [r["file"] for r in json.loads(out.stdout)] == [r["file"] for r in rows]


def test_run_formats(tmp_path) -> None:
    """`critmin run` printed only a rich table; --format csv/json print the KPI rows alone on
    standard output (run folder on standard error)."""
    out = _critmin("run", TINY, "-n", "2", "-j", "1", "--out", str(tmp_path), "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["sector"] for r in rows] == ["ev"]
    assert 0 <= rows[0]["fill_rate_min"] <= 1
    assert "Run folder:" in out.stderr
    out = _critmin("run", TINY, "-n", "2", "-j", "1", "--out", str(tmp_path), "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert [r["sector"] for r in _csv(out.stdout)] == ["ev"]


@pytest.mark.slow
def test_compare_and_sweep_formats(tmp_path) -> None:
    """`critmin compare` and `critmin sweep` printed only rich tables."""
    out = _critmin("compare", TINY, TINY, "-n", "2", "-j", "1", "--out", str(tmp_path / "c"),
                   "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = _csv(out.stdout)
    assert rows and {"level", "group", "metric", "scenario", "mean", "diff_mean"} <= set(rows[0])
    assert "Compare folder:" in out.stderr
    out = _critmin("compare", TINY, TINY, "-n", "2", "-j", "1", "--out", str(tmp_path / "d"),
                   "--format", "json")
    rows = json.loads(out.stdout)
    assert rows[0]["metric"] == "fill_rate"
    assert {(r["scenario"], r["role"]) for r in rows} == {("tiny", "reference"),
                                                          ("tiny-2", "alternative")}
    out = _critmin("sweep", TINY, "--param", "facilities.au_mine.capacity_tpy=1000,2000",
                   "-j", "1", "--out", str(tmp_path / "s"), "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["facilities.au_mine.capacity_tpy"] for r in rows] == [1000, 2000]
    assert "Sweep folder:" in out.stderr


@pytest.mark.slow
def test_report_of_a_one_step_run_prints_no_matplotlib_warning(tmp_path) -> None:
    """A run whose horizon is one step has one date: every figure set identical x limits and
    matplotlib printed 'simulator/viz/fan.py:438: UserWarning: Attempting to set identical
    low and high xlims ...' (in run and report)."""
    out = _critmin_process("run", TINY, "-n", "2", "-j", "1", "--out", str(tmp_path),
                           "--set", "end_date=2024-01-08", "--set", "simulation.warmup_days=0")
    assert out.returncode == 0, out.stderr
    assert "Warning" not in out.stderr, out.stderr
    run_dir = next(tmp_path.glob("tiny/*/"))
    out = _critmin_process("report", str(run_dir))
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""


def test_run_country_shows_that_countrys_demand_sectors(tmp_path) -> None:
    """critmin run --country JP prints Japan's demand sectors, not the world's sectors (the
    issue: Japan's EV curve needed a second, full compare run); csv gives their numbers,
    which match kpis.csv; an unknown code exits 2 naming the countries with demand."""
    import io

    import pandas as pd

    base = ["run", TINY, "-n", "2", "-j", "1", "--out", str(tmp_path)]
    table = _critmin(*base, "--country", "jp")
    assert table.returncode == 0, table.stderr
    assert "demand sectors of JP" in table.stdout and "jp_ev (oxide)" in table.stdout
    out = _critmin(*base, "--country", "JP", "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = pd.read_csv(io.StringIO(out.stdout))
    assert list(rows.columns) == ["country", "demand_id", "sector", "material",
                                  "fill_rate_min", "trough_fill_rate_min", "shortfall_t_mean"]
    assert rows["demand_id"].tolist() == ["jp_ev"]
    (folder,) = sorted((tmp_path / "tiny").iterdir())[-1:]
    kpis = pd.read_csv(folder / "kpis.csv")
    assert rows["fill_rate_min"].iloc[0] == pytest.approx(kpis["fill_rate"].min())
    bad = _critmin(*base, "--country", "FR")
    assert bad.returncode == 2 and "no demand in FR (countries with demand: JP)" in bad.stderr
