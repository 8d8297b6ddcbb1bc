"""Turn pydantic's validation errors into messages that quote the value and say what would be valid."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from posed.strict import NAME_PATTERN, SECRET, constraints
from posed.suggest import did_you_mean
from posed.urls import mask_credentials

Loc = tuple[str | int, ...]
SHOWN_CHARS = 60  # a 66,000-character value is shown by its start and its length


def show(value: object) -> str:
    """A value as the user wrote it, credentials masked, shortened when it is very long
    (masked first: a cut could split a URL's password from the `@` that marks it)."""
    text = repr(mask_credentials(value)) if isinstance(value, str) else repr(value)
    if len(text) > SHOWN_CHARS:
        length = f"{len(value)} characters" if isinstance(value, str | list | dict) else "long"
        text = f"{text[: SHOWN_CHARS - 5]}...' ({length})"
    return text


def short_key(part: str) -> str:
    """A key as shown in an issue: a 66,000-character camera name must not make a 66 KB log line."""
    return part if len(part) <= 80 else f"{part[:40]}...({len(part)} characters)"


def message(error: Mapping[str, Any], model: type[BaseModel], loc: Loc) -> str:
    """One pydantic error, in words; `loc` is relative to `model`."""
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if _is_secret(model, loc):
        return f"{error['msg']}; the value is not shown (it is a secret)"
    if kind == "extra_forbidden":
        valid = fields_at(model, loc[:-1])
        key = str(loc[-1]) if loc else ""
        hint = did_you_mean(key, valid)
        listing = f"; valid keys here: {', '.join(valid)}" if valid else ""
        return f"unknown key {key!r}{hint}{listing}"
    if kind == "missing":
        return "required key is missing"
    if kind in ("bool_parsing", "bool_type"):
        return f"{show(value)} is not a boolean (true or false){_unquote_hint(value)}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{show(value)} is not a whole number{_unquote_hint(value)}"
    if kind == "int_parsing_size":
        return f"{show(value)} is far too large"
    if kind in ("float_parsing", "float_type"):
        return f"{show(value)} is not a number{_unquote_hint(value)}"
    if kind == "string_type":
        return f"{show(value)} is not text"
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        return f"{show(value)} is not one of {expected}{did_you_mean(str(value), _words(expected))}"
    if kind == "union_tag_invalid":
        expected = str(ctx.get("expected_tags", ""))
        tag = str(ctx.get("tag", value))
        return f"type {tag!r} is not one of {expected}{did_you_mean(tag, _words(expected))}"
    if kind == "union_tag_not_found":
        return f"required key `type` is missing ({ctx.get('discriminator', 'type')})"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == NAME_PATTERN:
        what = "the name" if loc and loc[-1] == "[key]" else "the value"
        return f"{what} {show(value)} may hold only letters A-Z and a-z, digits, - and _"
    if loc and loc[-1] == "[key]":
        return f"the name {show(value)}: {str(error['msg'])[:1].lower()}{str(error['msg'])[1:]}"
    text = str(error["msg"]).removeprefix("Value error, ")
    if kind != "value_error" and not isinstance(value, Mapping | list):
        text = f"{text[:1].lower()}{text[1:]}, not {show(value)}"
    return text


def _is_secret(model: type[BaseModel], loc: Loc) -> bool:
    if not loc:
        return False
    current: Any = model
    for part in loc[:-1]:
        current = _step(current, part)
        if current is None:
            return False
    current = _unwrap(current)
    if not (isinstance(current, type) and issubclass(current, BaseModel)):
        return False
    field = current.model_fields.get(str(loc[-1]))
    return field is not None and SECRET in constraints(field)


def _unquote_hint(value: object) -> str:
    """Why a value that looks right is refused: posed never converts one type into another."""
    if isinstance(value, bool):
        return f": {str(value).lower()} is a boolean"
    if isinstance(value, float):
        return ": write it without a decimal point" if value.is_integer() else ""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return f": it is text in quotes; write {value.strip().lower()} without quotes"
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return f": it is text in quotes; write {value.strip()} without quotes"
    return ""


def _words(expected: str) -> list[str]:
    """The quoted choices in pydantic's "'a', 'b' or 'c'"."""
    return [part.strip(" '\"") for part in expected.replace(" or ", ",").split(",") if part.strip(" '\"")]


def fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
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
