"""Config of gestures (`events.gestures`): held poses, and hands moving side to side. Validators are pure."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from posed.events.builtin import GESTURES
from posed.events.conditions import Name
from posed.events.gesture_definition import GestureConfig, SwingConfig
from posed.strict import StrictModel

# A gesture's definition has its own module; its names stay importable from here.
__all__ = ["DEFAULT_GESTURES", "GestureConfig", "GesturesConfig", "SwingConfig"]


# `wave` is built in but not on by default: an existing setup gets no new entity unasked.
DEFAULT_GESTURES = ["hand_raised", "both_hands_up", "t_pose"]


class GesturesConfig(StrictModel):
    enabled: bool = Field(True, description="Detect gestures.")
    custom: dict[Name, GestureConfig] = Field(
        default_factory=dict, description="Your own gestures by name; one with a built-in's name replaces it."
    )
    gestures: list[str] = Field(
        default_factory=lambda: list(DEFAULT_GESTURES),
        description="Gestures to detect: built-in hand_raised, both_hands_up, t_pose, wave, or names "
        "defined under `custom`.",
    )
    hold_seconds: float = Field(
        1.0, ge=0, le=30, description="Seconds a gesture must be held before it fires. From 0 to 30."
    )
    release_seconds: float = Field(
        1.0,
        ge=0,
        le=30,
        description="Seconds a fired gesture must be let go before it can fire again: a hand that "
        "dips for a moment is still up. From 0 to 30.",
    )
    cooldown_seconds: float = Field(
        3.0,
        ge=0,
        le=3600,
        description="Seconds after a gesture fires before the same person's same gesture can fire "
        "again; it must also be released first. From 0 to 3600.",
    )

    @field_validator("gestures")
    @classmethod
    def _known(cls, gestures: list[str], info: ValidationInfo) -> list[str]:
        custom = info.data.get("custom", {})
        unknown = [n for n in gestures if n not in GESTURES and n not in custom]
        if unknown:
            valid = sorted({*GESTURES, *custom})
            raise ValueError(f"unknown gesture {unknown[0]!r}; valid: {', '.join(valid)}")
        if len(set(gestures)) != len(gestures):
            raise ValueError("a gesture is listed twice")
        return gestures

    def definitions(self) -> dict[str, GestureConfig]:
        if not self.enabled:
            return {}
        return {name: self.custom.get(name) or GESTURES[name] for name in self.gestures}
