"""Generate the command-line reference (Markdown) by introspecting the ``critmin`` Typer app.

Every command, argument and option, with its type, default and help text, comes from
``simulator.cli.app`` through click, so the page lists exactly what ``critmin --help`` does.
The docs build runs this (``docs/_ext/critmin_docs.py``).

    python docs/_ext/cli_reference.py        # print the Markdown
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROG = "critmin"


# Typer >= 0.20 vendors click (``typer._click``); only duck typing and ``typer.Context`` are
# used here, so this works with either.
Command = Any
Param = Any


def root_command() -> Command:
    from simulator.cli import app

    cmd = typer.main.get_command(app)
    assert hasattr(cmd, "list_commands"), "critmin's app should be a group of commands"
    return cmd


def _is_argument(param: Param) -> bool:
    return param.param_type_name == "argument"


def _is_flag(param: Param) -> bool:
    return bool(getattr(param, "is_flag", False))


def commands(group: Command | None = None) -> list[tuple[str, Command]]:
    """(name, command) of every subcommand, in the order ``critmin --help`` lists them."""
    group = group or root_command()
    ctx = typer.Context(group, info_name=PROG)
    return [(name, group.get_command(ctx, name)) for name in group.list_commands(ctx)]


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _help_record(param: Param, ctx: Any) -> tuple[str, str]:
    """(name with its metavar, help with the bracketed default/range) as ``--help`` shows."""
    record = param.get_help_record(ctx)
    if record is None:  # hidden
        return "", ""
    name, help_text = record
    return name, help_text


def render_command(name: str, cmd: Command, parent: Any) -> list[str]:
    ctx = typer.Context(cmd, info_name=name, parent=parent)
    usage = " ".join([PROG, name, *cmd.collect_usage_pieces(ctx)])
    out = [f"(cli-{name})=", f"## `{PROG} {name}`", "", cmd.help.strip() if cmd.help else "",
           "", "```text", usage, "```", ""]
    rows = []
    for param in cmd.get_params(ctx):
        if param.name == "help":
            continue
        shown, help_text = _help_record(param, ctx)
        if not shown:
            continue
        kind = "argument" if _is_argument(param) else "flag" if _is_flag(param) else "option"
        rows.append(f"| `{_cell(shown)}` | {kind} | {_cell(help_text)} |")
    if rows:
        out += ["| name | kind | help, \\[default and allowed range\\] |", "|---|---|---|",
                *rows, ""]
    return out


INTRO = """\
# Command-line reference

```{{note}}
Generated from the `critmin` command itself (its Typer/click definitions in
`simulator/cli/`) every time the documentation is built
(`docs/_ext/cli_reference.py`) and kept in the repository in sync
(`python docs/_ext/critmin_docs.py` rewrites it). What the commands do in detail, their
output and the exit codes are explained in [](../cli.md) and [](../compare-and-report.md).
```

`{prog}` is installed as a console script by `pip install -e .`; `python -m simulator` is the
same program. Every command also takes `--help`.

{summary}
"""


def render() -> str:
    group = root_command()
    ctx = typer.Context(group, info_name=PROG)
    cmds = commands(group)
    summary = ["| command | what it does |", "|---|---|"]
    for name, cmd in cmds:
        first = (cmd.help or "").strip().split("\n\n")[0]
        summary.append(f"| [`{PROG} {name}`](#cli-{name}) | {_cell(first)} |")
    out = [INTRO.format(prog=PROG, summary="\n".join(summary))]
    for name, cmd in cmds:
        out += render_command(name, cmd, ctx)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
