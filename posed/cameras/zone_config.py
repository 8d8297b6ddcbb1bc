"""A camera's named zones (`cameras.<name>.zones`): polygons in normalized image coordinates.

The zone and fall analyzers (posed.events) read them; they are part of a camera's config,
so they live here and posed.cameras needs nothing from posed.events. Validators are pure.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from posed.cameras.zone_shape import MAX_ZONE_POINTS, zone_shape_problem
from posed.strict import LAX_CONTAINER, StrictModel

# The point of a person that must lie inside a zone (posed.events.geometry.anchor finds it).
AnchorName = Literal["feet", "hips", "box_bottom"]


Point = Annotated[tuple[float, float], LAX_CONTAINER]


class ZoneConfig(StrictModel):
    """A named polygon in normalized image coordinates; follows Frigate's zone options."""

    points: list[Point] = Field(
        min_length=3,
        max_length=MAX_ZONE_POINTS,
        description="Corners as [x, y], normalized to 0..1 of the image width and height "
        "(so a zone survives a resolution change), in order around the zone; 3 to 100, no "
        "point twice, an outline that does not cross itself.",
    )
    anchor: AnchorName = Field(
        "feet",
        description="The point of a person that must lie inside: `feet` (the ankles' midpoint, "
        "else the hips when the feet are not seen), `hips`, or `box_bottom` (the pose box's bottom centre).",
    )
    inertia: int = Field(
        3,
        ge=1,
        le=100,
        description="Consecutive frames with the anchor inside before an entry counts. From 1 to 100.",
    )
    loitering_time: float = Field(
        0.0,
        ge=0,
        le=86400,
        description="Seconds in the zone before a `loitering` event; 0 turns loitering off. From 0 to 86400.",
    )

    @model_validator(mode="after")
    def _normalized(self) -> ZoneConfig:
        bad = [p for p in self.points if not (0 <= p[0] <= 1 and 0 <= p[1] <= 1)]
        if bad:
            raise ValueError(f"zone points are normalized: x and y must be within 0..1, not {list(bad[0])}")
        if (problem := zone_shape_problem(self.points)) is not None:
            raise ValueError(problem)
        return self
