"""Regenerate every replay figure in docs/replays/ from the replay modules.

A replay module is ``simulator/replays/v<N>_<name>.py`` exposing ``run_replay(root) ->
Replay`` and ``replay_figure(replay) -> Figure`` (see simulator/replays/base.py). For each
one found, this script runs the replay (its scenario and baseline, one replication), draws
its figure and writes ``<out>/v<N>-<name>.png`` (underscores become hyphens), then prints the
checks. Figures are written byte-reproducibly (no software or date metadata).

Usage::

    python scripts/replay_figures.py [--out docs/replays] [--only v2 ...]

Exit status 0 when every figure was written (failing checks are reported, not fatal: the
replay docs say which checks fail and why); 1 if a module is malformed or its run fails.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODULE_NAME = re.compile(r"^v\d+_[a-z0-9_]+$")


def replay_modules(root: Path = ROOT) -> list[str]:
    """Names of the replay modules in ``simulator/replays/``, in replay-number order."""
    names = [p.stem for p in (root / "simulator" / "replays").glob("v*_*.py")
             if MODULE_NAME.match(p.stem)]
    return sorted(names, key=lambda n: (int(re.match(r"v(\d+)", n).group(1)), n))


def figure_name(module_name: str) -> str:
    """``v2_china_controls_2025_04`` -> ``v2-china-controls-2025-04.png``."""
    return module_name.replace("_", "-") + ".png"


def load(module_name: str) -> ModuleType:
    mod = importlib.import_module(f"simulator.replays.{module_name}")
    for attr in ("run_replay", "replay_figure"):
        if not callable(getattr(mod, attr, None)):
            raise TypeError(f"simulator/replays/{module_name}.py has no {attr}()")
    return mod


def write_figure(module_name: str, out: Path, root: Path = ROOT) -> tuple[Path, object]:
    """Run one replay, save its figure into ``out``; returns (png path, replay)."""
    import matplotlib as mpl

    mod = load(module_name)
    replay = mod.run_replay(root)
    fig = mod.replay_figure(replay)
    path = out / figure_name(module_name)
    with mpl.rc_context({"svg.hashsalt": "critmin", "font.size": 9}):
        fig.savefig(path, dpi=150, metadata={"Software": None})
    return path, replay


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "replays",
                   help="folder for the PNG files (default: docs/replays)")
    p.add_argument("--only", nargs="+", metavar="KEY",
                   help="only these modules, by full name or prefix (e.g. v2)")
    args = p.parse_args(argv)

    names = replay_modules()
    if args.only:
        names = [n for n in names if any(n == k or n.startswith(k + "_") for k in args.only)]
    if not names:
        print("no replay modules found", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    status = 0
    for name in names:
        t0 = time.perf_counter()
        try:
            path, replay = write_figure(name, args.out)
        except Exception as exc:  # report and go on with the other replays
            print(f"{name}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            status = 1
            continue
        table = replay.table()
        failed = table.loc[~table["passed"], "name"].tolist()
        verdict = "all checks pass" if not failed else f"failing: {'; '.join(failed)}"
        print(f"{path} ({time.perf_counter() - t0:.1f} s): {verdict}")
        print(table[["name", "simulated", "target", "passed"]].to_string(index=False))
    return status


if __name__ == "__main__":
    sys.exit(main())
