"""Located scenario errors: ``file:line:col: key.path: message``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..exit_codes import EXIT_INVALID, EXIT_MISSING

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """``('facilities', 'cn_mine', 'capacity_tpy')`` -> ``facilities.cn_mine.capacity_tpy``."""
    return ".".join(str(p) for p in path) if path else "<root>"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    options = [str(c) for c in choices]
    folded = [c for c in options if c.casefold() == str(word).casefold()]
    # difflib's ratio for two-letter words (country codes) is 0 or 0.5, never above 0.6.
    cutoff = 0.5 if len(str(word)) <= 2 else 0.6
    close = folded or difflib.get_close_matches(str(word), options, n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class Problem:
    """One problem in a scenario, located by key path and, when known, file position.

    ``line`` and ``col`` are 1-based; 0 means unknown. A problem with the file as a whole
    (no key path, no position: missing, unreadable) reads ``file: message``.
    """

    path: Path
    message: str
    file: str = "<scenario>"
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if not self.path and not self.line:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}:{self.col}: {format_path(self.path)}: {self.message}"


class ScenarioError(Exception):
    """A scenario is invalid; carries every problem found (exit code 65 in the CLI)."""

    exit_code = EXIT_INVALID

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ScenarioFileNotFound(ScenarioError):
    """A scenario file (or a file it extends) does not exist (exit code 66)."""

    exit_code = EXIT_MISSING


class ScenarioWarning(UserWarning):
    """A scenario is valid but something in it looks wrong (a ``warning:`` Problem): events that
    contradict each other or do nothing. Issued by the loaders through :mod:`warnings`."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem
