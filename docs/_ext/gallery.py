"""The validation gallery: replay check tables and figures, generated from the replay modules.

Each replay module ``simulator/replays/v<N>_<name>.py`` computes its checks (simulated value,
historical target with tolerance, pass/fail, source) and draws its figure. This script runs
every replay once and writes, from that one run:

- the figure ``docs/replays/v<N>-<name>.png`` (via ``scripts/replay_figures.py``);
- the check table of the replay's page ``docs/replays/v<N>-<name>.md``, between the markers
  ``<!-- BEGIN generated checks ... -->`` and ``<!-- END generated checks -->``;
- the replay's card in the gallery page ``docs/replays/index.md`` (figure, checks passed).

The text around the markers is hand-written. The replay tests
(``tests/test_replay_v*.py``) call :func:`assert_in_sync` with the replay they have already
computed, so a stale table fails the suite without running any replay twice.

    python docs/_ext/gallery.py              # every replay (about a minute)
    python docs/_ext/gallery.py --only v3    # one replay
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import re
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PAGES = ROOT / "docs" / "replays"
INDEX = PAGES / "index.md"
COMMAND = "python docs/_ext/gallery.py"


def _figures_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("replay_figures",
                                                  ROOT / "scripts" / "replay_figures.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def replay_modules() -> list[str]:
    return _figures_script().replay_modules(ROOT)


def page_name(module_name: str) -> str:
    """``v2_china_controls_2025_04`` -> ``v2-china-controls-2025-04``."""
    return module_name.replace("_", "-")


def _begin(kind: str, module_name: str) -> str:
    return (f"<!-- BEGIN generated {kind}: {COMMAND} --only {module_name.split('_')[0]} "
            f"(from simulator/replays/{module_name}.py; do not edit) -->")


def _end(kind: str) -> str:
    return f"<!-- END generated {kind} -->"


def fmt(x: float) -> str:
    """A simulated value for the table: 3 significant figures, thousands separated."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "never" if x > 0 else "-inf"
    x = float(x)
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    digits = max(0, 2 - math.floor(math.log10(abs(x))))
    return f"{x:.{digits}f}"


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def checks_markdown(replay: Any, expected_failures: dict[str, str] | None = None) -> str:
    """The replay's checks as a Markdown table, then a one-line verdict."""
    expected = expected_failures or {}
    lines = ["| # | check | simulated | target | result | source |",
             "|---|---|---|---|---|---|"]
    for i, c in enumerate(replay.checks, 1):
        result = "pass" if c.passed else ("**fail** (known gap)" if c.name in expected
                                          else "**fail**")
        lines.append(f"| {i} | {_cell(c.name)} | {fmt(c.simulated)} | {_cell(c.target)} | "
                     f"{result} | {_cell(c.source)} |")
    lines += ["", verdict(replay, expected) + "."]
    return "\n".join(lines)


def verdict(replay: Any, expected: dict[str, str] | None = None) -> str:
    n = len(replay.checks)
    failed = [c.name for c in replay.checks if not c.passed]
    text = f"{n - len(failed)} of {n} checks pass"
    if failed:
        known = [f for f in failed if f in (expected or {})]
        text += f" ({len(failed)} failing"
        text += f", {len(known)} of them documented known gaps)" if known else ")"
    return text


def card_markdown(module_name: str, replay: Any, expected: dict[str, str] | None = None) -> str:
    """The replay's card in the gallery page."""
    name = page_name(module_name)
    status = "all checks pass" if replay.passed else verdict(replay, expected)
    return "\n".join([
        f"## [{_cell(replay.title)}]({name}.md)", "",
        f"Scenario: `{_cell(replay.scenario)}`. **{status}** "
        f"({len(replay.checks)} checks against history, each with its tolerance).", "",
        f"[![{_cell(replay.title)}]({name}.png)]({name}.md)"])


def replace_block(text: str, kind: str, module_name: str, body: str) -> str:
    """``text`` with the generated block for ``module_name`` replaced by ``body``."""
    begin = _begin(kind, module_name)
    pattern = re.compile(re.escape(begin.split(" (from")[0]) + r".*?" + re.escape(_end(kind)),
                         re.S)
    block = f"{begin}\n\n{body}\n\n{_end(kind)}"
    if not pattern.search(text):
        raise ValueError(f"no generated {kind} block for {module_name}: add the markers "
                         f"{begin!r} ... {_end(kind)!r}")
    return pattern.sub(lambda _m: block, text, count=1)


def expected_failures(module_name: str) -> dict[str, str]:
    mod = importlib.import_module(f"simulator.replays.{module_name}")
    return dict(getattr(mod, "EXPECTED_FAILURES", {}) or {})


def rendered(module_name: str, replay: Any) -> dict[Path, str]:
    """Every file this replay's generated blocks live in, with the blocks up to date."""
    expected = expected_failures(module_name)
    page = PAGES / f"{page_name(module_name)}.md"
    out = {page: replace_block(page.read_text(encoding="utf-8"), "checks", module_name,
                               checks_markdown(replay, expected))}
    out[INDEX] = replace_block(INDEX.read_text(encoding="utf-8"), "card", module_name,
                               card_markdown(module_name, replay, expected))
    return out


def assert_in_sync(module_name: str, replay: Any) -> None:
    """Fail if the docs' tables for this replay differ from ``replay`` (already computed)."""
    for path, text in rendered(module_name, replay).items():
        current = path.read_text(encoding="utf-8")
        assert current == text, (
            f"{path.relative_to(ROOT)} is stale for {module_name}: run `{COMMAND} --only "
            f"{module_name.split('_')[0]}` (and review the hand-written text around the table)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", metavar="KEY", help="only these replays (e.g. v3)")
    p.add_argument("--no-figures", action="store_true", help="tables only (still runs them)")
    args = p.parse_args(argv)
    script = _figures_script()
    names = replay_modules()
    if args.only:
        names = [n for n in names if any(n == k or n.startswith(k + "_") for k in args.only)]
    for name in names:
        t0 = time.perf_counter()
        if args.no_figures:
            replay = script.load(name).run_replay(ROOT)
        else:
            _, replay = script.write_figure(name, PAGES, ROOT)
        for path, text in rendered(name, replay).items():
            path.write_text(text, encoding="utf-8")
        print(f"{name}: {verdict(replay, expected_failures(name))} "
              f"({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
