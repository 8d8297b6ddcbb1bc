"""Read a config file into ruamel's round-trip document, refusing what could hang or bloat posed.

A YAML file is small, but what it describes need not be: nine levels of nested
aliases ("billion laughs") expand 1 KB into billions of values, and thousands of
nested brackets overflow every recursive walk over the tree. ruamel.yaml has no
limit of its own, so before the document is built the file's parser events are
walked once. That walk is a flat loop over the events (no recursion), and it
counts how many values the document would hold with every alias expanded,
using the size recorded for each anchor, without expanding anything.

A scalar that parses but cannot be built (an integer of more than 4,300 digits,
`2023-02-29`, `!!bool maybe`) makes ruamel raise whatever Python raised, with no
line; the constructor below turns each into a config error on the value's line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    Event,
    ScalarEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from posed.errors import ConfigError, ConfigIssue
from posed.regular_files import MAX_CONFIG_BYTES, RefusedFile, read_regular

MAX_FILE_BYTES = MAX_CONFIG_BYTES  # a real config is a few KB; zones and many cameras stay far below
MAX_VALUES = 50_000  # values with every alias expanded; a 16-camera config with zones has ~5,000
MAX_DEPTH = 32  # nesting of mappings and lists; posed's own schema needs 7


@dataclass
class _Collection:
    anchor: str | None
    values: int = 1  # the collection itself counts, so an empty `{}` alias is not free
    line: int = 0


@dataclass
class _Walk:
    display: str
    total: int = 0
    stack: list[_Collection] = field(default_factory=list)
    anchors: dict[str, int] = field(default_factory=dict)

    def add(self, values: int, line: int, *, alias: str | None = None) -> None:
        self.total += values
        if self.stack:
            self.stack[-1].values += values
        if self.total > MAX_VALUES:
            cause = (
                f"the alias *{alias} makes the document hold more than {MAX_VALUES:,} values"
                if alias is not None
                else f"the document holds more than {MAX_VALUES:,} values"
            )
            self.fail(line, f"{cause}; posed refuses configs this large (an alias bomb?)")

    def fail(self, line: int, message: str) -> None:
        raise ConfigError([ConfigIssue(self.display, line, "", message)])


def read_document(path: Path) -> CommentedMap:
    """The YAML document with the line of every key; ConfigError if it is not a safe YAML mapping."""
    display = str(path)
    text = decode_config(display, _read_bytes(path))
    try:
        check_structure(display, text)
        document = _yaml().load(text)
    except _Unbuildable as exc:
        raise ConfigError([exc.issue(display, text)]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "cannot parse"
        raise ConfigError([ConfigIssue(display, line, "", f"invalid YAML: {problem}")]) from None
    except YAMLError as exc:  # e.g. ReaderError: a control character; it has a position, no line
        raise ConfigError([ConfigIssue(display, None, "", f"invalid YAML: {_first_line(exc)}")]) from None
    if not isinstance(document, CommentedMap):
        raise ConfigError([ConfigIssue(display, 1, "", "the config must be a mapping of keys")])
    return document


def _read_bytes(path: Path) -> bytes:
    try:
        return read_regular(path, MAX_FILE_BYTES)
    except RefusedFile as exc:
        if exc.too_large:
            message = f"the file is larger than {MAX_FILE_BYTES // 1024} KiB; is this really posed's config?"
        else:
            message = f"cannot read config: {exc.strerror}"
        raise ConfigError([ConfigIssue(str(path), None, "", message)]) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError([ConfigIssue(str(path), None, "", f"cannot read config: {reason}")]) from None


def decode_config(display: str, data: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), and no NUL bytes."""
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        message = "contains NUL bytes: this is a binary file, not a YAML config"
        raise ConfigError([ConfigIssue(display, line, "", message)])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        message = f"not UTF-8 text (byte 0x{byte:02x}); save the config as UTF-8"
        raise ConfigError([ConfigIssue(display, line, "", message)]) from None


def check_structure(display: str, text: str) -> None:
    """Refuse a document nested deeper than MAX_DEPTH or larger than MAX_VALUES once expanded."""
    walk = _Walk(display)
    for event in YAML(typ="rt").parse(text):
        _step(walk, event)


def _step(walk: _Walk, event: Event) -> None:
    line = event.start_mark.line + 1 if event.start_mark is not None else 0
    if isinstance(event, ScalarEvent):
        walk.add(1, line)
        if event.anchor is not None:
            walk.anchors[event.anchor] = 1
    elif isinstance(event, AliasEvent):
        if any(open_.anchor == event.anchor for open_ in walk.stack):
            walk.fail(line, f"the alias *{event.anchor} refers to a mapping or list that contains it")
        # An undefined alias is left to the composer, which reports it with its line.
        walk.add(walk.anchors.get(str(event.anchor), 1), line, alias=str(event.anchor))
    elif isinstance(event, CollectionStartEvent):
        walk.total += 1
        if walk.total > MAX_VALUES:
            walk.add(0, line)
        walk.stack.append(_Collection(event.anchor, line=line))
        if len(walk.stack) > MAX_DEPTH:
            walk.fail(line, f"nested more than {MAX_DEPTH} levels deep; posed's config needs far fewer")
    elif isinstance(event, CollectionEndEvent) and walk.stack:
        done = walk.stack.pop()
        if walk.stack:
            walk.stack[-1].values += done.values
        if done.anchor is not None:
            walk.anchors[done.anchor] = done.values


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


_WHAT = {
    "tag:yaml.org,2002:int": "a whole number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean (true or false)",
    "tag:yaml.org,2002:timestamp": "a date or time",
    "tag:yaml.org,2002:binary": "base64 binary data",
}


_QUOTE_HINT = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:timestamp"})


class _Unbuildable(Exception):
    """A node the YAML constructor could not turn into a value; carries the node for its line."""

    def __init__(self, node: Node, cause: Exception) -> None:
        super().__init__(str(cause))
        self.node = node
        self.cause = cause

    def issue(self, display: str, text: str) -> ConfigIssue:
        from posed.config.messages import show

        mark = self.node.start_mark
        what = _WHAT.get(str(self.node.tag), f"a {self.node.tag} value")
        reason = _first_line(self.cause)
        if isinstance(self.cause, ValueError) and "integer string conversion" in reason:
            reason = "it has more than 4,300 digits"
        elif isinstance(self.cause, KeyError):
            reason = "that is no value of this type"
        value = self.node.value if isinstance(self.node, ScalarNode) else ""
        message = f"{show(value)} cannot be read as {what}: {reason}"
        if str(self.node.tag) in _QUOTE_HINT:
            message += " (put it in quotes if it is meant as text)"
        key = _key_at(text, mark.line, mark.column)
        return ConfigIssue(display, mark.line + 1, key, message)


class _Constructor(RoundTripConstructor):
    """ruamel's round-trip constructor, with any failure to build a value tied to its node.

    A scalar's constructor raises what Python raises (ValueError for int("9" * 5000) or a
    29th of February, KeyError for `!!bool maybe`), so every exception that is not already
    a located YAML error is caught here: none of them may escape as a traceback.
    """

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (YAMLError, _Unbuildable):
            raise
        except Exception as exc:  # any failure to build a value: see the docstring
            raise _Unbuildable(node, exc) from None


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    return yaml


def _key_at(text: str, line: int, column: int) -> str:
    """The dotted key of the value that starts at (line, column), from the composed nodes
    (composing builds no values, so it cannot fail where construction did)."""
    todo: list[tuple[Any, str]] = [(YAML(typ="rt").compose(text), "")]
    while todo:
        node, key = todo.pop()
        if node.start_mark.line == line and node.start_mark.column == column and key:
            return key
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                name = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
                dotted = f"{key}.{name}" if key else name
                todo += [(key_node, dotted), (value_node, dotted)]
        elif isinstance(node, SequenceNode):
            todo += [(item, f"{key}.{i}" if key else str(i)) for i, item in enumerate(node.value)]
    return ""
