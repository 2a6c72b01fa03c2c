"""Generate the scenario reference (Markdown) from the pydantic models of the language.

Every section of a scenario file gets a table with each field's type, unit, default,
constraints, an example taken from the shipped scenarios and the field's description (its
attribute docstring in ``simulator/scenario/models.py`` / ``events.py``). The docs build runs
this (``docs/_ext/critmin_docs.py``), so the page cannot drift from the code, and
``tests/test_docs_site.py`` fails when a model field has no description.

    python docs/_ext/scenario_reference.py        # print the Markdown
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.scenario import distributions, events, models  # noqa: E402

ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*$"
CODE_PATTERN = r"^[A-Z]{2}$"

#: Units read from field-name suffixes (the language's convention: "units are in the names").
UNIT_SUFFIXES = (("_tpy", "t/yr"), ("_t", "t"), ("_days", "days"), ("_pa", "per year"))


@dataclass
class Section:
    """One table of the reference: a model at a key path (``facilities.<id>``)."""

    path: str
    model: type[BaseModel]
    pattern: tuple[str, ...]
    """Key path with ``*`` for collection ids, to find examples in the shipped scenarios."""
    event_type: str | None = None
    title: str = ""
    children: list[Section] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        key = f"{self.path} {self.event_type or ''}" if self.path else "scenario"
        return "ref-" + re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


def model_fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return dict(model.model_fields)


def iter_models() -> Iterator[type[BaseModel]]:
    """Every model class of the scenario language (for the description test)."""
    for mod in (models, events, distributions):
        for obj in vars(mod).values():
            if (isinstance(obj, type) and issubclass(obj, BaseModel)
                    and obj.__module__ == mod.__name__ and obj.model_fields):
                yield obj


def missing_descriptions() -> list[str]:
    """``Model.field`` for every field without a description (should be empty)."""
    return [f"{m.__name__}.{name}" for m in iter_models()
            for name, info in m.model_fields.items() if not (info.description or "").strip()]


# -- types ---------------------------------------------------------------------------------

def _strip_annotated(tp: Any) -> tuple[Any, list[Any]]:
    meta: list[Any] = []
    while get_origin(tp) is typing.Annotated:
        args = get_args(tp)
        tp, meta = args[0], [*meta, *args[1:]]
    return tp, meta


def _pattern(meta: list[Any]) -> str | None:
    for m in meta:
        pat = getattr(m, "pattern", None)
        if pat:
            return pat
    return None


def _constraints(meta: list[Any]) -> list[str]:
    out = []
    for m in meta:
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            v = getattr(m, attr, None)
            if v is not None and isinstance(m, at.Ge | at.Gt | at.Le | at.Lt | at.Interval
                                            | FieldInfo):
                out.append(f"{sym} {_num(v)}")
        if isinstance(m, at.MinLen):
            out.append(f"at least {m.min_length} item{'s' if m.min_length != 1 else ''}")
        if isinstance(m, at.MaxLen):
            out.append(f"at most {m.max_length} items")
        if isinstance(m, FieldInfo):
            for sub in m.metadata:
                out.extend(_constraints([sub]))
    return list(dict.fromkeys(out))


def _num(v: float) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _scalar_name(tp: Any, meta: list[Any]) -> str:
    pat = _pattern(meta)
    if pat == CODE_PATTERN:
        return "country code"
    if pat == ID_PATTERN:
        return "id"
    if tp is bool:
        return "bool"
    if tp is int:
        return "integer"
    if tp is float:
        return "number"
    if tp is str:
        return "text"
    if tp is dt.date:
        return "date"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return " | ".join(f"`{e.value}`" for e in tp)
    return getattr(tp, "__name__", str(tp))


def describe_type(tp: Any, links: dict[type, Section], extra: list[Any] = ()
                  ) -> tuple[str, list[str], bool]:
    """(Markdown type, constraints of the outer type, optional?) of an annotation;
    ``extra`` is the field's own metadata (pydantic moves a top-level ``Annotated`` there)."""
    tp, meta = _strip_annotated(tp)
    meta = [*extra, *meta]
    constraints = _constraints(meta)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        optional = len(args) < len(get_args(tp))
        parts = [describe_type(a, links, meta) for a in args]
        text = " or ".join(p[0] for p in parts)
        return text, constraints + [c for p in parts for c in p[1]], optional
    if origin is Literal:
        return " | ".join(f"`{a}`" for a in get_args(tp)), constraints, False
    if origin in (list, tuple):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        inner, inner_c, _ = describe_type(args[0], links) if args else ("value", [], False)
        if origin is tuple and Ellipsis not in get_args(tp) and len(args) > 1:
            return f"list of {len(args)} {inner}s", constraints, False
        text = f"list of {inner}" + (f" ({', '.join(inner_c)})" if inner_c else "")
        return text, constraints, False
    if origin is dict:
        k, v = get_args(tp)
        kt, _, _ = describe_type(k, links)
        vt, vc, _ = describe_type(v, links)
        text = f"map {kt} → {vt}" + (f" ({', '.join(vc)})" if vc else "")
        return text, constraints, False
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        sec = links.get(tp)
        name = f"[{tp.__name__}](#{sec.anchor})" if sec else tp.__name__
        return name, constraints, False
    return _scalar_name(tp, meta), constraints, False


def _placeholder(key_type: Any) -> str:
    _, meta = _strip_annotated(key_type)
    return "<CODE>" if _pattern(meta) == CODE_PATTERN else "<id>"


def unit_of(name: str, tp: Any, constraints: list[str]) -> str:
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    base, _ = _strip_annotated(tp)
    if base is dt.date or dt.date in get_args(base):
        return "ISO date"
    if ">= 0" in constraints and "<= 1" in constraints:
        return "fraction 0-1"
    return ""


def default_of(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.default_factory() if info.default_factory is not None else info.default
    if value is None:
        return "none"
    return f"`{_yaml(value)}`"


def _yaml(value: Any) -> str:
    """Compact YAML flow style for a default or an example."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, BaseModel):
        return _yaml(value.model_dump())
    return str(value)


# -- examples from the shipped scenarios ----------------------------------------------------

def shipped_data(root: Path = ROOT) -> list[dict[str, Any]]:
    """Raw YAML data of every shipped scenario (baseline first)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    files = sorted((root / "scenarios").glob("*.yaml"), key=lambda p: (p.stem != "baseline", p))
    return [yaml.load(f.read_text(encoding="utf-8")) or {} for f in files]


def _find(data: Any, pattern: tuple[str, ...], event_type: str | None,
          parent: str = "") -> Iterator[Any]:
    if not pattern:
        yield data
        return
    if not isinstance(data, dict):
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        for value in data.values():
            if (event_type and parent == "events" and isinstance(value, dict)
                    and value.get("type") != event_type):
                continue
            yield from _find(value, rest, event_type, "*")
    elif head in data:
        yield from _find(data[head], rest, event_type, head)


def example_of(section: Section, name: str, data: list[dict[str, Any]]) -> str:
    """The first value written for this field in a shipped scenario, if short."""
    for doc in data:
        for value in _find(doc, (*section.pattern, name), section.event_type):
            if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
                continue  # a nested section: documented by its own table
            text = _yaml(value)
            if len(text) <= 48:
                return f"`{text}`"
    return ""


# -- sections ------------------------------------------------------------------------------

def _submodels(tp: Any) -> Iterator[tuple[type[BaseModel], str]]:
    """Models reachable from an annotation, with ``.*`` per collection level crossed."""
    tp, _ = _strip_annotated(tp)
    origin = get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        yield tp, ""
    elif origin is dict:
        key = _placeholder(get_args(tp)[0])
        for model, suffix in _submodels(get_args(tp)[1]):
            yield model, f".{key}" + suffix
    elif origin in (list, tuple):
        for arg in get_args(tp):
            if arg is not Ellipsis:
                yield from _submodels(arg)
    elif origin in (Union, types.UnionType):
        for arg in get_args(tp):
            yield from _submodels(arg)


SKIP = {distributions.Triangular, distributions.Uniform, distributions.Normal,
        distributions.Choice}


def build_sections() -> list[Section]:
    """Sections in reading order: the scenario, each nested model, then each event type."""
    sections: list[Section] = []
    seen: dict[type, Section] = {}

    def visit(model: type[BaseModel], path: str, pattern: tuple[str, ...],
              event_type: str | None = None, title: str = "") -> Section:
        sec = Section(path, model, pattern, event_type, title or f"`{path}`")
        sections.append(sec)
        seen.setdefault(model, sec)
        for name, info in model.model_fields.items():
            if model is models.Scenario and name == "events":
                continue
            for sub, suffix in _submodels(info.annotation):
                if sub in SKIP or (sub in seen and sub is not model):
                    continue
                sub_pattern = (*pattern, name, *(["*"] * suffix.count(".<")))
                sub_path = f"{path}.{name}{suffix}".lstrip(".")
                sub_title = f"`{sub_path}`" + (f" ({event_type})" if event_type else "")
                sec.children.append(visit(sub, sub_path, sub_pattern, event_type, sub_title))
        return sec

    visit(models.Scenario, "", (), title="Top level")
    for member in get_args(get_args(events.Event)[0]):
        etype = get_args(member.model_fields["type"].annotation)[0]
        visit(member, "events.<id>", ("events", "*"), etype,
              title=f"`events.<id>` with `type: {etype}`")
    return sections


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _doc(text: str | None) -> str:
    """A docstring as Markdown: reST ``literals`` -> `literals`, one paragraph."""
    text = re.sub(r"``([^`]+)``", r"`\1`", text or "")
    text = re.sub(r":(?:func|class|meth|data|attr):`~?([^`]+)`", r"`\1`", text)
    return _cell(text)


def render_section(sec: Section, links: dict[type, Section], data: list[dict[str, Any]],
                   level: int = 2) -> list[str]:
    out = [f"({sec.anchor})=", f"{'#' * level} {sec.title}", ""]
    doc = _doc(sec.model.__doc__) if sec.model.__doc__ else ""
    if doc:
        out += [doc, ""]
    out += ["| key | type | unit | default | constraints | example | description |",
            "|---|---|---|---|---|---|---|"]
    for name, info in sec.model.model_fields.items():
        type_text, cons, _ = describe_type(info.annotation, links, info.metadata)
        cons = list(dict.fromkeys([*_constraints(info.metadata), *cons]))
        if name == "events" and sec.model is models.Scenario:
            type_text = "map id → event (see [Events](#ref-events))"
        if name == "uncertainty" and sec.model is models.Scenario:
            type_text = "map key path → distribution"
        out.append("| " + " | ".join([
            f"`{name}`", _cell(type_text), unit_of(name, info.annotation, cons),
            default_of(info), _cell(", ".join(cons)), _cell(example_of(sec, name, data)),
            _doc(info.description)]) + " |")
    out.append("")
    return out


INTRO = """\
# Scenario reference

```{{note}}
This page is generated from the pydantic models in `simulator/scenario/models.py` and
`simulator/scenario/events.py` every time the documentation is built
(`docs/_ext/scenario_reference.py`) and kept in the repository in sync (`python
docs/_ext/critmin_docs.py` rewrites it), so it always matches the code. The guide to the language
(conventions, `extends`, `--set`, uncertain parameters, errors) is
[](../scenario-language.md); what each event does in the engine is in [](../events.md).
```

How to read the tables:

- **key**: the YAML key. Section titles give the path; `<id>` is an id you choose (letters,
  digits, `_` and `-`, starting with a letter or `_`), `<CODE>` a country code.
- **type**: `id` and `country code` are strings with the rules above; `map A → B` is a YAML
  mapping; `a | b` means one of those literal values.
- **unit**: from the key's suffix: `_t` tonnes, `_tpy` tonnes per year, `_days` days, `_pa`
  per year. Tonnes are tonnes of the material (its `unit` says what a tonne measures).
- **default**: `required` keys must be written; others take the default when left out.
- **example**: the first value of that key in the shipped scenarios (`scenarios/*.yaml`), when
  one is short enough to show.
- Any **number** may also be written as a distribution, drawn once per replication:
  `{{triangular: [low, mode, high]}}`, `{{uniform: [low, high]}}`, `{{normal: [mean, sd]}}` or
  `{{choice: [v1, v2, ...]}}` (see [](../scenario-language.md#uncertain-parameters)).
- Unknown keys are errors.

{count} keys in {sections} sections.
"""


def render(root: Path = ROOT) -> str:
    sections = build_sections()
    links = {}
    for sec in sections:
        links.setdefault(sec.model, sec)
    data = shipped_data(root)
    n_keys = sum(len(s.model.model_fields) for s in sections)
    out = [INTRO.format(count=n_keys, sections=len(sections))]
    out += ["## Scenario file", ""]
    events_started = False
    for sec in sections:
        if sec.event_type and not events_started:
            events_started = True
            out += ["(ref-events)=", "## Events", "",
                    "Each entry of `events:` has a `type`; the keys of each type follow. "
                    "Every event also takes `probability` and `note`.", ""]
        out += render_section(sec, links, data, level=3)
    return "\n".join(out).rstrip() + "\n"


def as_json(root: Path = ROOT) -> str:  # pragma: no cover - debugging aid
    return json.dumps([s.path for s in build_sections()], indent=1)


if __name__ == "__main__":
    sys.stdout.write(render())
