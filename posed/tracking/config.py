"""Options of the frame-to-frame pose tracker (PoseNet multi-person). Pure pydantic, no I/O."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator

from posed.strict import LAX_CONTAINER, StrictModel

# COCO's per-keypoint OKS constants (https://cocodataset.org/#keypoints-eval),
# the ones tfjs pose-detection's KeypointTracker uses by default.
COCO_FALLOFF: tuple[float, ...] = (
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072,
    0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
)  # fmt: skip
# tfjs's defaults differ per tracker type.
DEFAULT_MIN_SIMILARITY = {"keypoint": 0.2, "bounding_box": 0.15}


class TrackerOptions(StrictModel):
    """Names and defaults follow tfjs pose-detection's trackers; `max_age` is in seconds."""

    type: Literal["keypoint", "bounding_box"] = Field(
        "bounding_box",
        description="bounding_box: IoU of the poses' boxes (tfjs MoveNet's default); "
        "keypoint: OKS-like keypoint similarity.",
    )
    max_tracks: PositiveInt = Field(
        18,
        le=1000,
        description="Most people remembered at once, 1 to 1000; the least recently seen are forgotten first.",
    )
    max_age: PositiveFloat = Field(
        1.0,
        le=3600.0,
        description="Seconds (up to 3600) a person may be out of sight and keep their id; then a new one.",
    )
    min_similarity: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Least similarity that links a pose to a known person; "
        "unset: 0.2 for keypoint, 0.15 for bounding_box (tfjs's defaults).",
    )
    predict_motion: bool = Field(
        True,
        description="Compare a remembered person at where their recent speed puts them now "
        "(not in tfjs; keeps ids through fast walking and missed frames at low frame rates).",
    )
    keypoint_confidence_threshold: float = Field(
        0.3, ge=0.0, le=1.0, description="keypoint: keypoints scoring below this (0 to 1) are not compared."
    )
    keypoint_falloff: Annotated[tuple[float, ...], LAX_CONTAINER] = Field(
        COCO_FALLOFF,
        description="keypoint: per-keypoint OKS falloff, 17 values in COCO order (COCO's own by default).",
    )
    min_number_of_keypoints: int = Field(
        4,
        ge=1,
        le=17,
        description="keypoint: 1 to 17; fewer keypoints confident in both poses means similarity 0.",
    )

    @field_validator("keypoint_falloff")
    @classmethod
    def _seventeen_positive(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if len(value) != len(COCO_FALLOFF) or not all(0.0 < v <= 1.0 for v in value):
            raise ValueError(f"give {len(COCO_FALLOFF)} values in (0, 1], one per COCO keypoint")
        return value

    @property
    def similarity_threshold(self) -> float:
        """`min_similarity`, or the type's default when unset."""
        if self.min_similarity is not None:
            return self.min_similarity
        return DEFAULT_MIN_SIMILARITY[self.type]
