"""YAML 1.2 text -> plain Python data plus a map of key paths to file positions.

Parsing uses ruamel.yaml's round-trip loader (no Python objects are ever constructed; YAML 1.2
keeps ``NO`` a string). The result is converted to plain ``dict``/``list``/``str``/``int``/
``float``/``bool``/``None``; dates become ISO strings (pydantic parses them back into dates).
Tags other than the core ``!!str``/``!!int``/``!!float``/``!!bool``/``!!null``/``!!map``/``!!seq``
are refused with a located error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedOrderedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scanner import Scanner

from .errors import Path, Problem, ScenarioError

Position = tuple[str, int, int]
"""(file, line, col), 1-based."""
Positions = dict[Path, Position]
MakePos = Callable[[int, int], Position]
"""Maps a 0-based (line, col) inside the parsed text to a Position."""

MAX_ALIAS_VALUES = 100_000
"""Safety limit on the values that aliases (``*name``) may add by repeating what an anchor
holds: far more than any scenario needs, and it stops a "billion laughs" document, which a few
hundred bytes expand into billions of values. Without aliases a document holds fewer values
than it has bytes, which the file size limit (:mod:`.files`) bounds."""
_CORE = "tag:yaml.org,2002:"
_STR_TAG = _CORE + "str"
_CONTAINER_TAGS = {None, _CORE + "map", _CORE + "seq"}
_TYPE_TAGS = {"bytes": "!!binary", "CommentedSet": "!!set", "CommentedOrderedMap": "!!omap"}


def file_pos(file: str) -> MakePos:
    """Position maker for a whole file: 0-based ruamel marks -> 1-based positions."""
    return lambda line, col: (file, line + 1, col + 1)


def locate(positions: Positions, path: Path) -> Position | None:
    """Position of ``path``, else of its nearest ancestor that has one, else ``None``."""
    for n in range(len(path), -1, -1):
        pos = positions.get(path[:n])
        if pos is not None:
            return pos
    return None


def located(path: Path, message: str, pos: Position | None) -> Problem:
    """A Problem at ``pos`` (unknown position when ``pos`` is None)."""
    if pos is None:
        return Problem(path, message)
    return Problem(path, message, pos[0], pos[1], pos[2])


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def _yaml() -> YAML:
    """ruamel's round-trip loader (positions, tags, no Python objects) with its plain scanner,
    which skips comments: the round-trip scanner keeps them, gluing consecutive comment lines
    onto one string at a cost quadratic in their number (16 MB of comments took 104 s)."""
    yaml = YAML(typ="rt")
    yaml.Scanner = Scanner
    return yaml


def load_yaml(text: str, file: str, mkpos: MakePos) -> Any:
    """Parse one YAML 1.2 document with the round-trip loader; return ruamel objects.

    Raises ScenarioError located at the parser's mark for syntax errors, duplicate keys,
    unconstructible scalars (e.g. ``2024-02-30``) and a ``%YAML`` directive other than 1.2.
    """
    for i, line in enumerate(text.splitlines()):
        if line.startswith("---"):
            break
        m = re.match(r"%YAML\s+(\S+)", line)
        if m and m.group(1) != "1.2":
            raise ScenarioError([located((), f"only YAML 1.2 is supported, not {m.group(1)}",
                                         mkpos(i, 0))])
    yaml = _yaml()
    try:
        return yaml.load(text)
    except (DuplicateKeyError, ConstructorError) as exc:  # find every such problem
        problems = _diagnose(text, mkpos) or [_from_yaml_error(exc, text, mkpos)]
    except YAMLError as exc:  # scanner, parser, composer, reader (bad character) errors
        problems = [_from_yaml_error(exc, text, mkpos)]
    except RecursionError:
        problems = [located((), "invalid YAML: nesting is too deep", mkpos(0, 0))]
    except Exception as exc:  # ruamel lets e.g. ValueError escape for 2024-02-30 or !!int x
        problems = _diagnose(text, mkpos) or [
            located((), f"invalid YAML: {exc}", mkpos(0, 0))]
    raise ScenarioError(problems)


def _from_yaml_error(exc: YAMLError, text: str, mkpos: MakePos) -> Problem:
    """A Problem from a ruamel error, at its problem mark (or its character position)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        line, col = mark.line, mark.column
    else:
        offset = getattr(exc, "position", 0) or 0
        line = text.count("\n", 0, offset)
        col = offset - (text.rfind("\n", 0, offset) + 1)
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    cmark = getattr(exc, "context_mark", None)
    if problem is None:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    elif context and str(problem).startswith("but "):
        msg = f"{context}, {problem}"
    elif context and cmark is not None and cmark is not mark:
        _, cline, ccol = mkpos(cmark.line, cmark.column)
        msg = f"{problem} ({context} at {cline}:{ccol})"
    else:
        msg = f"{problem} ({context})" if context else str(problem)
    return located((), f"invalid YAML: {msg}", mkpos(line, col))


def _diagnose(text: str, mkpos: MakePos) -> list[Problem]:
    """Compose ``text`` into nodes and find every duplicate key and unconstructible scalar."""
    yaml = _yaml()
    try:
        root = yaml.compose(text)
    except Exception:
        return []
    problems: list[Problem] = []
    seen: set[int] = set()

    def walk(node: Node, path: Path) -> None:
        if id(node) in seen:  # an alias: its node was walked already
            return
        seen.add(id(node))
        if isinstance(node, MappingNode):
            first: dict[tuple[str, str], int] = {}
            for knode, vnode in node.value:
                key = str(knode.value) if isinstance(knode, ScalarNode) else "?"
                if isinstance(knode, ScalarNode) and str(knode.tag) != _CORE + "merge":
                    ident = (str(knode.tag), key)
                    if ident in first:
                        problems.append(located(
                            (*path, key),
                            f"duplicate key {key!r} (first defined at line {first[ident]})",
                            mkpos(knode.start_mark.line, knode.start_mark.column)))
                    else:
                        first[ident] = mkpos(knode.start_mark.line, 0)[1]
                walk(vnode, (*path, key))
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))
        elif isinstance(node, ScalarNode):
            try:
                yaml.constructor.construct_object(node, deep=True)
            except Exception as exc:
                problems.append(located(
                    path, f"invalid {_short_tag(str(node.tag))} value {node.value!r}: {exc}",
                    mkpos(node.start_mark.line, node.start_mark.column)))

    try:
        if root is not None:
            walk(root, ())
    except RecursionError:
        return []
    return problems


def _key_text(key: Any) -> str | None:
    """A mapping key as a string (keys are names), or None for a complex key."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, TaggedScalar):
        return str(key.value) if str(key.tag) == _STR_TAG else None
    if isinstance(key, str | int | float):
        return str(key)
    if isinstance(key, dt.date):
        return key.isoformat()
    return None


def _tag_of(value: Any) -> str | None:
    tag = getattr(value, "tag", None)
    return getattr(tag, "value", tag) if tag is not None else None


def to_plain(doc: Any, mkpos: MakePos, root: Path = ()) -> tuple[Any, Positions]:
    """Convert a round-trip document to plain data and record each key's position.

    Map entries are located at their key, sequence items at the item. Raises ScenarioError
    (every problem in the document) for refused tags, complex keys and alias bombs.
    """
    positions: Positions = {}
    problems: list[Problem] = []
    alias_values = 0
    expanding = 0  # > 0 while converting a container a second time (through an alias)
    converted: set[int] = set()
    active: set[int] = set()

    def ruamel_pos(lc_call: Callable[[], tuple[int, int]], default: Position) -> Position:
        try:
            line, col = lc_call()
        except Exception:  # merged (<<) keys have no position of their own
            return default
        return mkpos(line, col)

    def conv(value: Any, path: Path, here: Position, vpos: Position) -> Any:
        nonlocal alias_values, expanding
        again = isinstance(value, dict | list) and id(value) in converted
        expanding += again
        try:
            if expanding:
                alias_values += 1
                if alias_values > MAX_ALIAS_VALUES:
                    raise ScenarioError([located(
                        path, f"aliases expand the document by more than {MAX_ALIAS_VALUES:,} "
                        "values (a safety limit against alias bombs); write fewer aliases",
                        vpos)])
            if isinstance(value, dict | list):
                converted.add(id(value))
            return convert(value, path, here, vpos)
        finally:
            expanding -= again

    def convert(value: Any, path: Path, here: Position, vpos: Position) -> Any:
        if isinstance(value, CommentedMap | CommentedSeq) and _tag_of(value) not in _CONTAINER_TAGS:
            problems.append(located(path, f"YAML tag {_short_tag(str(_tag_of(value)))} "
                                    "is not allowed", vpos))
            return None
        if isinstance(value, dict) and not isinstance(value, CommentedOrderedMap):
            if id(value) in active:
                problems.append(located(path, "recursive alias is not allowed", vpos))
                return None
            active.add(id(value))
            out: dict[str, Any] = {}
            for k, v in value.items():
                kpos = here
                val_pos = here
                if isinstance(value, CommentedMap):
                    kpos = ruamel_pos(lambda k=k: value.lc.key(k), here)
                    val_pos = ruamel_pos(lambda k=k: value.lc.value(k), kpos)
                key = _key_text(k)
                if key is None:
                    problems.append(located(path, "mapping keys must be plain scalars", kpos))
                    continue
                if key in out:
                    problems.append(located((*path, key), f"duplicate key {key!r}", kpos))
                    continue
                positions[(*path, key)] = kpos
                out[key] = conv(v, (*path, key), kpos, val_pos)
            active.discard(id(value))
            return out
        if isinstance(value, list):
            if id(value) in active:
                problems.append(located(path, "recursive alias is not allowed", vpos))
                return None
            active.add(id(value))
            items = []
            for i, v in enumerate(value):
                ipos = here
                if isinstance(value, CommentedSeq):
                    ipos = ruamel_pos(lambda i=i: value.lc.item(i), here)
                positions[(*path, i)] = ipos
                items.append(conv(v, (*path, i), ipos, ipos))
            active.discard(id(value))
            return items
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):  # also ScalarInt and ScalarBoolean
            return bool(value) if isinstance(value, ScalarBoolean) else int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, dt.date):  # datetime is a date too
            return value.isoformat()
        if isinstance(value, TaggedScalar) and str(value.tag) == _STR_TAG:
            return str(value.value)
        tag = _tag_of(value) or _TYPE_TAGS.get(type(value).__name__, type(value).__name__)
        problems.append(located(path, f"YAML tag {_short_tag(str(tag))} is not allowed", vpos))
        return None

    start = mkpos(0, 0)
    if isinstance(doc, CommentedMap | CommentedSeq):
        start = mkpos(doc.lc.line, doc.lc.col)
    positions[root] = start
    try:
        data = conv(doc, root, start, start)
    except RecursionError:
        raise ScenarioError([located(root, "nesting is too deep", start)]) from None
    if problems:
        raise ScenarioError(problems)
    return data, positions
