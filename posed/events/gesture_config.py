"""Config of gestures (`events.gestures`): held poses, and hands moving side to side. Validators are pure."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from posed.events.conditions import KEYPOINTS, Condition, Name
from posed.strict import StrictModel


class SwingConfig(StrictModel):
    """A keypoint moving side to side (relative to the shoulders) while the conditions hold."""

    keypoint: str = Field(
        "wrist",
        min_length=1,
        max_length=32,
        description="The keypoint that swings, without `left_`/`right_`: it is followed on each side. "
        "At most 32 characters.",
    )
    distance: float = Field(
        0.3,
        gt=0,
        le=10,
        description="Torso lengths it must travel sideways for a swing; a swing the other way "
        "must travel as far. More than 0, up to 10.",
    )
    swings: int = Field(
        2, ge=1, le=20, description="Swings, each the other way from the last, before it fires. From 1 to 20."
    )

    @field_validator("keypoint")
    @classmethod
    def _sided(cls, keypoint: str) -> str:
        if f"left_{keypoint}" not in KEYPOINTS:
            sided = sorted({n.removeprefix("left_") for n in KEYPOINTS if n.startswith("left_")})
            raise ValueError(f"unknown keypoint {keypoint!r}; valid: {', '.join(sided)}")
        return keypoint


class GestureConfig(StrictModel):
    """A gesture: every condition true at once, held; optionally with a swing while held."""

    all: list[Condition] = Field(
        min_length=1, max_length=8, description="Conditions that must all hold for the gesture."
    )
    swing: SwingConfig | None = Field(
        None,
        description="Also a keypoint moving side to side while the conditions hold (a wave); "
        "off (null) by default.",
    )


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
        from posed.events.builtin import GESTURES

        custom = info.data.get("custom", {})
        unknown = [n for n in gestures if n not in GESTURES and n not in custom]
        if unknown:
            valid = sorted({*GESTURES, *custom})
            raise ValueError(f"unknown gesture {unknown[0]!r}; valid: {', '.join(valid)}")
        if len(set(gestures)) != len(gestures):
            raise ValueError("a gesture is listed twice")
        return gestures

    def definitions(self) -> dict[str, GestureConfig]:
        from posed.events.builtin import GESTURES

        if not self.enabled:
            return {}
        return {name: self.custom.get(name) or GESTURES[name] for name in self.gestures}
