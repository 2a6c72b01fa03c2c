"""The workbench (``critmin app``): its state logic, and one real session in headless Chromium.

Unit tests drive :class:`simulator.app.session.Session` directly on the three-node test chain
(tests/fixtures/tiny.yaml): a tweak becomes ``--set`` overrides and a scenario file that loads
back to the same scenario; runs are run folders like ``critmin run`` writes; the reference is
pinned; the overlay is the PNG ``critmin compare`` writes and the paired differences are
:func:`simulator.analysis.compare.paired_differences`'s numbers. The browser test starts the app
in a subprocess and drives it with Selenium (Debian's chromium and chromium-driver).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("dash", reason="the app extra is not installed: pip install 'critmin[app]'")

from simulator.analysis.compare import paired_differences
from simulator.analysis.metrics import replication_metrics
from simulator.app.params import Tweak, catalogue, save_tweak, tweak_yaml
from simulator.app.session import Session
from simulator.app.views import (
    METRIC_LABELS,
    Group,
    RunView,
    cli_run_command,
    overlay_png,
    paired_rows,
)
from simulator.report import sector_timeseries
from simulator.report.run_figures import RUN_FILES
from simulator.scenario import (
    load_scenario,
    resolve_scenario_data,
    scenario_sha256,
)
from tests.conftest import run_file_digests

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
HEAVY = ROOT / "scenarios" / "china_heavy_ree_controls_2026.yaml"
SHORT = "facilities.my_refinery.capacity_tpy"  # 1000 t/yr of ore: 800 t oxide for 1000 t demand


def _wait(session: Session, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while session.running:
        assert time.monotonic() < end, "run did not finish"
        time.sleep(0.05)
    session.poll()


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Session, Path, Path]:
    """The tiny chain as written (the reference) and with its refinery cut, 4 replications;
    Japan's EV demand counted in units (10 kg of oxide per unit, a test value) and the oxide
    priced (USD 10/kg, one world tier, a test value)."""
    folder = tmp_path_factory.mktemp("app")
    text = TINY.read_text()
    old = "jp_ev: {country: JP, sector: ev, material: oxide, rate_tpy: 1000, cover_days: 30}"
    assert old in text
    (folder / "tiny.yaml").write_text(text.replace(
        old, old[:-1] + ", units: {name: test units, kg_per_unit: 10}}")
        + "market: {prices: {oxide: {domestic: 10}}}\n")
    session = Session(folder, folder / "results", workers=1)
    session.open(folder / "tiny.yaml")
    ref, problems = session.start_run(4, 3)
    assert ref is not None, problems
    _wait(session)
    session.add_param(SHORT)
    session.set_values({SHORT: "1000"})
    run, problems = session.start_run(4, 3)
    assert run is not None, problems
    _wait(session)
    assert ref.run_dir is not None and run.run_dir is not None
    return session, ref.run_dir, run.run_dir


# ---- a tweak and its scenario file -------------------------------------------------------

def test_catalogue_shows_distributions_as_distributions():
    params = catalogue(resolve_scenario_data(HEAVY))
    dist = [p for p in params.values() if p.kind == "distribution"]
    assert dist, "the heavy-REE scenario has triangular licence terms"
    p = next(p for p in dist if p.path.endswith("approval_probability"))
    assert p.shown == "triangular(0.2, 0.4, 0.6)"
    assert p.text == "{triangular: [0.2, 0.4, 0.6]}"
    assert params["end_date"].kind == "date"
    assert params["demand.us_magnet_ev.rate_tpy"].kind == "number"


def test_tweak_round_trips_through_the_loader(tmp_path):
    params = catalogue(resolve_scenario_data(HEAVY))
    prob = next(p for p in params if p.endswith("approval_probability"))
    tweak = Tweak(HEAVY, {prob: "{triangular: [0.5, 0.6, 0.7]}",
                          "demand.us_magnet_ev.rate_tpy": "5000",
                          "end_date": "2030-01-01"}, name="heavy_tweak")
    target = tmp_path / "sub" / "heavy_tweak.yaml"
    save_tweak(tweak, target, header="saved by a test")
    saved = load_scenario(target)
    direct = load_scenario(HEAVY, overrides=tweak.overrides())
    assert scenario_sha256(saved) == scenario_sha256(direct)
    assert saved.name == "heavy_tweak" and saved.demand["us_magnet_ev"].rate_tpy == 5000
    # only extends and the changed values
    data = resolve_scenario_data(target)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# saved by a test\n")
    top = [line.split(":")[0] for line in text.splitlines()
           if line and not line.startswith(("#", " "))]
    assert top == ["extends", "name", "events", "demand", "end_date"]
    assert data["name"] == "heavy_tweak"
    with pytest.raises(FileExistsError):
        save_tweak(tweak, target)
    # the CLI command shown for it runs the same scenario
    cmd = shlex.split(cli_run_command(HEAVY, 20, 0, tweak.overrides(), Path("results")))
    sets = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--set"]
    assert scenario_sha256(load_scenario(cmd[2], overrides=sets)) == scenario_sha256(direct)


def test_bad_values_are_located_problems_not_tracebacks(tmp_path):
    session = Session(TINY.parent, tmp_path, workers=1)
    session.open(TINY)
    session.add_param(SHORT)
    session.set_values({SHORT: "lots"})
    scenario, problems = session.check()
    assert scenario is None
    assert problems[0].startswith(f"<--set>:1:{len(SHORT) + 2}: {SHORT}: ")
    assert f"--set {SHORT}=lots" in problems[0]
    session.set_values({SHORT: "-5"})
    assert "greater than" in session.check()[1][0]
    session.set_values({SHORT: "null"})
    assert "give a value" in session.check()[1][0]
    rec, problems = session.start_run(2, 0)
    assert rec is None and problems and not session.runs
    session.set_values({SHORT: "1000"})
    assert session.check()[1] == []
    with pytest.raises(ValueError, match=r"ends in \.yaml"):
        session.save(tmp_path / "x.txt")
    session.set_values({SHORT: ""})  # an empty box keeps the scenario's value
    assert session.tweak is not None and session.tweak.values == {}
    assert "give a value" in str(Tweak(TINY, {SHORT: "~"}).problems()[0])


def test_yaml_of_a_tweak_is_only_the_changes():
    text = tweak_yaml(Tweak(TINY, {SHORT: "1000"}), TINY.parent / "t.yaml")
    assert text == "extends: tiny.yaml\nfacilities:\n  my_refinery: {capacity_tpy: 1000}\n"


# ---- runs, reference, figures and numbers ------------------------------------------------

def test_runs_are_run_folders_and_the_first_is_the_reference(two_runs):
    session, ref_dir, run_dir = two_runs
    for d in (ref_dir, run_dir):
        assert sorted(p.name for p in d.iterdir()) == sorted(RUN_FILES)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == 3
    assert manifest["overrides"] == [f"{SHORT}=1000"]
    assert session.reference is session.runs[0]
    assert session.latest() is session.runs[1]
    # pin the second run, then a folder from disk
    assert session.pin(2) is session.runs[1]
    rec = session.open_folder(ref_dir)
    assert session.pin(rec.number).run_dir == ref_dir and rec.seed == 3
    assert session.pin(999) is None and session.reference is rec
    rec.seed = 4
    session.group = Group("demand_id", "jp_ev", "")
    assert "seeds differ" in session.render().note
    rec.seed = 3
    session.pin(1)


def test_a_tweaked_period_or_step_is_paired_like_with_like(tmp_path):
    """A tweak of ``end_date`` pairs the runs over the period both cover (a longer run of the
    same scenario differs by nothing there; the workbench used to count the extra year's
    shortfall as the tweak's effect) and says so; a tweak of the step is flagged."""
    session = Session(TINY.parent, tmp_path, workers=1)
    session.open(TINY)
    for path in (SHORT, "end_date", "simulation.step_days"):
        session.add_param(path)
    session.group = Group("demand_id", "jp_ev", "")
    by_run = {}
    for number, values in enumerate(({}, {"end_date": "2027-01-01"},
                                     {"simulation.step_days": "14"}), start=1):
        session.set_values({SHORT: "1000", **values})
        rec, problems = session.start_run(2, 3)
        assert rec is not None, problems
        _wait(session)
        by_run[number] = session.render()  # against the first run, the reference
    longer = by_run[2]
    # (2024-2025 is 104 weeks and 3 days: the shorter run's last step has 3 days, the
    # longer run's a whole week, so the pair ends at the last whole step)
    assert "different periods" in longer.note and "2024-01-01 to 2025-12-29" in longer.note
    assert "in whole steps" in longer.note
    assert "different steps" not in longer.note
    rows = longer.rows.set_index("metric")
    assert rows.loc["cumulative_shortfall_t", "mean_a"] > 100.0
    assert (rows["mean_diff"].fillna(0.0) == 0.0).all(), rows
    assert "different steps" in by_run[3].note and "14 days" in by_run[3].note


def test_differences_equal_analysis_compare(two_runs):
    _session, ref_dir, run_dir = two_runs
    a, b = RunView.from_folder(ref_dir), RunView.from_folder(run_dir)
    for group in (Group("demand_id", "jp_ev", ""), Group("sector", "ev", "")):
        got = paired_rows(a, b, group)
        assert got.equals(paired_rows(RunView.from_folder(ref_dir, group),
                                      RunView.from_folder(run_dir, group), group))
        ta, tb = a.timeseries, b.timeseries
        if group.by == "sector":
            ta, tb = sector_timeseries(ta), sector_timeseries(tb)
        want = paired_differences(replication_metrics(ta, a.scenario),
                                  replication_metrics(tb, b.scenario),
                                  metrics=list(METRIC_LABELS))
        want = want[want["demand_id"] == group.key].reset_index(drop=True)
        # the sector ev is Japan's EV demand alone, so it has its units too
        assert got.equals(want.assign(unit="test units")), (got, want)
    rows = got.set_index("metric")
    fill, units = rows.loc["fill_rate"], rows.loc["units_short"]
    assert fill["mean_diff"] < -0.05 and fill["n_pairs"] == 4
    # units not built = shortfall t x 1000 / 10 kg per unit
    short = rows.loc["cumulative_shortfall_t"]
    assert units["mean_diff"] == pytest.approx(short["mean_diff"] * 100)
    assert units["mean_diff"] > 0


def test_overlay_is_the_png_critmin_compare_writes(two_runs, tmp_path):
    from simulator.cli import main

    session, ref_dir, run_dir = two_runs
    with pytest.raises(SystemExit) as stop:
        main(["compare", str(ref_dir), str(run_dir), "--demand", "jp_ev",
              "--out", str(tmp_path / "cmp")])
    assert stop.value.code == 0
    group = Group("demand_id", "jp_ev", "")
    png = overlay_png([RunView.from_folder(ref_dir), RunView.from_folder(run_dir)], group)
    assert png == overlay_png([RunView.from_folder(ref_dir, group),
                               RunView.from_folder(run_dir, group)], group)
    assert png == (tmp_path / "cmp" / "overlay_demand_jp_ev.png").read_bytes()
    session.group = Group("demand_id", "jp_ev", "")
    view = session.render()
    assert view.png == png and view.rows is not None
    from simulator.app.layout import diff_table

    assert "test units not built (per replication)" in str(diff_table(view))
    assert any(c.startswith("# the overlay above") and "--demand jp_ev" in c
               for c in view.commands)


def test_the_price_panel_is_the_price_overlay_critmin_compare_writes(two_runs, tmp_path):
    """Tweaking market parameters needs the prices in view: the workbench shows, for the
    priced material chosen, the PNG ``critmin compare`` writes (overlay_prices_<material>),
    reference first; a scenario without prices says so instead."""
    from simulator.app.layout import price_options, prices_src
    from simulator.cli import main

    session, ref_dir, run_dir = two_runs
    with pytest.raises(SystemExit) as stop:
        main(["compare", str(ref_dir), str(run_dir), "--out", str(tmp_path / "cmp")])
    assert stop.value.code == 0
    view = session.render_prices()
    assert view.materials == ("oxide",) and view.material == "oxide"
    assert view.png == (tmp_path / "cmp" / "overlay_prices_oxide.png").read_bytes()
    assert prices_src(view).startswith("data:image/png;base64,")
    assert price_options(view) == [{"label": "oxide", "value": "oxide"}]
    # the refinery cut made the oxide scarce: the tweak's price rose, the reference's did not
    cut = pd.read_parquet(run_dir / "prices.parquet")["price_usd_per_kg"]
    ref = pd.read_parquet(ref_dir / "prices.parquet")["price_usd_per_kg"]
    assert cut.max() > 1.5 * 10 and ref.max() == pytest.approx(10, rel=0.01)
    session.price_material = "nothing priced"  # a stale choice falls back to the first
    assert session.render_prices().material == "oxide"
    session.price_material = None
    plain = Session(TINY.parent, tmp_path / "results", workers=1)
    plain.open(TINY)
    rec, problems = plain.start_run(1, 3)
    assert rec is not None, problems
    _wait(plain)
    shown = plain.render_prices()
    assert shown.png is None and shown.note.startswith("No prices")


def test_the_price_panel_opens_on_the_price_that_moved_most(tmp_path):
    """Unless the analyst chose one, the panel shows the priced material whose price rose
    most over its first recorded price in any tier of the runs shown (under the heavy-REE
    licences: Dy/Tb oxide, not the NdPr oxide listed first)."""
    from simulator.app.views import most_moved

    def folder(name: str, rows: list[tuple[int, str, str, float]]) -> RunView:
        d = tmp_path / name
        d.mkdir()
        pd.DataFrame(rows, columns=["day", "material", "market", "price_usd_per_kg"]) \
            .to_parquet(d / "prices.parquet")
        return RunView(name, None, pd.DataFrame(), 1, d)

    calm = folder("calm", [(0, "ndpr_oxide", "ex-CN", 52.0), (7, "ndpr_oxide", "ex-CN", 55.0),
                           (0, "dytb_oxide", "ex-CN", 417.0), (7, "dytb_oxide", "ex-CN", 417.0)])
    shock = folder("shock", [(0, "ndpr_oxide", "CN", 52.0), (7, "ndpr_oxide", "CN", 52.0),
                             (0, "dytb_oxide", "ex-CN", 417.0),
                             (7, "dytb_oxide", "ex-CN", 1500.0)])
    both = ["ndpr_oxide", "dytb_oxide"]
    assert most_moved([calm, shock], both) == "dytb_oxide"
    assert most_moved([calm], both) == "ndpr_oxide"  # +6% against 0%
    still = folder("still", [(0, "ndpr_oxide", "CN", 52.0), (0, "dytb_oxide", "CN", 334.0)])
    assert most_moved([still], both) == "ndpr_oxide"  # nothing moved: the first


def test_the_last_run_is_drawn_from_memory_as_its_folder_reads(tmp_path, monkeypatch):
    """After a run, its curve is drawn from the time series the session kept (replications
    finish out of order on 2 workers) without reading the folder back: the same rows."""
    session = Session(TINY.parent, tmp_path, workers=2)
    try:
        session.open(TINY)
        rec, _ = session.start_run(8, 5)
        assert rec is not None
        _wait(session)
        groups = [Group("demand_id", "jp_ev", ""), Group("sector", "ev", "")]
        want = [RunView.from_folder(rec.run_dir, g) for g in groups]
        with monkeypatch.context() as m:
            m.setattr(RunView, "from_folder", None)  # reading the folder would fail here
            got = [session.view_of(rec, g) for g in groups]
        for g, a, b in zip(groups, got, want, strict=True):
            pd.testing.assert_frame_equal(a.timeseries.reset_index(drop=True),
                                          b.timeseries.reset_index(drop=True))
            assert (a.name, a.replications, a.run_dir, a.seed) == \
                (b.name, b.replications, b.run_dir, b.seed) == ("tiny", 8, rec.run_dir, 5)
            assert overlay_png([a], g) == overlay_png([b], g)
            assert "units_short" not in set(paired_rows(a, b, g)["metric"])  # no units here
        # the folder, figures drawn on a worker, is the one `critmin run` writes, byte for byte
        from simulator.cli import main

        with pytest.raises(SystemExit) as stop:
            main(["run", str(TINY), "-n", "8", "--seed", "5", "-j", "1",
                  "--out", str(tmp_path / "cli")])
        assert stop.value.code == 0
        (cli_dir,) = (tmp_path / "cli" / "tiny").iterdir()
        names = sorted(p.name for p in rec.run_dir.iterdir())
        assert names == sorted(p.name for p in cli_dir.iterdir()) == sorted(RUN_FILES)
        assert run_file_digests(rec.run_dir) == run_file_digests(cli_dir)
    finally:
        session.close()


def test_cancel_keeps_the_finished_replications(tmp_path):
    session = Session(TINY.parent, tmp_path, workers=1)
    session.open(TINY)
    rec, _ = session.start_run(40, 0)
    assert rec is not None
    session.cancel()
    _wait(session)
    assert rec.status == "interrupted" and 1 <= rec.done < 40
    manifest = json.loads((rec.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert manifest["replications_completed"] == rec.done
    assert not session.cancel()  # nothing running


def test_cli_does_not_import_the_app():
    code = ("import sys, simulator.cli; "
            "assert 'dash' not in sys.modules and 'simulator.app' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_loopback_only_and_nothing_from_elsewhere(tmp_path):
    from simulator.app.server import create_app

    app = create_app(Session(TINY.parent, tmp_path, workers=1))
    client = app.server.test_client()
    assert client.get("/", headers={"Host": "attacker.example:8050"}).status_code == 403
    page = client.get("/", headers={"Host": "127.0.0.1:8050"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "src=\"http" not in html and "href=\"http" not in html
    assert client.get("/assets/app.css", headers={"Host": "localhost"}).status_code == 200


def test_enter_in_a_text_box_reads_what_was_typed(tmp_path):
    """A box whose Enter (n_submit) triggers a callback that reads its value as State must not
    debounce: with debounce, Dash sends n_submit before the typed value, so Enter could act on
    the old value (the Chromium test once timed out waiting for a parameter added by Enter)."""
    from dash import dcc

    from simulator.app.server import create_app

    app = create_app(Session(TINY.parent, tmp_path, workers=1))
    boxes: dict[str, object] = {}

    def walk(node: object) -> None:
        if isinstance(node, dcc.Input) and isinstance(getattr(node, "id", None), str):
            boxes[node.id] = node
        children = getattr(node, "children", None)
        for child in children if isinstance(children, (list, tuple)) else [children]:
            if child is not None and not isinstance(child, (str, int, float)):
                walk(child)

    walk(app.layout() if callable(app.layout) else app.layout)
    submitted = set()
    for spec in app.callback_map.values():
        inputs = {(i["id"], i["property"]) for i in spec["inputs"]}
        states = {(s["id"], s["property"]) for s in spec["state"]}
        submitted |= {cid for cid, prop in inputs
                      if prop == "n_submit" and (cid, "value") in states}
    assert submitted >= {"scenario-path", "add-path", "ref-path"}
    for cid in submitted:
        assert not getattr(boxes[cid], "debounce", False), cid


def test_live_redraws_take_at_most_a_share_of_the_time():
    """A live overlay redraw costs ~1 s of CPU on the workers' cores: redrawn every 2 s, it
    slowed a 20-replication baseline run from 10.3 to 12.5-14 s. It now waits 3 times its
    own cost (a quarter of the time) and at least LIVE_EVERY_S."""
    from simulator.app.session import LIVE_EVERY_S, live_redraw_due

    assert not live_redraw_due(LIVE_EVERY_S - 0.1, 0.01)
    assert live_redraw_due(LIVE_EVERY_S, 0.01)
    assert not live_redraw_due(2.5, 1.0) and live_redraw_due(3.0, 1.0)
    assert not live_redraw_due(5.9, 2.0) and live_redraw_due(6.0, 2.0)


# ---- one real session in headless Chromium -----------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                    reason="chromium and chromium-driver are not installed (as root on "
                           "Debian, make test installs them: apt-get install chromium "
                           "chromium-driver)")
def test_workbench_in_headless_chromium(tmp_path, monkeypatch):
    """Open the baseline, run it short (the reference), cut China's magnet plants, run
    again: the overlay changes, the paired difference shown is not zero and the prices are
    drawn."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager: never download a driver
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "simulator", "app", "--no-browser", "--port", str(port),
         "--out", str(tmp_path / "results"), "-j", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1800",
                "--disable-background-networking", "--disable-component-update",
                "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        wait = WebDriverWait(driver, 90)
        end = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert time.monotonic() < end, "the app did not start"
                time.sleep(0.2)
        driver.get(f"http://127.0.0.1:{port}/")

        def box(path: str):
            return wait.until(lambda d: d.find_element(
                By.CSS_SELECTOR, f"input[id*='\"path\":\"{path}\"']"))

        def text(element_id: str) -> str:
            return driver.find_element(By.ID, element_id).text

        horizon = box("end_date")
        horizon.clear()
        horizon.send_keys("2025-04-01" + Keys.ENTER)
        reps = driver.find_element(By.ID, "reps")
        reps.clear()
        reps.send_keys("2")
        wait.until(lambda d: "Valid (1 change)" in text("check-msg"))
        driver.find_element(By.ID, "run-btn").click()
        wait.until(lambda d: "Done #1" in text("run-status"))
        first = wait.until(lambda d: d.find_element(By.ID, "overlay").get_attribute("src"))

        # a bad value: the loader's located message, no run
        add = driver.find_element(By.ID, "add-path")
        add.send_keys("facilities.cn_magnets.capacity_tpy" + Keys.ENTER)
        capacity = box("facilities.cn_magnets.capacity_tpy")
        capacity.clear()
        capacity.send_keys("lots" + Keys.ENTER)
        wait.until(lambda d: "<--set>:" in text("check-msg"))
        assert "facilities.cn_magnets.capacity_tpy" in text("check-msg")
        assert "Traceback" not in driver.page_source

        capacity.clear()
        capacity.send_keys("150000" + Keys.ENTER)
        wait.until(lambda d: "Valid (2 changes)" in text("check-msg"))
        driver.find_element(By.ID, "run-btn").click()
        wait.until(lambda d: "Done #2" in text("run-status"))
        wait.until(lambda d: "paired difference" in text("diff-table"))
        second = driver.find_element(By.ID, "overlay").get_attribute("src")
        assert second and second != first
        diff = text("diff-table")
        assert "-100.0 pp" in diff or " pp [" in diff
        assert "+0 t" not in diff.splitlines()[3]  # the shortfall row: not zero
        assert "critmin compare" in text("commands")
        # the baseline prices its oxides and metals: the price panel shows one
        wait.until(lambda d: (d.find_element(By.ID, "prices").get_attribute("src") or "")
                   .startswith("data:image/png;base64,"))
        assert "USD/kg, per market tier" in text("price-note")
        # offline: everything the page loaded came from the app
        urls = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)")
        assert urls and all(u.startswith(f"http://127.0.0.1:{port}/") or u.startswith("data:")
                            for u in urls), urls
    finally:
        driver.quit()
        server.terminate()
        server.wait(20)
