"""MoveNet's options (the `model.movenet` section). Pure pydantic, no I/O.

Names and defaults follow tfjs pose-detection's MoveNetModelConfig.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from posed.strict import StrictModel
from posed.tracking.config import TrackerOptions

# tfjs's DEFAULT_MIN_POSE_SCORE and MOVENET_MULTIPOSE_DEFAULT_MAX_DIMENSION
DEFAULT_MIN_POSE_SCORE = 0.25
DEFAULT_MULTIPOSE_MAX_DIMENSION = 256
SIZE_DIVISOR = 32  # MultiPose input sides must be multiples of this


class MoveNetOptions(StrictModel):
    """Which MoveNet runs (single or multi) is read from the model file itself."""

    enable_smoothing: bool = Field(
        True, description="Smooth keypoints over time with tfjs's one-euro filter (video only)."
    )
    smart_cropping: bool = Field(
        True,
        description="Single-pose: crop each frame around the person found in the previous one, "
        "as tfjs does (keeps small, distant people large in the model's input). "
        "false: every frame runs on the whole frame, padded square.",
    )
    min_pose_score: float = Field(
        DEFAULT_MIN_POSE_SCORE,
        ge=0.0,
        le=1.0,
        description="Poses scoring below this (0 to 1) are dropped; single-pose also restarts its "
        "crop from the whole frame.",
    )
    multipose_max_dimension: int = Field(
        DEFAULT_MULTIPOSE_MAX_DIMENSION,
        ge=SIZE_DIVISOR,
        le=1024,
        description="MultiPose: the frame's long side is resized to this many pixels, 32 to 1024 and "
        "a multiple of 32 (tfjs's multiPoseMaxDimension); the short side is padded up to a "
        "multiple of 32. Larger finds smaller people and costs more CPU.",
    )
    flip_horizontal: bool = Field(False, description="Mirror keypoints horizontally (selfie view).")
    tracker: TrackerOptions = Field(
        default_factory=TrackerOptions,
        description="MultiPose: how poses are matched frame to frame to give each person a lasting id "
        "(bounding_box uses the boxes MoveNet outputs).",
    )

    @field_validator("multipose_max_dimension")
    @classmethod
    def _multiple_of_32(cls, value: int) -> int:
        if value % SIZE_DIVISOR:
            lower = value - value % SIZE_DIVISOR
            raise ValueError(f"must be a multiple of {SIZE_DIVISOR}, e.g. {lower} or {lower + SIZE_DIVISOR}")
        return value
