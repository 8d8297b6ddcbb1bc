"""Config of the event analyzers: the top-level `events:` section (a camera's `zones` are
posed/cameras/zone_config.py's, importable from here too).

Validators are pure. Built-in exercises and gestures are data (posed/events/builtin.py),
defined with the same models a user's own definitions use (posed/events/rep_config.py,
posed/events/gesture_config.py).
"""

from __future__ import annotations

from pydantic import Field

from posed.cameras.zone_config import ZoneConfig
from posed.events.conditions import KEYPOINTS, NAME_PATTERN, Condition, Measure, Name, SideRule
from posed.events.falls_config import FallsConfig
from posed.events.gesture_config import DEFAULT_GESTURES, GestureConfig, GesturesConfig
from posed.events.rep_config import ExerciseConfig, RepsConfig
from posed.people.config import PeopleConfig
from posed.strict import StrictModel

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
