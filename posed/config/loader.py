"""Load a YAML config into frozen models, reporting every error with its line.

ruamel.yaml is used rather than PyYAML because its round-trip loader keeps the
line of every key, which is what lets each error point at the line to fix.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from posed.backend import BackendConfig
from posed.config.schema import PosedConfig
from posed.errors import BackendError, ConfigError, ConfigIssue

Loc = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """A validated config, with the backend section validated by its plugin."""

    path: Path
    config: PosedConfig
    backend: BackendConfig
    document: CommentedMap

    def line_of(self, dotted_key: str) -> int | None:
        """1-based line of a dotted key such as `model.name`, for later checks."""
        return _line_of(self.document, tuple(dotted_key.split(".")))


def load_config(path: Path | str) -> LoadedConfig:
    """Parse and validate `path`; raise ConfigError naming every problem."""
    path = Path(path)
    document = read_document(path)
    loaded, issues = validate_document(path, document)
    if issues:
        raise ConfigError(sort_issues(issues))
    assert loaded is not None
    return loaded


def read_document(path: Path) -> CommentedMap:
    """The YAML document with the line of every key; ConfigError if it is not a YAML mapping."""
    display = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigIssue(display, None, "", f"cannot read config: {exc.strerror}")]) from exc
    try:
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError([ConfigIssue(display, line, "", f"invalid YAML: {exc.problem}")]) from exc
    if not isinstance(document, CommentedMap):
        raise ConfigError([ConfigIssue(display, 1, "", "the config must be a mapping of keys")])
    return document


def validate_document(path: Path, document: CommentedMap) -> tuple[LoadedConfig | None, list[ConfigIssue]]:
    """Validate everything at once; the config is None when there is any issue."""
    display = str(path)
    issues: list[ConfigIssue] = []
    config: PosedConfig | None = None
    try:
        config = PosedConfig.model_validate(_plain(document))
    except ValidationError as exc:
        issues.extend(_issues(exc, display, document, PosedConfig, ()))
    backend = _validate_backend(document, display, issues)
    if issues or config is None or backend is None:
        return None, issues
    return LoadedConfig(path=path, config=config, backend=backend, document=document), issues


def load_model(path: Path, model: type[ModelT]) -> ModelT:
    """Parse and validate a YAML file holding one section model (e.g. an events file),
    with the same file:line:key errors as the main config."""
    document = read_document(path)
    try:
        return model.model_validate(_plain(document))
    except ValidationError as exc:
        raise ConfigError(sort_issues(_issues(exc, str(path), document, model, ()))) from exc


def sort_issues(issues: Iterable[ConfigIssue]) -> list[ConfigIssue]:
    return sorted(issues, key=lambda i: (i.line or 0, i.key))


def line_of(document: CommentedMap, dotted_key: str) -> int | None:
    return _line_of(document, tuple(dotted_key.split(".")))


def _validate_backend(
    document: CommentedMap, display: str, issues: list[ConfigIssue]
) -> BackendConfig | None:
    from posed.plugins import load_backend  # deferred: plugin discovery is not import-time work

    section = document.get("backend")
    if not isinstance(section, Mapping) or not isinstance(section.get("type"), str):
        return None  # PosedConfig already reported the missing or malformed section
    name = section["type"]
    try:
        plugin = load_backend(name)
    except BackendError as exc:
        issues.append(ConfigIssue(display, _line_of(document, ("backend", "type")), "backend.type", str(exc)))
        return None
    try:
        return plugin.config_model.model_validate(_plain(section))
    except ValidationError as exc:
        issues.extend(_issues(exc, display, document, plugin.config_model, ("backend",)))
        return None


def _issues(
    exc: ValidationError, display: str, document: CommentedMap, model: type[BaseModel], prefix: Loc
) -> Iterable[ConfigIssue]:
    for error in exc.errors(include_url=False):
        loc = _yaml_loc(document, prefix + tuple(error["loc"]))
        key = ".".join(str(part) for part in loc)
        yield ConfigIssue(display, _line_of(document, loc), key, _message(error, model, loc[len(prefix) :]))


def _message(error: Mapping[str, Any], model: type[BaseModel], loc: Loc) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        valid = _fields_at(model, loc[:-1])
        hint = f"; valid keys here: {', '.join(valid)}" if valid else ""
        return f"unknown key{hint}"
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"])
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    return message


def _yaml_loc(document: Any, loc: Loc) -> Loc:
    """Drop the parts pydantic adds that are not YAML keys (union tags, function names)."""
    kept: list[str | int] = []
    node = document
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            kept.append(part)
            node = node[part]
        elif isinstance(node, Sequence) and not isinstance(node, str) and isinstance(part, int):
            kept.append(part)
            node = node[part] if part < len(node) else None
        elif (
            isinstance(node, Mapping)
            and part == loc[-1]
            and not str(part).startswith(("function-", "tagged-"))
        ):
            kept.append(part)  # a missing key: name it, locate it by its parent
    return tuple(kept)


def _line_of(document: Any, loc: Loc) -> int | None:
    """1-based line of the deepest part of `loc` present in the document."""
    node, line = document, None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    if line is None and isinstance(document, CommentedMap):
        line = document.lc.line + 1
    return line


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys a mapping at `loc` accepts, to say what would be valid."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return tp


def _step(tp: Any, part: str | int) -> Any:
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(str(part))
        return field.annotation if field is not None else None
    if origin is dict:
        return typing.get_args(tp)[1]
    if origin is list:
        return typing.get_args(tp)[0]
    if origin in (typing.Union, types.UnionType):
        for candidate in typing.get_args(tp):
            member = _unwrap(candidate)
            if isinstance(member, type) and issubclass(member, BaseModel):
                tag = member.model_fields.get("type")
                if tag is not None and part in typing.get_args(tag.annotation):
                    return member
    return None


def _plain(node: Any) -> Any:
    """ruamel's round-trip types turned into plain Python values."""
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node
