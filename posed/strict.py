"""The base of every config model: typed, frozen, strict; and the bounded types every model uses.

Every number and every text in the config has a range, stated in its description
(tests/test_config_bounds.py walks the schema to make sure): a 66,000-character
camera name or a timeout of 1e300 seconds is a config error, not a crash later.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, cast

from annotated_types import Ge, Gt, Le, Lt, MaxLen
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic.fields import FieldInfo

MAX_PATH_CHARS = 4096  # Linux PATH_MAX
MAX_NAME_CHARS = 64  # device_id and camera names: one MQTT topic level and a Home Assistant id
NAME_PATTERN = r"^[A-Za-z0-9_-]+$"  # what Home Assistant accepts in discovery topics and ids


class StrictModel(BaseModel):
    """Frozen, rejects unknown keys, and never coerces: pydantic's strict mode, for every model.

    `fps: '5'`, `fps: true` and `num_threads: 2.0` are refused, not turned into 5, 1.0 and 2.
    The only values strict mode would refuse that YAML cannot write otherwise are lists for
    fixed-length tuples and text for paths: those types carry `LAX_CONTAINER` (their items
    stay strict).

    Every field's description states its range: where the author did not write it, the
    range of the field's constraints is appended when the class is made, so the text and
    the limits can never disagree.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, validate_default=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        changed = False
        for field in cls.model_fields.values():
            documented = _with_range(field)
            if documented != field.description:
                field.description = documented
                changed = True
        if changed:
            cls.model_rebuild(force=True)  # the JSON schema carries the new descriptions too


def spellings(bound: float) -> set[str]:
    """The ways a description may write a bound: 3600, 3,600, 0.01, 1e+06."""
    out = {f"{bound:g}", str(bound)}
    if float(bound).is_integer():
        out |= {str(int(bound)), f"{int(bound):,}"}
    return out


def constraints(field: FieldInfo) -> list[object]:
    """The field's constraints, with those inside Annotated members of its type (PositiveInt | None)."""
    found = list(field.metadata)
    todo: list[Any] = [field.annotation]
    while todo:
        tp = todo.pop()
        if typing.get_origin(tp) is typing.Annotated:
            base, *extra = typing.get_args(tp)
            for item in extra:
                found += list(item.metadata) if isinstance(item, FieldInfo) else [item]
            todo.append(base)
        elif typing.get_origin(tp) in (typing.Union, types.UnionType):
            todo += list(typing.get_args(tp))
    return found


def _with_range(field: FieldInfo) -> str | None:
    description = field.description
    if not description:
        return description
    meta = constraints(field)
    lower = next((m.ge if isinstance(m, Ge) else m.gt for m in meta if isinstance(m, Ge | Gt)), None)
    upper = next((m.le if isinstance(m, Le) else m.lt for m in meta if isinstance(m, Le | Lt)), None)
    length = next((m.max_length for m in meta if isinstance(m, MaxLen)), None)
    if upper is not None and not spellings(float(cast(float, upper))) & _words(description):
        text = f"{_number(lower)} to {_number(upper)}" if lower is not None else f"up to {_number(upper)}"
        return f"{description.rstrip().rstrip('.')}. Range: {text}."
    if length is not None and upper is None and not spellings(length) & _words(description):
        sized = typing.get_origin(field.annotation) in (list, tuple, set, frozenset)
        unit = "items" if sized else "characters"
        return f"{description.rstrip().rstrip('.')}. At most {length:,} {unit}."
    return description


def _words(description: str) -> set[str]:
    return {word.strip("()[],;:.") for word in description.split()} | {
        word.strip("()[],;:") for word in description.split()
    }


def _number(value: object) -> str:
    number = float(cast(float, value))
    return f"{int(number):,}" if number.is_integer() else f"{number:g}"


def _bounded_path(value: object) -> object:
    """pydantic's Path takes no max_length, and a NUL byte would fail at the first open()."""
    if isinstance(value, str | Path):
        text = str(value)
        if len(text) > MAX_PATH_CHARS:
            raise ValueError(f"a path of {len(text)} characters; at most {MAX_PATH_CHARS}")
        if "\0" in text:
            raise ValueError("a path must not contain NUL")
        if not text:
            raise ValueError("a path must not be empty")
    return value


LAX_CONTAINER = Strict(False)
"""On a tuple: a YAML list is accepted for it (strict mode wants a Python tuple); on a Path: text
is. What they hold is still validated strictly: `['0.1', '0.2']` is no point."""

PATH_BOUND = BeforeValidator(_bounded_path)
ConfigPath = Annotated[Path, LAX_CONTAINER, PATH_BOUND]
"""A file or directory path of at most MAX_PATH_CHARS characters."""


@dataclass(frozen=True, slots=True)
class CheckedByValidator:
    """Field metadata: the model's own validator bounds this field (a union pydantic's constraints
    cannot express with one clear message); its description still states the range."""

    validator: str


@dataclass(frozen=True, slots=True)
class SecretValue:
    """Field metadata: the value is a secret (a token); an error about it never quotes it."""


SECRET = SecretValue()


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=NAME_PATTERN)]
"""A device or camera name: letters, digits, - and _ only, as Home Assistant requires."""
