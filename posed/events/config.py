"""Config of the event analyzers: the top-level `events:` section and each camera's `zones`.

Validators are pure. Built-in exercises and gestures are data (posed/events/builtin.py),
defined with the same models a user's own definitions use (posed/events/rep_config.py,
posed/events/gesture_config.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from posed.events.conditions import KEYPOINTS, NAME_PATTERN, Condition, Measure, Name, SideRule
from posed.events.falls_config import FallsConfig
from posed.events.geometry import AnchorName
from posed.events.gesture_config import DEFAULT_GESTURES, GestureConfig, GesturesConfig
from posed.events.rep_config import ExerciseConfig, RepsConfig
from posed.events.zone_shape import MAX_ZONE_POINTS, zone_shape_problem
from posed.people.config import PeopleConfig
from posed.strict import LAX_CONTAINER, StrictModel

# Measures, exercises and gestures have their own modules; their names stay importable from here.
__all__ = [
    "DEFAULT_GESTURES",
    "KEYPOINTS",
    "NAME_PATTERN",
    "Condition",
    "EstimateCamera",
    "EstimateCameras",
    "EventsConfig",
    "EventsFile",
    "ExerciseConfig",
    "FallsConfig",
    "GestureConfig",
    "GesturesConfig",
    "Measure",
    "Name",
    "RepsConfig",
    "SideRule",
    "ZoneConfig",
]

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


class EventsConfig(StrictModel):
    """Analyzers that turn each camera's poses into events (zones are set per camera)."""

    min_keypoint_score: float = Field(
        0.5, ge=0, le=1, description="Keypoints scored below this count as not seen. From 0 to 1."
    )
    forget_seconds: float = Field(
        2.0,
        gt=0,
        le=3600,
        description="Seconds a person is unseen before they leave their zones and their gesture "
        "state is dropped (falls have their own `lost_seconds`). More than 0, up to 3600.",
    )
    falls: FallsConfig = Field(default_factory=FallsConfig, description="Fall detection.")
    reps: RepsConfig = Field(default_factory=RepsConfig, description="Exercise repetition counting.")
    gestures: GesturesConfig = Field(default_factory=GesturesConfig, description="Held gestures.")


class EstimateCamera(StrictModel):
    zones: dict[Name, ZoneConfig] = Field(
        default_factory=dict, description="Zones of the estimated video or images."
    )


class EstimateCameras(StrictModel):
    estimate: EstimateCamera = Field(
        default_factory=EstimateCamera, description="`posed estimate` is the camera named `estimate`."
    )


class EventsFile(StrictModel):
    """The file `posed estimate --events-config` reads: the `events:` and `people:` sections of a
    posed config, and zones under `cameras.estimate.zones` (the same place as in a daemon config).
    Its `ignore_zones` entries are checked against those zones by posed.config.placed."""

    events: EventsConfig = Field(default_factory=EventsConfig, description="As in the daemon config.")
    people: PeopleConfig = Field(default_factory=PeopleConfig, description="As in the daemon config.")
    cameras: EstimateCameras = Field(
        default_factory=EstimateCameras, description="Only `estimate`, for its `zones`."
    )
