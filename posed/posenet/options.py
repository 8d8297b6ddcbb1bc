"""PoseNet's options (`model.posenet`): decoding, input size, tracking. Validators are pure."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from posed.strict import LAX_CONTAINER, StrictModel
from posed.tracking.config import TrackerOptions

# One side of a PoseNet input, in pixels (posed.posenet.resolution checks it against the stride).
InputSide = Annotated[int, Field(ge=33, le=2049)]
InputSize = Annotated[tuple[InputSide, InputSide], LAX_CONTAINER]


class PoseNetOptions(StrictModel):
    """Names and defaults follow tfjs PoseNet."""

    decoding: Literal["single", "multi"] = Field("multi", description="Single- or multi-person decoding.")
    max_pose_detections: int = Field(
        5, ge=1, le=100, description="Most poses returned (multi-person), 1 to 100."
    )
    score_threshold: float = Field(0.5, ge=0, le=1, description="Minimum root and pose score, 0 to 1.")
    nms_radius: float = Field(
        20.0, gt=0, le=1000, description="Non-maximum suppression radius, model-input pixels, up to 1000."
    )
    flip_horizontal: bool = Field(False, description="Mirror keypoints horizontally (selfie view).")
    input_resolution: InputSide | InputSize | Literal["auto"] | None = Field(
        None,
        description="Model input size, as tfjs PoseNet's inputResolution: N (square), [height, width], "
        "or auto (the camera's aspect ratio, area nearest auto_pixels). Each side 33-2049 and "
        "k x output stride + 1 (161, 193, ... 513 for stride 16). Default: the model file's own size.",
    )
    auto_pixels: int | None = Field(
        None,
        ge=33 * 33,
        le=2049 * 2049,
        description="Pixel budget of `input_resolution: auto`, 1,089 to 4,198,401 (2049 x 2049). "
        "Default: the model file's own input area.",
    )
    tracker: TrackerOptions = Field(
        default_factory=TrackerOptions,
        description="How poses are matched frame to frame to give each person a lasting id.",
    )

    @model_validator(mode="after")
    def _auto_pixels_with_auto(self) -> PoseNetOptions:
        if self.auto_pixels is not None and self.input_resolution != "auto":
            raise ValueError("`auto_pixels` goes with `input_resolution: auto`")
        return self
