"""The defaults the key tables of the docs print are the model's defaults.

An analyst writes scenarios from docs/scenario-language.md, docs/events.md and
docs/markets.md; a default that drifted from the code (``market.adjustment_days`` read 14
there after its re-calibration to 6) makes a scenario do what its author did not read. Each
key table (``| key | ... | default | ...``) is matched to the scenario model whose fields are
exactly the table's keys, or, failing that, the one model that has them all (or all but one);
every numeric or boolean default it prints must equal that model's field default.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from simulator.scenario import events as event_models
from simulator.scenario import models

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = ("scenario-language.md", "events.md", "markets.md")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def scenario_models() -> list[type[BaseModel]]:
    found = []
    for module in (models, event_models):
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                found.append(obj)
    return found


def key_tables(text: str) -> list[tuple[int, dict[str, str]]]:
    """(line, key -> printed default) for every table whose header has ``key`` and
    ``default`` columns."""
    tables = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
        if lines[i].startswith("|") and cells and cells[0].startswith("key") \
                and "default" in cells:
            col = cells.index("default")
            rows: dict[str, str] = {}
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                row = [c.strip() for c in lines[j].strip().strip("|").split("|")]
                key = row[0].strip("`")
                if re.fullmatch(r"[a-z_]+", key) and col < len(row):
                    rows[key] = row[col].strip("`")
                j += 1
            tables.append((i + 1, rows))
            i = j
        else:
            i += 1
    return tables


def model_for(keys: set[str], candidates: list[type[BaseModel]]) -> type[BaseModel] | None:
    """The model whose fields are exactly ``keys``; else the one that has them all; else the
    one that has all but one of them (a table may document a loader key, ``extends``, or a
    sub-key, ``all_except``, beside the fields)."""
    exact = [m for m in candidates if set(m.model_fields) == keys]
    if len(exact) == 1:
        return exact[0]
    having = [m for m in candidates if keys <= set(m.model_fields)]
    if len(having) == 1:
        return having[0]
    if having or len(keys) < 4:
        return None
    nearly = [m for m in candidates if len(keys - set(m.model_fields)) == 1]
    return nearly[0] if len(nearly) == 1 else None


def printed_value(text: str) -> float | bool | None:
    if text in ("true", "false"):
        return text == "true"
    if NUMBER.match(text):
        return float(text)
    return None


CASES = [(page, line, rows) for page in PAGES
         for line, rows in key_tables((DOCS / page).read_text()) if rows]


@pytest.mark.parametrize(("page", "line", "rows"), CASES,
                         ids=[f"{p}:{n}" for p, n, _ in CASES])
def test_printed_defaults_are_the_models(page: str, line: int, rows: dict[str, str]) -> None:
    model = model_for(set(rows), scenario_models())
    if model is None:
        pytest.skip("no single scenario model has exactly these keys")
    wrong = []
    for key, printed in rows.items():
        value = printed_value(printed)
        if key not in model.model_fields:  # (the one documented key that is not a field)
            continue
        field = model.model_fields[key]
        if value is None or field.is_required():
            continue
        default = field.get_default(call_default_factory=True)
        if isinstance(value, bool) or isinstance(default, bool):
            if value != default:
                wrong.append((key, printed, default))
        elif not isinstance(default, (int, float)) or float(default) != value:
            wrong.append((key, printed, default))
    assert not wrong, f"{page}:{line}: {model.__name__} (key, printed, default): {wrong}"


def test_most_key_tables_are_checked() -> None:
    """The matching finds a model for every table (a page restructured so that none match
    would make the test above check nothing)."""
    unmatched = [(page, line) for page, line, rows in CASES
                 if model_for(set(rows), scenario_models()) is None]
    assert not unmatched
