"""Config of the people stage (`people:`): which of the estimator's poses count as people. Pure pydantic."""

from __future__ import annotations

from pydantic import Field

from posed.strict import StrictModel


class PhantomConfig(StrictModel):
    """A pose counts as a person once it has shown that it is one: pixels moved inside its box.

    A chair, a coat on a hook or a pattern on a sofa can look like a person to a pose model,
    often with a high score, but it never moves. Until a pose has moved (or took over from a
    counted person who was just lost at that place), it is not reported anywhere: not in the
    poses, zones, people counts, events or the preview.
    """

    enabled: bool = Field(True, description="Drop poses that never moved (phantoms); off: report every pose.")
    pixel_threshold: int = Field(
        20,
        ge=1,
        le=255,
        description="Grey levels (of 255) a pixel must change by to count as moving; raise it for a "
        "noisy camera. From 1 to 255.",
    )
    moving_fraction: float = Field(
        0.05,
        gt=0,
        le=1,
        description="Share of a pose's box that must be moving in one frame for that frame to be "
        "evidence. More than 0, up to 1.",
    )
    motion_frames: int = Field(
        2,
        ge=1,
        le=1000,
        description="Frames of evidence (not necessarily in a row) before a pose counts as a person. "
        "From 1 to 1000.",
    )
    motion_interval: float = Field(
        0.5,
        gt=0,
        le=10,
        description="Each frame is compared with the frame this many seconds before it, so slow "
        "movement shows at any frame rate. More than 0, up to 10.",
    )
    scene_motion_limit: float = Field(
        0.5,
        gt=0,
        le=1,
        description="A frame where more than this share of the whole image changed (a light switched "
        "on, the camera moved, a cut) is no evidence for anyone. More than 0, up to 1.",
    )
    inherit_seconds: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="A new id found where a counted person was lost at most this many seconds "
        "before counts at once (the tracker lost someone who fell, and found them again lying "
        "still). 0: never. From 0 to 3600.",
    )
    inherit_margin: float = Field(
        0.5,
        ge=0,
        le=5,
        description="How far around the lost person's last box the new one may be, as a share of "
        "that box's width and height on each side. From 0 to 5.",
    )
    motion_width: int = Field(
        160,
        ge=32,
        le=1920,
        description="Frames are compared at this width in pixels (greyscale, smoothed): small is cheap "
        "and ignores sensor noise. From 32 to 1920.",
    )


class PeopleConfig(StrictModel):
    """Which of the estimator's poses are people: applies to everything downstream of the model."""

    phantoms: PhantomConfig = Field(
        default_factory=PhantomConfig, description="Dropping poses that never moved (phantoms)."
    )
