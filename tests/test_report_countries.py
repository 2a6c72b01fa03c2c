"""The run report's "By country" section: a selector of countries with demand, the ones that
ran short first, each with its own panels and metrics (issue: `critmin run` showed world
totals only, so Japan's EV curve needed a second, full compare run)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from simulator.api import write_run_folder
from simulator.report import write_report
from simulator.runner import run_scenario
from simulator.scenario import load_scenario

TINY = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "tiny.yaml"
#: Malaysia bans oxide exports to Japan for three months; Malaysia's own users are served.
TWO_COUNTRIES = """\
extends: tiny.yaml
name: tiny_two_countries
demand:
  my_glass: {country: MY, sector: glass, material: oxide, rate_tpy: 200, cover_days: 30}
sourcing:
  my_oxide: {country: MY, material: oxide, suppliers: {MY: 1.0}}
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


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("countries")
    shutil.copy(TINY, d / "tiny.yaml")
    (d / "two.yaml").write_text(TWO_COUNTRIES)
    sc = load_scenario(d / "two.yaml")
    run_dir = write_run_folder(run_scenario(sc, replications=2, seed=1), sc,
                               out_root=d / "results")
    return write_report(run_dir).read_text(encoding="utf-8")


def test_country_selector_lists_countries_with_demand_short_first(page: str) -> None:
    section = page[page.index('<section id="countries">'):]
    section = section[:section.index("</section>")]
    nav = section[section.index('<nav class="countries"'):section.index("</nav>")]
    links = re.findall(r'href="#country-(\w+)">([^<]*)<', nav)
    assert [code for code, _ in links] == ["JP", "MY"]  # AU has no demand; JP ran short
    assert "t short" in links[0][1] and "short" not in links[1][1]
    assert 'href="#countries"' in page  # in the contents


def test_each_country_has_its_panels_and_rows(page: str) -> None:
    section = page[page.index('<section id="countries">'):]
    jp = section[section.index('id="country-JP"'):section.index('id="country-MY"')]
    my = section[section.index('id="country-MY"'):section.index("</section>")]
    assert 'id="fig-country-JP"' in jp and "data:image/png;base64," in jp
    assert "jp_ev" in jp and "my_glass" not in jp
    assert "fig-country-MY" not in my and "No demand sector of this country ran short" in my
    assert "my_glass" in my and "jp_ev" not in my
