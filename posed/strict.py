"""The base of every config model: typed, frozen, strict; and the bounded types every model uses.

Every number and every text in the config has a range, stated in its description
(tests/test_config_bounds.py walks the schema to make sure): a 66,000-character
camera name or a timeout of 1e300 seconds is a config error, not a crash later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

MAX_PATH_CHARS = 4096  # Linux PATH_MAX
MAX_NAME_CHARS = 64  # device_id and camera names: one MQTT topic level and a Home Assistant id
NAME_PATTERN = r"^[A-Za-z0-9_-]+$"  # what Home Assistant accepts in discovery topics and ids


class StrictModel(BaseModel):
    """Frozen, rejects unknown keys, and never coerces strings into numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False, validate_default=True)


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


PATH_BOUND = BeforeValidator(_bounded_path)
ConfigPath = Annotated[Path, PATH_BOUND]
"""A file or directory path of at most MAX_PATH_CHARS characters."""


@dataclass(frozen=True, slots=True)
class CheckedByValidator:
    """Field metadata: the model's own validator bounds this field (a union pydantic's constraints
    cannot express with one clear message); its description still states the range."""

    validator: str


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=NAME_PATTERN)]
"""A device or camera name: letters, digits, - and _ only, as Home Assistant requires."""
