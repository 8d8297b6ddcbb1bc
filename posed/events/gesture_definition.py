"""One gesture's definition: conditions held at once, optionally with a swing. Validators are pure.

The built-in gestures (posed.events.builtin) are written in this form, and so are a user's own.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from posed.events.conditions import KEYPOINTS, Condition
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
