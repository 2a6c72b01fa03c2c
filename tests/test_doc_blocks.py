"""Every command and Python snippet in docs/ runs, so the documentation cannot rot.

Rules for code blocks in ``docs/**/*.md`` (see docs/index.md's sources):

- ```` ```console ````: each line starting with ``$ `` is a shell command (a trailing ``\\``
  continues it on the next line); other lines are sample output, and each non-blank one must
  appear in what the commands print (so shown output is real output). ``critmin`` is the
  program under test (``python -m simulator``).
- ```` ```python ````: executed with ``exec``; the blocks of one page share a namespace.
- ```` ```{code-block} yaml ```` with a ``:caption:`` that is a path: the file is written there
  (the tutorials' "save this as ..." files).
- ```` ```sh ````, ```` ```bash ````, ```` ```shell ```` are not allowed: use ``console`` (run)
  or ``text`` (not a command).
- ``<!-- doc-test: skip (reason) -->`` on the line before a block skips it;
  ``<!-- doc-test: exit N -->`` expects exit status N from its commands.

Each page runs in its own scratch folder holding a copy of ``scenarios/``, in order, so a
later block can use what an earlier one wrote.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SKIP_DIRS = {"_build", "_generated", "examples"}
FORBIDDEN = {"sh", "bash", "shell", "zsh"}
FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
MARKER = re.compile(r"<!--\s*doc-test:\s*(?P<what>skip|exit)\b\s*(?P<arg>[^>]*?)\s*-->")
MAX_SKIPS = 6
#: Pages whose blocks are not runnable yet, with why. Their blocks still run (xfail, not
#: strict), so converting them shows up as XPASS; remove the entry then.
PENDING = {
    "performance.md": "new page (performance work): benchmark commands take minutes",
}


@dataclass
class Block:
    page: str
    line: int
    lang: str
    body: list[str]
    options: dict[str, str] = field(default_factory=dict)
    skip: str | None = None
    exit_code: int = 0

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


def doc_pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md")
                  if not SKIP_DIRS.intersection(p.relative_to(DOCS).parts))


def parse_blocks(path: Path) -> list[Block]:
    """Fenced blocks of a page with their language, directive options and markers."""
    lines = path.read_text(encoding="utf-8").split("\n")
    page = path.relative_to(DOCS).as_posix()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group("fence"), m.group("info").strip()
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1
        lang = info.split()[0] if info else ""
        options = {}
        if lang.startswith("{code-block}") or lang.startswith("{code}"):
            lang = info.split()[1] if len(info.split()) > 1 else ""
            while body and body[0].startswith(":"):
                key, _, value = body.pop(0)[1:].partition(":")
                options[key.strip()] = value.strip()
            if body and not body[0].strip():
                body.pop(0)
        block = Block(page, start + 1, lang, body, options)
        prev = lines[start - 1] if start else ""
        mark = MARKER.search(prev)
        if mark and mark.group("what") == "skip":
            block.skip = mark.group("arg") or "marked"
        elif mark:
            block.exit_code = int(mark.group("arg"))
        blocks.append(block)
    return blocks


def is_runnable(block: Block) -> bool:
    return block.lang in ("console", "python") or (
        block.lang == "yaml" and "/" in block.options.get("caption", ""))


def commands(block: Block) -> tuple[list[str], list[str]]:
    """(commands, expected output lines) of a console block."""
    cmds, expected, current = [], [], None
    for line in block.body:
        if current is not None:
            current += " " + line.strip()
        elif line.startswith("$ "):
            current = line[2:]
        else:
            if line.strip():
                expected.append(line.strip())
            continue
        if current.endswith("\\"):
            current = current[:-1].rstrip()
            continue
        cmds.append(current)
        current = None
    if current is not None:
        cmds.append(current)
    return cmds, expected


ALL_BLOCKS = [b for p in doc_pages() for b in parse_blocks(p)]
RUN_PAGES = sorted({b.page for b in ALL_BLOCKS if is_runnable(b) and not b.skip})


def test_no_shell_fences_only_console_or_text() -> None:
    bad = [b.where for b in ALL_BLOCKS if b.lang in FORBIDDEN and b.page not in PENDING]
    assert not bad, ("use ```console (commands with `$ `, run by this test) or ```text for "
                     f"these blocks: {bad}")


def test_skip_markers_are_few_and_explained() -> None:
    skipped = [b for b in ALL_BLOCKS if b.skip and b.page not in PENDING]
    assert len(skipped) <= MAX_SKIPS, [b.where for b in skipped]
    assert all(b.skip != "marked" for b in skipped), "say why a block is skipped"


def test_the_runner_finds_the_tutorials() -> None:
    for page in ("quickstart.md", "tutorials/first-scenario.md", "tutorials/compare.md",
                 "tutorials/sweep.md", "api.md"):
        assert page in RUN_PAGES


def _shell_env(tmp: Path) -> dict[str, str]:
    bin_dir = tmp / ".bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "critmin"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m simulator "$@"\n')
    shim.chmod(0o755)
    env = dict(os.environ)
    env.pop("CRITMIN_DEBUG", None)
    env.update(PATH=f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
                    f"{env.get('PATH', '')}",
               PYTHONPATH=f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}",
               MPLBACKEND="Agg", COLUMNS="200")
    return env


def run_console(block: Block, cwd: Path, env: dict[str, str]) -> None:
    cmds, expected = commands(block)
    assert cmds, f"{block.where}: a console block without `$ ` commands"
    output = ""
    for cmd in cmds:
        res = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=cwd, env=env,
                             capture_output=True, text=True, timeout=180, check=False)
        output += res.stdout + res.stderr
        assert res.returncode == block.exit_code, (
            f"{block.where}: `{cmd}` exited {res.returncode}, expected {block.exit_code}\n"
            f"{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    seen = {line.strip() for line in output.splitlines()}
    missing = [e for e in expected if e not in seen]
    assert not missing, f"{block.where}: shown output not printed: {missing}\n{output[-3000:]}"


@pytest.mark.slow
@pytest.mark.parametrize("page", [
    pytest.param(p, marks=pytest.mark.xfail(reason=PENDING[p], strict=False))
    if p in PENDING else p for p in RUN_PAGES])
def test_page_blocks_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    env = _shell_env(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": "__doc_block__"}
    for block in parse_blocks(DOCS / page):
        if block.skip or not is_runnable(block):
            continue
        if block.lang == "console":
            run_console(block, tmp_path, env)
        elif block.lang == "python":
            code = compile("\n".join(block.body), block.where, "exec")
            exec(code, namespace)
        else:
            target = tmp_path / block.options["caption"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(block.body) + "\n", encoding="utf-8")


def test_parser_reads_markers_options_and_continuations(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("\n".join([
        "<!-- doc-test: skip (needs a cluster) -->", "```console", "$ critmin run x \\",
        "    --seed 1", "output line", "```", "", "<!-- doc-test: exit 65 -->",
        "```console", "$ critmin validate bad.yaml", "```", "",
        "```{code-block} yaml", ":caption: scenarios/a.yaml", "", "name: a", "```"]))
    global DOCS
    old, DOCS = DOCS, tmp_path
    try:
        skip, fail, yaml = parse_blocks(page)
    finally:
        DOCS = old
    assert skip.skip == "(needs a cluster)" and commands(skip) == (
        ["critmin run x --seed 1"], ["output line"])
    assert fail.exit_code == 65 and not fail.skip
    assert yaml.lang == "yaml" and yaml.options == {"caption": "scenarios/a.yaml"}
    assert yaml.body == ["name: a"] and is_runnable(yaml)
