"""Read a config file into ruamel's round-trip document, refusing what could hang or bloat posed.

A YAML file is small, but what it describes need not be: nine levels of nested
aliases ("billion laughs") expand 1 KB into billions of values, and thousands of
nested brackets overflow every recursive walk over the tree. ruamel.yaml has no
limit of its own, so before the document is built the file's parser events are
walked once. That walk is a flat loop over the events (no recursion), and it
counts how many values the document would hold with every alias expanded,
using the size recorded for each anchor, without expanding anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    Event,
    ScalarEvent,
)

from posed.errors import ConfigError, ConfigIssue

MAX_FILE_BYTES = 1024 * 1024  # a real config is a few KB; zones and many cameras stay far below
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
        document = YAML(typ="rt").load(text)
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
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError([ConfigIssue(str(path), None, "", f"cannot read config: {reason}")]) from None
    if len(data) > MAX_FILE_BYTES:
        message = f"the file is larger than {MAX_FILE_BYTES // 1024} KiB; is this really posed's config?"
        raise ConfigError([ConfigIssue(str(path), None, "", message)])
    return data


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
