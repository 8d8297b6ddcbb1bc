"""Every field of the config schema, whoever added it, has a description and a sane, documented range.

The walk covers PosedConfig recursively and the backend sections of the installed
plugins, so a section added later (events, preview, zones...) is held to the same rule.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from pathlib import Path

import annotated_types
import pytest
from pydantic import BaseModel

from posed.config import PosedConfig
from posed.plugins import discover, load_backend
from posed.strict import PATH_BOUND, CheckedByValidator, constraints, spellings

LOWER = (annotated_types.Ge, annotated_types.Gt)
UPPER = (annotated_types.Le, annotated_types.Lt)


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    todo = [root]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            todo += [t for t in _leaves(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
    return seen


def _leaves(tp: object) -> Iterator[object]:
    """The plain types inside Annotated, unions, Optional, dict and list."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        yield from _leaves(typing.get_args(tp)[0])
    elif origin in (typing.Union, types.UnionType, dict, list, tuple):
        for arg in typing.get_args(tp):
            yield from _leaves(arg)
    elif origin is typing.Literal:
        yield typing.Literal
    else:
        yield tp


def _direct_leaves(tp: object) -> list[object]:
    """Like _leaves, without descending into dict and list (their items are not this field's value)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _direct_leaves(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [leaf for arg in typing.get_args(tp) for leaf in _direct_leaves(arg)]
    if origin is typing.Literal:
        return [typing.Literal]
    return [tp]


def _problems(model: type[BaseModel]) -> Iterator[str]:
    for name, field in model.model_fields.items():
        where = f"{model.__name__}.{name}"
        description = field.description or ""
        if not description:
            yield f"{where}: no description"
        leaves = _direct_leaves(field.annotation)
        meta = constraints(field)
        if any(isinstance(m, CheckedByValidator) for m in meta):
            meta += [annotated_types.Ge(0), annotated_types.Le(0), annotated_types.MaxLen(0)]
            checked = next(m for m in meta if isinstance(m, CheckedByValidator))
            if not callable(getattr(model, checked.validator, None)):
                yield f"{where}: CheckedByValidator names no validator of the model"
        if any(t in (int, float) for t in leaves):
            uppers = [m for m in meta if isinstance(m, UPPER)]
            if not any(isinstance(m, LOWER) for m in meta) or not uppers:
                yield f"{where}: a number without both a lower and an upper bound"
            for upper in uppers:
                limit = upper.le if isinstance(upper, annotated_types.Le) else upper.lt
                if limit and not any(s in description for s in spellings(float(typing.cast(float, limit)))):
                    yield f"{where}: the description does not state the upper bound {limit}"
        if str in leaves:
            lengths = [m for m in meta if isinstance(m, annotated_types.MaxLen)]
            if not lengths:
                yield f"{where}: text without max_length"
        if Path in leaves and PATH_BOUND not in meta:
            yield f"{where}: a Path that is not posed.strict.ConfigPath"


def _schemas() -> list[type[BaseModel]]:
    roots: list[type[BaseModel]] = [PosedConfig]
    roots += [load_backend(name).config_model for name in discover()]
    return roots


@pytest.mark.parametrize("root", _schemas(), ids=lambda m: m.__name__)
def test_every_field_has_a_description_and_a_documented_range(root: type[BaseModel]) -> None:
    models = _models(root)
    problems = [p for model in models for p in _problems(model)]
    assert problems == []


def test_the_walk_sees_nested_sections_and_catches_an_unbounded_field() -> None:
    names = {m.__name__ for m in _models(PosedConfig)}
    assert {"MqttConfig", "TlsConfig", "HomeAssistantConfig", "VideoCamera", "BlazePoseOptions"} <= names

    class Careless(BaseModel):
        timeout: float = 1.0
        label: str | None = None
        where: Path | None = None

    assert len(list(_problems(Careless))) == 6  # three descriptions, a range, a length, a path
