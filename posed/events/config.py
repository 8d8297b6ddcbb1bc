"""Config of the event analyzers: the top-level `events:` section and each camera's `zones`.

Validators are pure. Built-in exercises and gestures are data (posed/events/builtin.py),
defined with the same models a user's own definitions use.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from posed.events.geometry import AnchorName, MeasureKind
from posed.events.zone_shape import MAX_ZONE_POINTS, zone_shape_problem
from posed.keypoints import BLAZEPOSE_33, COCO_17
from posed.strict import LAX_CONTAINER, StrictModel

NAME_PATTERN = r"^[A-Za-z0-9_-]+$"
KEYPOINTS = frozenset({*BLAZEPOSE_33, *COCO_17, "head"})  # `head` is the nose
SideRule = Literal["both", "either", "one", "left", "right"]
# Zone and exercise names are MQTT topic levels and Home Assistant ids.
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=NAME_PATTERN)]
Point = Annotated[tuple[float, float], LAX_CONTAINER]
Pair = Annotated[tuple[str, str], LAX_CONTAINER]
Triple = Annotated[tuple[str, str, str], LAX_CONTAINER]


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


class Measure(StrictModel):
    """One body measure: give exactly one of angle, inclination, height or distance.

    Keypoint names are posed's (`left_knee`, `nose`); a name without `left_`/`right_`
    (`knee`, `hip`) is taken on each side, combined by `side`.
    """

    angle: Triple | None = Field(
        None, description="Degrees at the middle keypoint, e.g. [hip, knee, ankle]; 180 is straight."
    )
    inclination: Pair | None = Field(
        None, description="Degrees of the line between two keypoints from vertical: 0 vertical, 90 level."
    )
    height: Pair | None = Field(
        None, description="How far the first keypoint is above the second, in torso lengths."
    )
    distance: Pair | None = Field(None, description="Distance between two keypoints, in torso lengths.")
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


class ExerciseConfig(StrictModel):
    """An exercise: one measure moving between a start and a far position, with hysteresis."""

    measure: Measure = Field(description="What moves during a rep, e.g. {angle: [hip, knee, ankle]}.")
    start_above: float | None = Field(
        None, ge=-1000, le=1000, description="The start position: the measure above this. From -1000 to 1000."
    )
    start_below: float | None = Field(
        None, ge=-1000, le=1000, description="The start position: the measure below this. From -1000 to 1000."
    )
    far_above: float | None = Field(
        None, ge=-1000, le=1000, description="The far position: the measure above this. From -1000 to 1000."
    )
    far_below: float | None = Field(
        None, ge=-1000, le=1000, description="The far position: the measure below this. From -1000 to 1000."
    )
    require: list[Condition] = Field(
        default_factory=list,
        max_length=8,
        description="Conditions that must all hold at the far position for the rep to count "
        "(e.g. the body level for a push-up).",
    )

    @model_validator(mode="after")
    def _thresholds(self) -> ExerciseConfig:
        given = {
            k
            for k in ("start_above", "start_below", "far_above", "far_below")
            if getattr(self, k) is not None
        }
        if given == {"start_above", "far_below"}:
            if self.far_below >= self.start_above:  # type: ignore[operator]
                raise ValueError("far_below must be less than start_above (the gap is the hysteresis)")
        elif given == {"start_below", "far_above"}:
            if self.far_above <= self.start_below:  # type: ignore[operator]
                raise ValueError("far_above must be greater than start_below (the gap is the hysteresis)")
        else:
            raise ValueError("give start_above with far_below, or start_below with far_above")
        if self.measure.side == "one":
            raise ValueError("an exercise's measure takes side both, either, left or right, not one")
        return self

    @property
    def decreasing(self) -> bool:
        """True when a rep moves the measure down (start above, far below)."""
        return self.start_above is not None


class GestureConfig(StrictModel):
    """A gesture: every condition true at once."""

    all: list[Condition] = Field(
        min_length=1, max_length=8, description="Conditions that must all hold for the gesture."
    )


class FallsConfig(StrictModel):
    enabled: bool = Field(True, description="Detect falls.")
    upright_angle: float = Field(
        35.0,
        ge=0,
        le=90,
        description="Torso degrees from vertical below which a person is upright. From 0 to 90.",
    )
    lying_angle: float = Field(
        60.0,
        ge=20,
        le=90,
        description="Torso degrees from vertical above which a person may be lying. From 20 to 90.",
    )
    lying_aspect: float = Field(
        1.0,
        ge=0.2,
        le=10,
        description="Lying also needs the visible keypoints' box this many times wider than tall "
        "(low and wide, unlike bending over). From 0.2 to 10.",
    )
    fast_seconds: float = Field(
        1.5, gt=0, le=10, description="The window in which a change counts as fast. More than 0, up to 10."
    )
    fast_angle: float = Field(
        45.0,
        ge=5,
        le=180,
        description="Torso degrees gained within fast_seconds that start a fall. From 5 to 180.",
    )
    fast_drop: float = Field(
        0.8,
        gt=0,
        le=10,
        description="Hip drop in torso lengths within fast_seconds that starts a fall; over 0, up to 10.",
    )
    settle_seconds: float = Field(
        3.0,
        gt=0,
        le=30,
        description="Seconds after the fast change to end up lying, else no fall. More than 0, up to 30.",
    )
    confirm_seconds: float = Field(
        3.0, ge=0, le=600, description="Seconds lying before the fall is reported. From 0 to 600."
    )
    clear_seconds: float = Field(
        2.0, ge=0, le=600, description="Seconds upright again before a reported fall clears. From 0 to 600."
    )
    lost_seconds: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="Seconds a person is unseen before they count as gone (a reported fall clears). "
        "More than 0, up to 3600.",
    )
    clear_timeout: float | None = Field(
        None,
        gt=0,
        le=86400,
        description="Clear a reported fall after this many seconds even if the person is still "
        "down; off (null) by default. The person must get up before another fall can fire. "
        "More than 0, up to 86400.",
    )
    ignore_zones: list[str] = Field(
        default_factory=list,
        description="Names of the camera's zones (a bed, a sofa) where lying down is never a fall; "
        "the test point is the hips.",
    )

    @model_validator(mode="after")
    def _upright_below_lying(self) -> FallsConfig:
        # Else a torso between the two angles would be upright and lying at once.
        if self.upright_angle >= self.lying_angle:
            raise ValueError(
                f"upright_angle ({self.upright_angle:g}) must be below lying_angle ({self.lying_angle:g})"
            )
        return self


class RepsConfig(StrictModel):
    custom: dict[Name, ExerciseConfig] = Field(
        default_factory=dict,
        description="Your own exercises by name; one with a built-in's name replaces it.",
    )
    exercises: list[str] = Field(
        default_factory=list,
        description="Exercises to count: built-in squat, push_up, jumping_jack, bicep_curl, lunge, "
        "or names defined under `custom`. Empty: no counting.",
    )
    rest_seconds: float = Field(
        30.0, gt=0, le=3600, description="Seconds without a rep that end a set. More than 0, up to 3600."
    )

    @field_validator("exercises")
    @classmethod
    def _known(cls, exercises: list[str], info: ValidationInfo) -> list[str]:
        from posed.events.builtin import EXERCISES

        custom = info.data.get("custom", {})
        unknown = [n for n in exercises if n not in EXERCISES and n not in custom]
        if unknown:
            valid = sorted({*EXERCISES, *custom})
            raise ValueError(f"unknown exercise {unknown[0]!r}; valid: {', '.join(valid)}")
        if len(set(exercises)) != len(exercises):
            raise ValueError("an exercise is listed twice")
        return exercises

    def definitions(self) -> dict[str, ExerciseConfig]:
        from posed.events.builtin import EXERCISES

        return {name: self.custom.get(name) or EXERCISES[name] for name in self.exercises}


DEFAULT_GESTURES = ["hand_raised", "both_hands_up", "t_pose"]


class GesturesConfig(StrictModel):
    enabled: bool = Field(True, description="Detect gestures.")
    custom: dict[Name, GestureConfig] = Field(
        default_factory=dict, description="Your own gestures by name; one with a built-in's name replaces it."
    )
    gestures: list[str] = Field(
        default_factory=lambda: list(DEFAULT_GESTURES),
        description="Gestures to detect: built-in hand_raised, both_hands_up, t_pose, or names "
        "defined under `custom`.",
    )
    hold_seconds: float = Field(
        1.0, ge=0, le=30, description="Seconds a gesture must be held before it fires. From 0 to 30."
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
    """The file `posed estimate --events-config` reads: the `events:` section of a posed
    config, and zones under `cameras.estimate.zones` (the same place as in a daemon config).
    Its `ignore_zones` entries are checked against those zones by posed.config.placed."""

    events: EventsConfig = Field(default_factory=EventsConfig, description="As in the daemon config.")
    cameras: EstimateCameras = Field(
        default_factory=EstimateCameras, description="Only `estimate`, for its `zones`."
    )
