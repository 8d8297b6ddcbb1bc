"""Body measures and conditions: what exercises and gestures are made of. Validators are pure."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from posed.events.geometry import MeasureKind
from posed.keypoints import BLAZEPOSE_33, COCO_17
from posed.strict import LAX_CONTAINER, StrictModel

NAME_PATTERN = r"^[A-Za-z0-9_-]+$"
KEYPOINTS = frozenset({*BLAZEPOSE_33, *COCO_17, "head"})  # `head` is the nose
SideRule = Literal["both", "either", "one", "left", "right"]
# Zone and exercise names are MQTT topic levels and Home Assistant ids.
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=NAME_PATTERN)]


class Measure(StrictModel):
    """One body measure: give exactly one of angle, inclination, height or distance.

    Keypoint names are posed's (`left_knee`, `nose`); a name without `left_`/`right_`
    (`knee`, `hip`) is taken on each side, combined by `side`.
    """

    angle: Annotated[tuple[str, str, str], LAX_CONTAINER] | None = Field(
        None, description="Degrees at the middle keypoint, e.g. [hip, knee, ankle]; 180 is straight."
    )
    inclination: Annotated[tuple[str, str], LAX_CONTAINER] | None = Field(
        None, description="Degrees of the line between two keypoints from vertical: 0 vertical, 90 level."
    )
    height: Annotated[tuple[str, str], LAX_CONTAINER] | None = Field(
        None, description="How far the first keypoint is above the second, in torso lengths."
    )
    distance: Annotated[tuple[str, str], LAX_CONTAINER] | None = Field(
        None, description="Distance between two keypoints, in torso lengths."
    )
    side: SideRule = Field(
        "both",
        description="For sided names: `both` sides (a count uses their mean), `either` side, "
        "exactly `one` side (the other seen and not), or only `left`/`right`.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Measure:
        given = [k for k in ("angle", "inclination", "height", "distance") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of angle, inclination, height or distance")
        # A misspelt keypoint would never be seen, and the exercise would silently never count.
        unknown = [n for n in self.names if n not in KEYPOINTS and f"left_{n}" not in KEYPOINTS]
        if unknown:
            sides = sorted({n.removeprefix("left_").removeprefix("right_") for n in KEYPOINTS})
            raise ValueError(
                f"unknown keypoint {unknown[0]!r}; valid: {', '.join(sides)} (or left_/right_ ones)"
            )
        return self

    @property
    def kind(self) -> MeasureKind:
        kinds: tuple[MeasureKind, ...] = ("angle", "inclination", "height", "distance")
        return next(kind for kind in kinds if getattr(self, kind) is not None)

    @property
    def names(self) -> tuple[str, ...]:
        value = getattr(self, self.kind)
        assert value is not None
        return tuple(value)


class Condition(Measure):
    """A measure with bounds: true when it is above `above` and below `below`."""

    above: float | None = Field(
        None, ge=-1000, le=1000, description="Lower bound of the measure. From -1000 to 1000."
    )
    below: float | None = Field(
        None, ge=-1000, le=1000, description="Upper bound of the measure. From -1000 to 1000."
    )

    @model_validator(mode="after")
    def _bounded(self) -> Condition:
        if self.above is None and self.below is None:
            raise ValueError("a condition needs `above`, `below` or both")
        if self.above is not None and self.below is not None and self.above >= self.below:
            raise ValueError("`above` must be less than `below`")
        return self
