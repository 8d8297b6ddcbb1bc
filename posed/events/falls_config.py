"""Config of fall detection: the `events.falls` section.

A fall is a fast change that ends with the person down, confirmed after they stay
down; posed/events/falls.py holds the rules, and the README/docs say which clips
each threshold was measured on.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from posed.strict import StrictModel


class FallsConfig(StrictModel):
    """Fall detection: thresholds of the fast change, of lying, and of following a fall
    through the tracker losing the person or giving them a new id."""

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
        description="Seconds a person is unseen before they count as gone. A reported fall clears "
        "then (reason lost) only if the person was last seen at the image's edge (within "
        "edge_margin), where they could have left the view; a fallen person lost anywhere else "
        "stays fallen until someone is seen getting up there, or clear_timeout. More than 0, up to 3600.",
    )
    clear_timeout: float | None = Field(
        None,
        gt=0,
        le=86400,
        description="Clear a reported fall after this many seconds even if the person is still "
        "down; off (null) by default. The person must get up before another fall can fire. "
        "More than 0, up to 86400.",
    )
    low_height: float = Field(
        0.5,
        ge=0.1,
        le=0.9,
        description="Lying, whatever the 2-D torso angle (a fall towards or away from the camera): "
        "the body's height at most this fraction of its height when last seen upright, together "
        "with head_floor and low_aspect. From 0.1 to 0.9.",
    )
    head_floor: float = Field(
        0.4,
        ge=0.05,
        le=0.9,
        description="...and the head (the nose, else the shoulders) at most this many upright body "
        "heights above the floor level the feet stood on (sitting upright on the floor: about "
        "0.45). From 0.05 to 0.9.",
    )
    low_aspect: float = Field(
        0.75,
        ge=0.2,
        le=10,
        description="...and the visible keypoints' box at least this many times as wide as tall. "
        "From 0.2 to 10.",
    )
    raised_head: float = Field(
        0.75,
        ge=0.1,
        le=3,
        description="Lying by the torso angle does not count with the head more than this many "
        "upright body heights above the floor level the feet stood on (a bed or a sofa, seen "
        "from a camera above it; zones in ignore_zones are the sure way). From 0.1 to 3.",
    )
    reference_seconds: float = Field(
        10.0,
        gt=0,
        le=600,
        description="The upright height and floor level are used only if seen upright at most this "
        "many seconds before the fast change. More than 0, up to 600.",
    )
    handover_seconds: float = Field(
        3.0,
        ge=0,
        le=60,
        description="A person who appears (a new tracker id) within this many seconds after another "
        "was lost, at that place, continues that person's state: a fast change seen just before, a "
        "fall in progress; found lying there, the disappearance counts as the fast change. A fallen "
        "person's place is taken over however long they were lost. From 0 to 60.",
    )
    handover_distance: float = Field(
        1.0,
        gt=0,
        le=5,
        description="'At that place': box centres at most this many of the lost person's body sizes "
        "(the longer side of its box) apart. More than 0, up to 5.",
    )
    edge_margin: float = Field(
        0.05,
        ge=0,
        le=0.5,
        description="A person whose box came this close to the image's edge (a fraction of its width "
        "or height) may have left the view (see lost_seconds). From 0 to 0.5.",
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
