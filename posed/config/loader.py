"""Load a YAML config into frozen models, reporting every error with its line.

ruamel.yaml is used rather than PyYAML because its round-trip loader keeps the
line of every key, which is what lets each error point at the line to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from posed.backend import BackendConfig
from posed.config.messages import message, short_key, show
from posed.config.placed import placed_issues
from posed.config.reader import read_document
from posed.config.schema import PosedConfig
from posed.errors import BackendError, ConfigError, ConfigIssue
from posed.suggest import did_you_mean

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


def validate_document(path: Path, document: CommentedMap) -> tuple[LoadedConfig | None, list[ConfigIssue]]:
    """Validate everything at once; the config is None when there is any issue."""
    display = str(path)
    issues: list[ConfigIssue] = []
    config: PosedConfig | None = None
    plain = _Plain(display, issues)(document)
    try:
        config = PosedConfig.model_validate(plain)
    except ValidationError as exc:
        issues.extend(_issues(exc, display, document, PosedConfig, ()))
    else:
        issues.extend(_placed(config, display, document))
        config = None if issues else config
    backend = _validate_backend(plain, document, display, issues)
    if issues or config is None or backend is None:
        return None, issues
    return LoadedConfig(path=path, config=config, backend=backend, document=document), issues


def load_model(path: Path, model: type[ModelT]) -> ModelT:
    """Parse and validate a YAML file holding one section model (e.g. an events file),
    with the same file:line:key errors as the main config."""
    document = read_document(path)
    display = str(path)
    issues: list[ConfigIssue] = []
    plain = _Plain(display, issues)(document)
    try:
        loaded = model.model_validate(plain)
    except ValidationError as exc:
        issues.extend(_issues(exc, display, document, model, ()))
    else:
        issues.extend(_placed(loaded, display, document))
    if issues:
        raise ConfigError(sort_issues(issues))
    return loaded


def sort_issues(issues: Iterable[ConfigIssue]) -> list[ConfigIssue]:
    return sorted(issues, key=lambda i: (i.line or 0, i.key))


def line_of(document: CommentedMap, dotted_key: str) -> int | None:
    return _line_of(document, tuple(dotted_key.split(".")))


def _validate_backend(
    plain: Mapping[str, Any], document: CommentedMap, display: str, issues: list[ConfigIssue]
) -> BackendConfig | None:
    from posed.plugins import discover, load_backend  # deferred: plugin discovery is not import-time work

    section = plain.get("backend")
    if not isinstance(section, Mapping):
        return None  # PosedConfig already reported the missing or malformed section
    line = _line_of(document, ("backend", "type"))
    installed = ", ".join(discover()) or "none"
    name = section.get("type")
    if not isinstance(name, str):
        given = "required key is missing" if name is None else f"{show(name)} is not text"
        issues.append(ConfigIssue(display, line, "backend.type", f"{given}; installed backends: {installed}"))
        return None
    if name not in discover():
        hint = did_you_mean(name, discover())
        message_ = f"unknown backend {name!r}{hint}; installed backends: {installed} (see `posed backends`)"
        issues.append(ConfigIssue(display, line, "backend.type", message_))
        return None
    try:
        plugin = load_backend(name)
    except BackendError as exc:
        issues.append(ConfigIssue(display, line, "backend.type", str(exc)))
        return None
    try:
        return plugin.config_model.model_validate(section)
    except ValidationError as exc:
        issues.extend(_issues(exc, display, document, plugin.config_model, ("backend",)))
        return None


def _placed(model: BaseModel, display: str, document: CommentedMap) -> list[ConfigIssue]:
    """The cross-section problems (posed.config.placed), each on the line of its own key."""
    return [
        ConfigIssue(
            display, _line_of(document, found.loc), ".".join(str(p) for p in found.loc), found.message
        )
        for found in placed_issues(model)
    ]


def _issues(
    exc: ValidationError, display: str, document: CommentedMap, model: type[BaseModel], prefix: Loc
) -> Iterable[ConfigIssue]:
    for error in exc.errors(include_url=False):
        loc = _yaml_loc(document, prefix + tuple(error["loc"]))
        key = ".".join(short_key(str(part)) for part in loc)
        yield ConfigIssue(display, _line_of(document, loc), key, message(error, model, tuple(error["loc"])))


def _yaml_loc(document: Any, loc: Loc) -> Loc:
    """Drop the parts pydantic adds that are not YAML keys (union tags, function names)."""
    kept: list[str | int] = []
    node = document
    for part in loc:
        if isinstance(node, Mapping) and (key := _find_key(node, part)) is not _ABSENT:
            kept.append(part)
            node = node[key]
        elif isinstance(node, Sequence) and not isinstance(node, str) and isinstance(part, int):
            kept.append(part)
            node = node[part] if part < len(node) else None
        elif isinstance(node, Mapping) and node.get("type") == part:
            continue  # the tag of a union by `type` (a camera's `video`): the mapping itself
        elif (
            isinstance(node, Mapping)
            and part == loc[-1]
            and not str(part).startswith(("function-", "tagged-", "[key]"))
        ):
            kept.append(part)  # a missing key: name it, locate it by its parent
    return tuple(kept)


def _line_of(document: Any, loc: Loc) -> int | None:
    """1-based line of the deepest part of `loc` present in the document."""
    node, line = document, None
    for part in loc:
        if isinstance(node, CommentedMap) and (key := _find_key(node, part)) is not _ABSENT:
            line = _key_line(node, key)
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    if line is None and isinstance(document, CommentedMap):
        line = document.lc.line + 1
    return line


_ABSENT = object()


def _key_line(node: Mapping[Any, Any], key: object) -> int | None:
    """1-based line of a key; a key merged in by `<<: *alias` has none of its own, so its mapping's."""
    if not isinstance(node, CommentedMap):
        return None
    try:
        return int(node.lc.key(key)[0]) + 1
    except KeyError:
        return int(node.lc.line) + 1


def _key_text(key: object) -> str | None:
    """A mapping key as the name posed uses: text, or a whole number (camera `1:`); else None."""
    if isinstance(key, str):
        return str(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return str(int(key))
    return None


def _find_key(node: Mapping[Any, Any], part: str | int) -> object:
    """The document's own key that posed reads as `part` (YAML `1:` for posed's "1")."""
    if part in node:
        return part
    for key in node:
        if _key_text(key) == str(part):
            return key
    return _ABSENT


class _Plain:
    """ruamel's round-trip types turned into plain Python values, refusing keys that are not names.

    YAML keys can be numbers, booleans or null. Camera `1:` and camera `"1":` would both
    become "1" and one would vanish; `~:` would become a camera named "None". So keys must
    be text or whole numbers, and no two may mean the same name.
    """

    def __init__(self, display: str, issues: list[ConfigIssue]) -> None:
        self._display = display
        self._issues = issues

    def __call__(self, node: Any, loc: Loc = ()) -> Any:
        if isinstance(node, Mapping):
            return self._mapping(node, loc)
        if isinstance(node, list):
            return [self(v, (*loc, i)) for i, v in enumerate(node)]
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        if isinstance(node, str):
            return str(node)
        return node

    def _mapping(self, node: Mapping[Any, Any], loc: Loc) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int | None] = {}
        for key, value in node.items():
            line = _key_line(node, key)
            name = _key_text(key)
            where = ".".join(str(part) for part in loc)
            if name is None:
                what = "an empty key (~ or null)" if key is None else f"the key {key!r} is not text"
                self._issue(line, where, f"{what}; write the name, in quotes if it looks like a value")
                continue
            if name in out:
                message = f"the key {name!r} is given twice (first on line {first_line[name]})"
                self._issue(line, f"{where}.{name}" if where else name, message)
                continue
            first_line[name] = line
            out[name] = self(value, (*loc, name))
        return out

    def _issue(self, line: int | None, key: str, message: str) -> None:
        self._issues.append(ConfigIssue(self._display, line, key, message))
