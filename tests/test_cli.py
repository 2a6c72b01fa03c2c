"""The command line through its real entry points: exit codes, output, no tracebacks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import cli

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
CRITMIN_SCRIPT = Path(sys.executable).parent / "critmin"


def critmin(*args: str, cwd: Path, script: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("CRITMIN_DEBUG", None)
    cmd = [str(CRITMIN_SCRIPT)] if script else [sys.executable, "-m", "simulator"]
    return subprocess.run([*cmd, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def typo_file(tmp_path: Path) -> Path:
    text = TINY.read_text().replace("rate_tpy: 1000", "rate_tpi: 1000")
    assert "rate_tpi" in text
    path = tmp_path / "typo.yaml"
    path.write_text(text)
    return path


def test_run_writes_results(tmp_path):
    res = critmin("run", str(TINY), "-n", "2", "--seed", "7",
                  "--set", "demand.jp_ev.rate_tpy=2500", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    runs = list((tmp_path / "results" / "tiny").iterdir())  # default --out is ./results
    assert len(runs) == 1
    run_dir = runs[0]
    for name in ("manifest.json", "timeseries.parquet/part-00000.parquet", "kpis.csv",
                 "fill_rate.png", "fill_rate.svg", "scenario.resolved.yaml"):
        assert (run_dir / name).is_file(), name
    assert f"Run folder: {Path('results') / 'tiny' / run_dir.name}" in res.stdout
    assert "fill_rate.png" in res.stdout and "fill_rate.svg" in res.stdout
    assert "ev" in res.stdout and "%" in res.stdout  # the KPI table
    m = json.loads((run_dir / "manifest.json").read_text())
    assert m["seed"] == 7 and m["replications"] == 2 and m["status"] == "complete"
    assert m["overrides"] == ["demand.jp_ev.rate_tpy=2500"]


def test_run_out_option(tmp_path):
    res = critmin("run", str(TINY), "--out", "elsewhere", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert len(list((tmp_path / "elsewhere" / "tiny").iterdir())) == 1
    assert not (tmp_path / "results").exists()


def test_validate_ok(tmp_path):
    res = critmin("validate", str(TINY), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"OK {TINY}"


def test_validate_typo_is_located(tmp_path, typo_file):
    res = critmin("validate", str(TINY), str(typo_file), cwd=tmp_path)
    assert res.returncode == 65
    assert f"OK {TINY}" in res.stdout
    assert re.search(rf"^{re.escape(str(typo_file))}:\d+:\d+: demand\.jp_ev\.rate_tpi: ",
                     res.stderr, re.M), res.stderr
    assert "rate_tpy" in res.stderr  # did you mean
    assert "Traceback" not in res.stderr


def test_run_invalid_scenario_exits_65(tmp_path, typo_file):
    res = critmin("run", str(typo_file), cwd=tmp_path)
    assert res.returncode == 65
    assert re.search(r"typo\.yaml:\d+:\d+: ", res.stderr)
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "results").exists()


def test_bad_override_exits_65(tmp_path):
    res = critmin("run", str(TINY), "--set", "simulation.step_days=abc", cwd=tmp_path)
    assert res.returncode == 65
    assert "simulation.step_days" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("command", ["validate", "run"])
def test_missing_file_exits_66(tmp_path, command):
    res = critmin(command, "no_such.yaml", cwd=tmp_path)
    assert res.returncode == 66
    assert "no_such.yaml" in res.stderr and "Traceback" not in res.stderr


def test_validate_missing_wins_over_invalid(tmp_path, typo_file):
    res = critmin("validate", str(typo_file), "no_such.yaml", cwd=tmp_path)
    assert res.returncode == 66


def test_schema(tmp_path):
    res = critmin("schema", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    schema = json.loads(res.stdout)
    assert "properties" in schema and "demand" in schema["properties"]
    res = critmin("schema", "--out", "s.json", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout == ""
    assert json.loads((tmp_path / "s.json").read_text()) == schema


def test_list(tmp_path):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "tiny.yaml").write_text(
        TINY.read_text().replace("name: tiny", "name: tiny\ndescription: A three-node chain."))
    res = critmin("list", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "tiny" in res.stdout and "A three-node chain." in res.stdout
    assert critmin("list", "nowhere", cwd=tmp_path).returncode == 66


@pytest.mark.parametrize("args", [["run", str(TINY), "--bogus"], ["frobnicate"],
                                  ["run", str(TINY), "-n", "0"], ["run"], []])
def test_usage_errors_exit_2(tmp_path, args):
    res = critmin(*args, cwd=tmp_path)
    assert res.returncode == 2
    assert "Usage" in res.stderr + res.stdout and "Traceback" not in res.stderr


def test_help(tmp_path):
    res = critmin("--help", cwd=tmp_path)
    assert res.returncode == 0
    for command in ("run", "validate", "schema", "list"):
        assert command in res.stdout


@pytest.mark.skipif(not CRITMIN_SCRIPT.exists(), reason="critmin is not installed here")
def test_installed_script(tmp_path, typo_file):
    assert critmin("validate", str(TINY), cwd=tmp_path, script=True).returncode == 0
    assert critmin("validate", str(typo_file), cwd=tmp_path, script=True).returncode == 65


# In-process checks of the error mapping (no way to provoke these from outside).

def _boom(*args, **kwargs):
    raise RuntimeError("engine exploded\nsecond line")


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_internal_error_exits_70_without_traceback(tmp_path, monkeypatch, capsys):
    import simulator.runner

    monkeypatch.delenv("CRITMIN_DEBUG", raising=False)
    monkeypatch.setattr(simulator.runner, "run_scenario", _boom)
    with pytest.raises(SystemExit) as info:
        cli.main(["run", str(TINY), "--out", str(tmp_path)])
    assert info.value.code == 70
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert lines[0] == "critmin: internal error: RuntimeError: engine exploded second line"
    assert "report" in lines[1] and "CRITMIN_DEBUG=1" in lines[1]
    assert "Traceback" not in err


def test_debug_env_lets_the_traceback_through(tmp_path, monkeypatch):
    import simulator.runner

    monkeypatch.setenv("CRITMIN_DEBUG", "1")
    monkeypatch.setattr(simulator.runner, "run_scenario", _boom)
    with pytest.raises(RuntimeError, match="engine exploded"):
        cli.main(["run", str(TINY), "--out", str(tmp_path)])


def test_keyboard_interrupt_exits_130(tmp_path, monkeypatch, capsys):
    import simulator.runner

    monkeypatch.setattr(simulator.runner, "run_scenario", _interrupt)
    with pytest.raises(SystemExit) as info:
        cli.main(["run", str(TINY), "--out", str(tmp_path)])
    assert info.value.code == 130
    assert "interrupted" in capsys.readouterr().err


def test_interrupted_run_keeps_finished_replications(tmp_path, monkeypatch, capsys):
    import simulator.runner
    from simulator.runner import replications

    real = replications.run_one

    def run_one(scenario, seed, replication):
        if replication == 1:
            raise KeyboardInterrupt
        return real(scenario, seed, replication)

    monkeypatch.setattr(replications, "run_one", run_one)
    with pytest.raises(SystemExit) as info:
        cli.main(["run", str(TINY), "-n", "3", "--out", str(tmp_path)])
    assert info.value.code == 130
    assert "after 1 of 3" in capsys.readouterr().err
    (run_dir,) = (tmp_path / "tiny").iterdir()
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "interrupted"
    assert simulator.runner.run_scenario is replications.run_scenario


def test_signal_exit_codes_come_from_the_table() -> None:
    """``128 + signal`` was computed inline in run, sweep, the CLI helpers and the signal
    handler; simulator/exit_codes.py now says it once (issue 13 QA)."""
    import ast
    import signal
    from pathlib import Path

    from simulator import exit_codes

    assert exit_codes.exit_for_signal(signal.SIGINT) == exit_codes.EXIT_INTERRUPTED == 130
    assert exit_codes.exit_for_signal(signal.SIGTERM) == 143
    assert exit_codes.exit_for_signal(signal.SIGHUP) == 129
    root = Path(__file__).resolve().parents[1] / "simulator"
    inline = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "exit_codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)
                    and any(isinstance(x, ast.Constant) and x.value == 128
                            for x in (node.left, node.right))):
                inline.append(f"{path.relative_to(root)}:{node.lineno}")
    assert not inline, inline


def test_one_exit_code_table() -> None:
    """Every command takes its exit codes from simulator/exit_codes.py (issue 13: five
    places defined them), and the table in docs/cli.md lists each of them."""
    import importlib
    import pkgutil
    from pathlib import Path

    from simulator import cli, comparison, exit_codes
    from simulator.scenario.errors import ScenarioError, ScenarioFileNotFound

    modules = [importlib.import_module(f"{pkg.__name__}.{info.name}")
               for pkg in (cli, comparison) for info in pkgutil.iter_modules(pkg.__path__)]
    assert len(modules) >= 10
    for module in modules:
        for name in dir(module):
            if name.startswith("EXIT_"):
                assert getattr(module, name) == getattr(exit_codes, name), (module, name)
    assert ScenarioError.exit_code == exit_codes.EXIT_INVALID
    assert ScenarioFileNotFound.exit_code == exit_codes.EXIT_MISSING
    table = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    for name in (n for n in exit_codes.__all__ if n.startswith("EXIT_")):
        assert f"| {getattr(exit_codes, name)} |" in table or name == "EXIT_INTERRUPTED", name
