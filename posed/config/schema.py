"""The top-level config model. Validators here are pure: no I/O of any kind."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from posed.cameras.config import CameraConfig
from posed.mqtt.config import MqttConfig
from posed.strict import StrictModel
from posed.tracking.config import TrackerOptions

LogLevel = Literal["debug", "info", "warning", "error"]


class BlazePoseOptions(StrictModel):
    """Names and defaults follow MediaPipe's Pose solution and tfjs pose-detection."""

    model_type: Literal["lite", "full", "heavy"] = Field(
        "full", description="Landmark model size; used when the model name is plain `blazepose`."
    )
    enable_smoothing: bool = Field(True, description="Smooth landmarks over time (video only).")
    enable_segmentation: bool = Field(False, description="Also output the segmentation mask.")
    static_image_mode: bool = Field(False, description="Run the detector on every frame instead of tracking.")
    min_detection_confidence: float = Field(
        0.5, ge=0, le=1, description="Minimum detector score for a person to be found."
    )
    min_tracking_confidence: float = Field(
        0.5, ge=0, le=1, description="Minimum pose presence to keep tracking without the detector."
    )
    flip_horizontal: bool = Field(False, description="Mirror keypoints horizontally (selfie view).")


class PoseNetOptions(StrictModel):
    """Names and defaults follow tfjs PoseNet."""

    decoding: Literal["single", "multi"] = Field("multi", description="Single- or multi-person decoding.")
    max_pose_detections: PositiveInt = Field(5, description="Most poses returned (multi-person).")
    score_threshold: float = Field(0.5, ge=0, le=1, description="Minimum root and pose score.")
    nms_radius: PositiveFloat = Field(20.0, description="Non-maximum suppression radius, model-input pixels.")
    flip_horizontal: bool = Field(False, description="Mirror keypoints horizontally (selfie view).")
    tracker: TrackerOptions = Field(
        default_factory=TrackerOptions,
        description="How poses are matched frame to frame to give each person a lasting id.",
    )


class ModelConfig(StrictModel):
    name: str | None = Field(
        None, description="A known model name (see `posed models list`), e.g. blazepose-full."
    )
    path: Path | None = Field(
        None, description="Path of a .tflite file, instead of a name. BlazePose: the landmark model."
    )
    detector_path: Path | None = Field(
        None, description="BlazePose only, with `path`: the pose_detection.tflite to use."
    )
    blazepose: BlazePoseOptions = Field(
        default_factory=BlazePoseOptions,
        description="Options used when the model is BlazePose.",
    )
    posenet: PoseNetOptions = Field(
        default_factory=PoseNetOptions,
        description="Options used when the model is PoseNet.",
    )

    @model_validator(mode="after")
    def _name_or_path(self) -> ModelConfig:
        if (self.name is None) == (self.path is None):
            raise ValueError("give exactly one of `name` or `path`")
        if self.detector_path is not None and self.path is None:
            raise ValueError("`detector_path` goes with `path`, not with `name`")
        return self


class DaemonConfig(StrictModel):
    shutdown_timeout: PositiveFloat = Field(
        5.0, description="Seconds allowed for a clean stop before posed exits anyway."
    )
    hang_timeout: PositiveFloat = Field(
        10.0, description="Seconds one inference may take before the worker is restarted."
    )
    restart_budget: int = Field(
        3, ge=0, description="Worker restarts allowed within 10 minutes before posed exits 1."
    )


class PosedConfig(StrictModel):
    device_id: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Name of this device; second level of every MQTT topic.",
    )
    model_dir: Path | None = Field(None, description="Directory of named models.")
    backend: dict[str, object] = Field(
        description="Inference backend: `type` is its entry-point name; other keys are validated "
        "by that backend (see `posed backends`)."
    )
    model: ModelConfig = Field(description="The pose model and its options.")
    cameras: dict[str, CameraConfig] = Field(
        min_length=1, description="Cameras by name; the name is a topic level."
    )
    mqtt: MqttConfig = Field(
        default_factory=MqttConfig,
        description="MQTT broker and publishing options.",
    )
    daemon: DaemonConfig = Field(
        default_factory=DaemonConfig,
        description="Lifecycle settings of `posed run`.",
    )
    log_level: LogLevel = Field("info", description="Log level: debug, info, warning or error.")

    @model_validator(mode="after")
    def _camera_names(self) -> PosedConfig:
        bad = [name for name in self.cameras if not name.replace("-", "").replace("_", "").isalnum()]
        if bad:
            raise ValueError(f"camera names must be letters, digits, - or _: {', '.join(bad)}")
        return self
