"""``critmin compare``: two small scenarios through the real CLI, kpis.csv, overlays, exit
codes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.comparison import KPI_COLUMNS
from tests.conftest import critmin_in_process

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"

#: The tiny chain with Malaysia banning oxide exports to Japan for three months.
BAN = """\
extends: tiny.yaml
name: tiny_ban
events:
  my_ban:
    type: export_control
    exporter: MY
    materials: [oxide]
    destinations: [JP]
    mode: ban
    effective: 2025-01-06
    end: 2025-04-07
"""


def critmin(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``critmin ARGS`` in ``cwd``, in-process (what is checked is the app's files, streams
    and exit codes, not a new interpreter's)."""
    return critmin_in_process(*args, cwd=cwd)


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("scenarios")
    shutil.copy(TINY, d / "tiny.yaml")
    (d / "tiny_ban.yaml").write_text(BAN)
    return d


@pytest.fixture(scope="module")
def compared(scenarios) -> tuple[subprocess.CompletedProcess, Path]:
    res = critmin("compare", "tiny.yaml", "tiny_ban.yaml", "-n", "3", "--seed", "5",
                  "--out", "cmp", cwd=scenarios)
    return res, scenarios / "cmp"


@pytest.mark.slow
def test_compare_scenario_files(compared):
    res, out = compared
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    # files: one overlay per sector of interest, the KPI table, the inputs, the two runs
    assert (out / "overlay_ev.png").is_file() and (out / "overlay_ev.svg").is_file()
    assert (out / "kpis.csv").is_file()
    info = json.loads((out / "compare.json").read_text())
    assert [i["name"] for i in info["inputs"]] == ["tiny", "tiny_ban"]
    assert {i["seed"] for i in info["inputs"]} == {5}
    assert {i["replications"] for i in info["inputs"]} == {3}
    assert info["sectors"] == ["ev"] and info["reference"] == "tiny"
    runs = sorted(p.parent.parent.name for p in (out / "runs").glob("*/*/manifest.json"))
    assert runs == ["tiny", "tiny_ban"]
    # the table on stdout: sector, metric, A, B, diff [CI]
    assert "tiny vs tiny_ban" in res.stdout
    for text in ("ev", "fill rate", "shortfall (t/rep)", "diff [95% CI]", "Compare folder:"):
        assert text in res.stdout, text


def test_kpis_csv_columns_and_known_sign(compared):
    _res, out = compared
    kpis = pd.read_csv(out / "kpis.csv", keep_default_na=True)
    assert list(kpis.columns) == KPI_COLUMNS
    assert set(kpis["level"]) == {"sector", "demand"}
    assert set(kpis["scenario"]) == {"tiny", "tiny_ban"}
    sec = kpis[(kpis["level"] == "sector") & (kpis["group"] == "ev")].set_index(
        ["metric", "scenario"])
    # the reference has no difference columns; the alternative is compared with it
    base = sec.loc[("cumulative_shortfall_t", "tiny")]
    assert base["role"] == "reference" and pd.isna(base["diff_mean"])
    assert base["mean"] == 0.0
    ban = sec.loc[("cumulative_shortfall_t", "tiny_ban")]
    assert ban["role"] == "alternative" and ban["diff_vs"] == "tiny"
    assert ban["n"] == 3 and ban["diff_n"] == 3
    # a three-month ban of the only supplier: more shortfall, lower fill rate, for sure
    assert ban["diff_mean"] > 10 and ban["diff_mean"] == pytest.approx(ban["mean"])
    assert ban["diff_ci95_low"] <= ban["diff_mean"] <= ban["diff_ci95_high"]
    assert bool(ban["diff_ci_excludes_zero"])
    fill = sec.loc[("fill_rate", "tiny_ban")]
    assert fill["diff_mean"] < 0 and fill["p5"] <= fill["p50"] <= fill["p95"] <= 1
    # the demand level holds the same numbers for the only demand sector
    dem = kpis[(kpis["level"] == "demand") & (kpis["group"] == "jp_ev")
               & (kpis["metric"] == "cumulative_shortfall_t")
               & (kpis["scenario"] == "tiny_ban")].iloc[0]
    assert dem["country"] == "JP" and dem["diff_mean"] == pytest.approx(ban["diff_mean"])


def test_compare_run_folders_gives_the_same_numbers(compared, scenarios, monkeypatch):
    _res, out = compared
    runs = [next((out / "runs" / n).iterdir()) for n in ("tiny", "tiny_ban")]
    monkeypatch.chdir(scenarios)
    res = invoke("compare", str(runs[0]), str(runs[1]), "--out", "cmp2", "--sector", "ev")
    assert res.exit_code == 0, res.output
    assert not (scenarios / "cmp2" / "runs").exists()  # nothing was rerun
    a = pd.read_csv(out / "kpis.csv")
    b = pd.read_csv(scenarios / "cmp2" / "kpis.csv")
    pd.testing.assert_frame_equal(a, b)
    assert (out / "overlay_ev.png").read_bytes() == (scenarios / "cmp2" /
                                                     "overlay_ev.png").read_bytes()


# --------------------------------------------------------------------------- exit codes
# (in-process: the real app and error mapping, without a new interpreter per case)

def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_exit_codes(scenarios, compared, tmp_path, monkeypatch):
    monkeypatch.chdir(scenarios)
    r = invoke("compare", "tiny.yaml")
    assert r.exit_code == 2 and "at least two" in r.output
    r = invoke("compare", "tiny.yaml", "missing.yaml")
    assert r.exit_code == 66 and "missing.yaml" in r.output
    (tmp_path / "empty").mkdir()
    r = invoke("compare", "tiny.yaml", str(tmp_path / "empty"))
    assert r.exit_code == 66 and "not a run folder" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace("rate_tpy: 1000", "rate_tpi: 1000"))
    r = invoke("compare", "tiny.yaml", str(bad))
    assert r.exit_code == 65 and "rate_tpi" in r.output
    runs = [str(next((compared[1] / "runs" / n).iterdir())) for n in ("tiny", "tiny_ban")]
    r = invoke("compare", *runs, "--sector", "wnd", "--out", str(tmp_path / "o"))
    assert r.exit_code == 2 and "unknown sector(s): wnd" in r.output
    r = invoke("compare", "tiny.yaml", "tiny_ban.yaml", "-n", "0")
    assert r.exit_code == 2
    # a bad --sector fails before any scenario is run
    r = invoke("compare", "tiny.yaml", "tiny_ban.yaml", "--sector", "wnd", "--out",
               str(tmp_path / "o2"))
    assert r.exit_code == 2 and "unknown sector(s): wnd (known: ev)" in r.output
    assert not (tmp_path / "o2").exists()


def test_interrupted_exits_130(scenarios, tmp_path, monkeypatch):
    import simulator.runner as runner

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_scenario", interrupted)
    monkeypatch.chdir(scenarios)
    r = invoke("compare", "tiny.yaml", "tiny_ban.yaml", "-n", "1", "--out",
               str(tmp_path / "o"))
    assert r.exit_code == 130 and "interrupted" in r.output


def test_compare_report_is_self_contained_and_states_the_difference(compared):
    res, out = compared
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f"Report:         {out.name}" in res.stdout or "report.html" in res.stdout
    # offline: the overlay is embedded, nothing is fetched
    assert "data:image/png;base64," in page
    assert "http://" not in page and "https://" not in page
    assert page.count("<figure") == 1  # one sector of interest: ev
    # the inputs with their run folders (relative to the compare folder) and the pairing
    assert "runs/tiny/" in page and "runs/tiny_ban/" in page
    assert "common random numbers" in page
    # the finding quotes the shortfall of kpis.csv, which a three-month ban makes certain
    kpis = pd.read_csv(out / "kpis.csv")
    ban = kpis[(kpis["level"] == "sector") & (kpis["group"] == "ev")
               & (kpis["metric"] == "cumulative_shortfall_t")
               & (kpis["scenario"] == "tiny_ban")].iloc[0]
    assert f"shortfall {ban['mean']:,.0f}\u00a0t" in page or \
        f"shortfall {ban['mean']:,.1f}\u00a0t" in page
    assert "Metrics per sector" in page and " *" in page


def test_demands_of_interest_ranks_by_fill_rate_drop_and_skips_sole_members():
    from simulator.comparison import demands_of_interest

    def frame(fills: dict[str, float], short: dict[str, float]) -> pd.DataFrame:
        sector = {"us_ev": "ev", "jp_ev": "ev", "de_ev": "ev", "us_wind": "wind"}
        return pd.DataFrame([{"replication": 0, "demand_id": d, "sector": sector[d],
                              "fill_rate": f, "cumulative_shortfall_t": short[d]}
                             for d, f in fills.items()])

    base = frame({"us_ev": 1.0, "jp_ev": 1.0, "de_ev": 1.0, "us_wind": 1.0},
                 {"us_ev": 0.0, "jp_ev": 0.0, "de_ev": 0.0, "us_wind": 0.0})
    # us_wind drops most but is the only wind demand (its sector overlay shows it); de_ev
    # loses little fill rate but many tonnes: the fill-rate drop ranks first
    alt = frame({"us_ev": 0.6, "jp_ev": 0.9, "de_ev": 0.97, "us_wind": 0.2},
                {"us_ev": 50.0, "jp_ev": 10.0, "de_ev": 500.0, "us_wind": 80.0})
    assert demands_of_interest({"a": base, "b": alt}, None) == ["us_ev", "jp_ev", "de_ev"]
    assert demands_of_interest({"a": base, "b": alt}, None, limit=1) == ["us_ev"]
    assert demands_of_interest({"a": base, "b": base}, None) == []  # nobody short
    assert demands_of_interest({"a": base, "b": alt}, ["us_wind"]) == ["us_wind"]
    with pytest.raises(KeyError, match="unknown demand sector"):
        demands_of_interest({"a": base}, ["xx_ev"])


def test_rolling_fill_rate_is_the_ratio_of_window_sums():
    from simulator.viz.compare import rolling_fill_rate

    curve = pd.DataFrame({"replication": [0] * 4 + [1] * 4, "day": [0, 7, 14, 21] * 2,
                          "demand_t": [10.0, 10.0, 0.0, 10.0, 4.0, 4.0, 4.0, 4.0],
                          "delivered_t": [10.0, 0.0, 0.0, 5.0, 4.0, 2.0, 0.0, 4.0]})
    out = rolling_fill_rate(curve, 2).set_index(["replication", "day"])["fill_rate"]
    # replication 0: 10/10, 10/20, 0/10, 5/10; replication 1: 4/4, 6/8, 2/8, 4/8
    assert out.loc[0].tolist() == [1.0, 0.5, 0.0, 0.5]
    assert out.loc[1].tolist() == [1.0, 0.75, 0.25, 0.5]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install "
                                               "chromium to run this rendering check)")
def test_compare_report_renders_with_its_figure_in_headless_chromium(compared, tmp_path):
    """The page opens offline and the embedded overlay is decoded and drawn: the screenshot
    holds the second scenario's orange (#D55E00), which only the figure uses."""
    from matplotlib.image import imread

    _, out = compared
    shot = tmp_path / "shot.png"
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--disable-quic", "--no-first-run",
                        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,4000",
                        f"--screenshot={shot}", (out / "report.html").as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    rgb = (imread(shot)[..., :3] * 255).round()
    orange = ((abs(rgb[..., 0] - 0xD5) < 12) & (abs(rgb[..., 1] - 0x5E) < 12)
              & (abs(rgb[..., 2] - 0x00) < 12))
    assert orange.sum() > 200
