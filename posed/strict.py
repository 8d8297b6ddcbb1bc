"""The base of every config model: typed, frozen, strict."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Frozen, rejects unknown keys, and never coerces strings into numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False, validate_default=True)
