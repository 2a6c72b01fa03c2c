"""``critmin compare --reference``: "how much does X help" against any scenario, and every
pair's paired difference (pairs.csv), on the tiny chain with a ban and a remedy."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from simulator.analysis.compare import comparison_pairs
from tests.test_compare_cli import BAN, critmin

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"

#: The same ban met by four months of cover at Japan's buyer (the remedy).
HELP = """\
extends: tiny_ban.yaml
name: tiny_help
demand:
  jp_ev: {country: JP, sector: ev, material: oxide, rate_tpy: 1000, cover_days: 120}
"""


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    d = tmp_path_factory.mktemp("pairs")
    shutil.copy(TINY, d / "tiny.yaml")
    (d / "tiny_ban.yaml").write_text(BAN)
    (d / "tiny_help.yaml").write_text(HELP)
    res = critmin("compare", "tiny.yaml", "tiny_ban.yaml", "tiny_help.yaml", "-n", "4",
                  "--seed", "3", "--reference", "tiny_ban", "--reference", "tiny.yaml",
                  "--out", "cmp", cwd=d)
    return res, d / "cmp"


def _pair(pairs: pd.DataFrame, ref: str, other: str, metric: str = "fill_rate",
          level: str = "sector", group: str = "ev") -> pd.Series:
    hit = pairs[(pairs["reference"] == ref) & (pairs["scenario"] == other)
                & (pairs["metric"] == metric) & (pairs["level"] == level)
                & (pairs["group"] == group)]
    assert len(hit) == 1, (ref, other, metric)
    return hit.iloc[0]


@pytest.mark.slow
def test_reference_orders_the_comparison(compared):
    res, out = compared
    assert res.returncode == 0, res.stderr
    info = json.loads((out / "compare.json").read_text())
    assert info["reference"] == "tiny_ban" and info["references"] == ["tiny_ban", "tiny"]
    assert [i["name"] for i in info["inputs"]] == ["tiny_ban", "tiny", "tiny_help"]
    kpis = pd.read_csv(out / "kpis.csv")
    alt = kpis[kpis["role"] == "alternative"]
    assert set(alt["diff_vs"]) == {"tiny_ban"}
    # the reference's own rows say "reference" (they said "baseline", though the baseline
    # scenario here is tiny, an alternative)
    assert set(kpis["role"]) == {"reference", "alternative"}
    assert set(kpis.loc[kpis["role"] == "reference", "scenario"]) == {"tiny_ban"}
    assert "paired differences vs tiny_ban" in res.stdout.replace("\n", " ")


def test_every_pair_is_differenced_with_known_signs(compared):
    _, out = compared
    pairs = pd.read_csv(out / "pairs.csv")
    order = list(dict.fromkeys(zip(pairs["reference"], pairs["scenario"], strict=True)))
    # against the question's reference first, then against the baseline (each in full)
    assert order == [("tiny_ban", "tiny"), ("tiny_ban", "tiny_help"),
                     ("tiny", "tiny_ban"), ("tiny", "tiny_help")]
    helps = _pair(pairs, "tiny_ban", "tiny_help")
    assert helps["diff_mean"] > 0 and bool(helps["ci_excludes_zero"])
    assert helps["ci95_low"] <= helps["diff_mean"] <= helps["ci95_high"]
    assert helps["n"] == 4
    assert helps["diff_mean"] == pytest.approx(helps["mean_scenario"] - helps["mean_reference"])
    costs = _pair(pairs, "tiny", "tiny_ban", "cumulative_shortfall_t")
    assert costs["diff_mean"] > 0  # the ban adds shortfall
    # one pair two ways is one difference with its sign flipped
    back = _pair(pairs, "tiny_ban", "tiny", "cumulative_shortfall_t")
    assert back["diff_mean"] == pytest.approx(-costs["diff_mean"])
    assert back["ci95_low"] == pytest.approx(-costs["ci95_high"])
    # the pair against the first reference is kpis.csv's difference
    kpis = pd.read_csv(out / "kpis.csv")
    row = kpis[(kpis["level"] == "sector") & (kpis["group"] == "ev")
               & (kpis["metric"] == "fill_rate") & (kpis["scenario"] == "tiny_help")].iloc[0]
    assert row["diff_mean"] == pytest.approx(helps["diff_mean"])
    # demand sectors are paired too
    assert not pairs[(pairs["level"] == "demand") & (pairs["group"] == "jp_ev")].empty


def test_report_leads_with_the_question(compared):
    _, out = compared
    page = (out / "report.html").read_text(encoding="utf-8")
    findings = page[page.index('id="findings"'):page.index('id="figures"')]
    first = findings.index("Against tiny_ban")
    second = findings.index("Against tiny:")
    assert first < findings.index("tiny_help: fill rate") < second
    assert "pairs.csv" in page


def test_unknown_reference_fails_before_running(tmp_path):
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    (tmp_path / "tiny_ban.yaml").write_text(BAN)
    res = critmin("compare", "tiny.yaml", "tiny_ban.yaml", "--reference", "nope", "-n", "2",
                  "--out", "cmp", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "--reference: not a compared scenario: nope" in res.stderr
    assert "tiny_ban" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "cmp").exists()


def test_comparison_pairs_order_and_seeds():
    names = ["base", "threat", "deal"]
    assert comparison_pairs(names, ["base"]) == [
        ("base", "threat"), ("base", "deal"), ("threat", "deal")]
    assert comparison_pairs(names, ["threat"]) == [
        ("threat", "base"), ("threat", "deal"), ("base", "deal")]
    # a pair that does not share a seed shares no random numbers: not differenced
    assert comparison_pairs(names, ["base"], {"base": 0, "threat": 0, "deal": 1}) == [
        ("base", "threat")]
    with pytest.raises(ValueError, match="not a compared scenario: x"):
        comparison_pairs(names, ["x"])


def test_every_printed_path_exists_after_publishing(compared):
    """The folder is written under a hidden temp name and renamed at the end: the paths
    printed must be the final ones (before: run folders, figures and the report were printed
    under the temp name that no longer exists)."""
    res, out = compared
    printed = [w for line in res.stdout.splitlines()
               if line.startswith(("Run folder", "Figures:", "Report:"))
               for w in line.split(":", 1)[1].split()]
    assert len(printed) >= 5, res.stdout
    for p in printed:
        assert (out.parent / p).exists() or Path(p).exists(), p
        assert ".tmp-" not in p


def test_hardest_hit_demand_sectors_do_not_depend_on_the_reference(compared):
    """A remedy compared with its threat shows the same hardest-hit demand sectors as the
    threat compared with the baseline (before: none, as no one fell below the threat)."""
    from simulator.comparison import demands_of_interest

    def frame(fills: dict[str, float]) -> pd.DataFrame:
        return pd.DataFrame([{"replication": 0, "demand_id": d, "sector": "ev",
                              "fill_rate": f, "cumulative_shortfall_t": 100 * (1 - f)}
                             for d, f in fills.items()])

    base = frame({"us_ev": 1.0, "jp_ev": 1.0, "de_ev": 1.0})
    threat = frame({"us_ev": 0.6, "jp_ev": 0.9, "de_ev": 1.0})
    remedy = frame({"us_ev": 0.8, "jp_ev": 0.95, "de_ev": 1.0})
    expected = ["us_ev", "jp_ev"]
    assert demands_of_interest({"t": threat, "r": remedy, "b": base}, None) == expected
    assert demands_of_interest({"b": base, "t": threat, "r": remedy}, None) == expected
