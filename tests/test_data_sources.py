"""Every number in the baseline scenario has a source, and the sources page cannot drift.

- each numeric leaf of ``scenarios/baseline.yaml`` (ints and floats; booleans and dates are
  not numbers) matches at least one ``path`` glob of ``scenarios/sources.csv``;
- each row matches at least one leaf (no stale rows), names a source, and an assumption or
  derived row explains itself in its note;
- ``docs/data-sources.md`` is exactly what ``docs/render_sources.py`` renders;
- the baseline still satisfies validation V1 in its analytic steady state.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SOURCES = ROOT / "scenarios" / "sources.csv"
PAGE = ROOT / "docs" / "data-sources.md"


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


render_sources = _module("render_sources", ROOT / "docs" / "render_sources.py")


def numeric_leaves(node: object, prefix: tuple[str, ...] = ()) -> list[str]:
    """Dotted key paths of every int/float leaf (not bool; dates and strings are skipped)."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in numeric_leaves(v, (*prefix, str(k)))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in numeric_leaves(v, (*prefix, str(i)))]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return [".".join(prefix)]
    return []


def undocumented(leaves: list[str], rows: list[dict[str, str]]) -> list[str]:
    """Leaves that no row's path glob matches."""
    globs = [r["path"] for r in rows]
    return [leaf for leaf in leaves if not any(fnmatch.fnmatchcase(leaf, g) for g in globs)]


def stale(leaves: list[str], rows: list[dict[str, str]]) -> list[str]:
    """Row globs that match no leaf."""
    return [r["path"] for r in rows
            if not any(fnmatch.fnmatchcase(leaf, r["path"]) for leaf in leaves)]


@pytest.fixture(scope="module")
def leaves() -> list[str]:
    data = YAML(typ="safe", pure=True).load(BASELINE.read_text(encoding="utf-8"))
    return numeric_leaves(data)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return render_sources.read_rows(SOURCES)


def test_walker_finds_numbers_not_booleans_or_dates() -> None:
    data = YAML(typ="safe", pure=True).load(
        "a: 1\nb: 2.5\nc: true\nd: 2024-01-01\ne: {f: [3, x]}\ng: '4'\n"
    )
    assert numeric_leaves(data) == ["a", "b", "e.f.0"]


def test_baseline_has_numbers(leaves: list[str]) -> None:
    assert len(leaves) > 300
    assert "facilities.cn_mines.capacity_tpy" in leaves
    assert "lead_times.lanes.CN.US" in leaves


def test_every_number_has_a_source_row(leaves: list[str], rows: list[dict[str, str]]) -> None:
    missing = undocumented(leaves, rows)
    assert not missing, "numbers without a row in scenarios/sources.csv:\n  " + "\n  ".join(
        missing)


def test_removing_a_row_is_detected(leaves: list[str], rows: list[dict[str, str]]) -> None:
    """The check can fail: dropping the USGS China row leaves cn_mines undocumented."""
    kept = [r for r in rows if r["path"] != "facilities.cn_mines.capacity_tpy"]
    assert len(kept) == len(rows) - 1
    assert undocumented(leaves, kept) == ["facilities.cn_mines.capacity_tpy"]


def scoped(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    """Rows of other shipped scenarios (``<file>.yaml:<path>``) by file, paths unscoped."""
    out: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        name, sep, path = r["path"].partition(":")
        if sep:
            out.setdefault(name, []).append({**r, "path": path})
    return out


def test_every_row_matches_a_number(leaves: list[str], rows: list[dict[str, str]]) -> None:
    unused = stale(leaves, [r for r in rows if ":" not in r["path"]])
    assert not unused, f"rows whose path matches no number in baseline.yaml: {unused}"


def test_rows_are_complete(rows: list[dict[str, str]]) -> None:
    problems = []
    for i, r in enumerate(rows, start=2):  # line 1 is the header
        where = f"sources.csv:{i} ({r['path']})"
        for col in ("path", "figure", "value", "source"):
            if not r[col]:
                problems.append(f"{where}: empty {col}")
        if r["source"].lower() in {"assumption", "derived", "calibration"} and \
                len(r["note"]) < 15:
            problems.append(f"{where}: {r['source']} rows must explain themselves in the note")
        if r["source"].lower().startswith(("assum", "deriv", "calib")) and r["source"] not in {
                "assumption", "derived", "calibration"}:
            problems.append(f"{where}: write exactly 'assumption', 'derived' or 'calibration'")
        if r["source"] == "calibration" and "V" not in r["note"]:
            problems.append(f"{where}: a calibration row names the replay (V1-V6) it fits")
        if r["year"] and not re.fullmatch(r"\d{4}(-\d{4})?", r["year"]):
            problems.append(f"{where}: year {r['year']!r} is not YYYY or YYYY-YYYY")
    assert not problems, "\n".join(problems)


def test_sources_page_is_rendered_from_the_csv(rows: list[dict[str, str]]) -> None:
    expected = render_sources.render(rows)
    actual = PAGE.read_text(encoding="utf-8")
    assert actual == expected, "docs/data-sources.md is stale: run python docs/render_sources.py"


def test_page_groups_rows_by_section(rows: list[dict[str, str]]) -> None:
    page = render_sources.render(rows)
    for title in ("## Facilities", "## Final demand", "## Sourcing shares", "## Lead times"):
        assert title in page
    assert page.count("\n| `") == len(rows)


def test_baseline_satisfies_v1_in_steady_state() -> None:
    steady = _module("steady_state", ROOT / "scripts" / "steady_state.py")
    s = steady.load(BASELINE)
    ss = steady.steady_state(s)
    checks = steady.v1_checks(steady.analytic_v1(s, ss))
    failed = [c for c in checks if not c[3]]
    assert not failed, failed
    over = {fid: ss.unconstrained_runs[fid] / f.capacity_tpy
            for fid, f in s.facilities.items()
            if ss.unconstrained_runs[fid] > f.capacity_tpy * (1 + 1e-9)}
    assert not over, over


@pytest.mark.slow
def test_baseline_satisfies_v1_in_the_engine() -> None:
    """One engine replication reproduces V1 from annual averages, with no shortfall."""
    steady = _module("steady_state", ROOT / "scripts" / "steady_state.py")
    s = steady.load(BASELINE)
    v1, result, _years, _production = steady.engine_v1(s, seed=0)
    failed = [c for c in steady.v1_checks(v1) if not c[3]]
    assert not failed, failed
    assert float(result.timeseries["shortfall_t"].sum()) == pytest.approx(0.0, abs=1e-6)


def test_scenario_rows_document_every_number_of_their_file(rows: list[dict[str, str]]) -> None:
    """Rows scoped to another shipped scenario (``ndpr_2021_2023.yaml:...``): the file exists,
    each row matches one of its own numbers, and every number it writes has a row."""
    files = scoped(rows)
    assert "ndpr_2021_2023.yaml" in files
    for name, own in files.items():
        path = ROOT / "scenarios" / name
        assert path.is_file(), f"sources.csv names {name}, which is not a shipped scenario"
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        file_leaves = numeric_leaves(data)
        assert not stale(file_leaves, own), f"{name}: rows matching no number"
        assert not undocumented(file_leaves, own), f"{name}: numbers without a row"
