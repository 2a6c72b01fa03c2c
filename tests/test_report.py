"""``critmin report``: one self-contained, valid HTML file per run folder."""

from __future__ import annotations

import base64
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.api import write_run_folder
from simulator.cli import app
from simulator.report import build_report, load_run, write_report
from simulator.runner import run_scenario
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
VARIANT = """\
extends: tiny.yaml
name: tiny_licences
description: Malaysia licenses oxide exports to Japan for three months.
events:
  my_licences:
    type: export_control
    exporter: MY
    materials: [oxide]
    destinations: [JP]
    mode: licence
    effective: 2025-01-06
    end: 2025-04-07
    licence: {approval_probability: 0.5, delay_days: 14, delay_jitter_days: 21}
stockpiles:
  jp_oxide_reserve:
    country: JP
    material: oxide
    holdings_t: 60
    release: {trigger: fill_rate, threshold: 0.95, max_release_tpy: 400}
"""
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("report")
    shutil.copy(TINY, d / "tiny.yaml")
    (d / "variant.yaml").write_text(VARIANT)
    sc = load_scenario(d / "variant.yaml")
    results = run_scenario(sc, replications=3, seed=5)
    return write_run_folder(results, sc, out_root=d / "results")


@pytest.fixture(scope="module")
def report(run_dir) -> tuple[Path, str]:
    path = write_report(run_dir)
    return path, path.read_text(encoding="utf-8")


class Checker(HTMLParser):
    """Collects tags, attributes, text and nesting errors."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.decl: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: dict[str, list[str]] = {}
        self.ids: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.decl.append(decl)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.append(a["id"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else ''}>")
        else:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack:
            self.text.setdefault(self.stack[-1], []).append(data)

    def of(self, tag: str) -> list[dict]:
        return [a for t, a in self.tags if t == tag]


def parse(text: str) -> Checker:
    c = Checker()
    c.feed(text)
    c.close()
    return c


def test_report_is_valid_html5_and_self_contained(report):
    path, text = report
    assert path.name == "report.html"
    assert text.startswith("<!DOCTYPE html>\n")
    c = parse(text)
    assert c.decl == ["DOCTYPE html"]
    assert c.errors == [] and c.stack == []  # every element closed, properly nested
    assert len(c.ids) == len(set(c.ids))
    assert c.of("html") == [{"lang": "en"}]
    assert {"charset": "utf-8"} in c.of("meta")
    assert len(c.of("title")) == 1 and len(c.of("h1")) == 1
    # nothing to fetch: no scripts, external style sheets, frames; data: URIs only
    for tag in ("script", "link", "iframe", "object", "embed", "base"):
        assert c.of(tag) == [], tag
    for tag, attrs in c.tags:
        for name, value in attrs.items():
            if name in ("src", "href", "srcset", "poster", "data", "action"):
                assert value.startswith(("data:", "#")), (tag, name, value[:60])
            assert "http://" not in (value or "") and "https://" not in (value or "")
    style = "".join(c.text.get("style", []))
    assert "url(" not in style and "@import" not in style and "@font-face" not in style
    assert "http://" not in text and "https://" not in text


def test_report_content(report, run_dir):
    _path, text = report
    c = parse(text)
    assert "".join(c.text["h1"]) == "tiny_licences"
    assert "Malaysia licenses oxide exports" in text
    # every figure embedded as a PNG
    imgs = c.of("img")
    # fan, small multiples, stockpiles, origin mix, concentration, overview; Japan's panels
    assert len(imgs) == 7
    assert "fig-stockpiles" in c.ids and "stockpiles.parquet" in text  # drawn from the table
    for img in imgs:
        assert img["src"].startswith("data:image/png;base64,") and img["alt"]
        assert base64.b64decode(img["src"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    # sections, events with dates, KPI tables with percentiles and CIs
    for anchor in ("findings", "events", "figures", "sectors", "demand", "countries",
                   "summary", "manifest", "scenario", "definitions"):
        assert anchor in c.ids, anchor
    cells = " ".join(c.text.get("td", []))
    assert "my_licences" in cells and "2025-01-06" in cells and "2025-04-07" in cells
    heads = " ".join(c.text.get("th", []))
    assert "Trough P50 (P5, P95)" in heads and "Fill rate mean [95% CI]" in heads
    assert "jp_ev" in cells and "ev" in cells
    # the findings name the country and the trough
    assert "Japan ev" in text and "fill rate bottoms at" in text
    # manifest and resolved scenario in <pre>
    pre = "".join(c.text.get("pre", []))
    assert '"seed": 5' in pre and "name: tiny_licences" in pre and "my_licences:" in pre
    # the metrics CSV is embedded as a data: link
    link = next(a for a in c.of("a") if a.get("download") == "metrics_summary.csv")
    csv = base64.b64decode(link["href"].split(",", 1)[1]).decode()
    assert csv.startswith("demand_id,country,sector,material,metric,")
    # same run, same bytes
    assert build_report(run_dir) == text


def test_report_cli(run_dir, tmp_path):
    out = tmp_path / "r" / "x.html"
    r = CliRunner().invoke(app, ["report", str(run_dir), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert f"Report: {out}" in r.output and out.is_file()
    r = CliRunner().invoke(app, ["report", str(tmp_path / "nope")])
    assert r.exit_code == 66 and "nope: no such file" in r.output
    r = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert r.exit_code == 66 and "not a run folder" in r.output


def test_load_run(run_dir):
    run = load_run(run_dir, tables=("production",))
    assert run.name == "tiny_licences" and run.seed == 5 and run.replications == 3
    assert "inventory_t" not in run.timeseries.columns  # not needed, not read
    assert len(run.table("production")) > 0
    assert set(run.table("stockpiles")["stockpile"].astype(str)) == {"jp_oxide_reserve"}


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install "
                                               "chromium to run this rendering check)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    path, _text = report
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-quic", "--no-first-run",
           f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*cmd, "--dump-dom", path.as_uri()], capture_output=True, text=True,
                         timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<h1>tiny_licences</h1>" in dom.stdout
    assert "Metrics per sector" in dom.stdout
    shot = tmp_path / "shot.png"
    r = subprocess.run([*cmd, "--window-size=1200,2000", f"--screenshot={shot}",
                        path.as_uri()], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and shot.stat().st_size > 10_000
