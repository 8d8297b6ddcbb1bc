"""The top-level config model. Validators here are pure: no I/O of any kind."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from posed.cameras.config import CameraConfig
from posed.events.config import EventsConfig
from posed.evidence.config import SnapshotsConfig
from posed.gate.config import MotionGateConfig
from posed.movenet.config import MoveNetOptions
from posed.mqtt.config import MqttConfig
from posed.people.config import PeopleConfig
from posed.posenet.options import PoseNetOptions
from posed.preview.config import PreviewConfig
from posed.strict import MAX_NAME_CHARS, NAME_PATTERN, ConfigPath, Name, StrictModel

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
        0.5, ge=0, le=1, description="Minimum detector score for a person to be found, 0 to 1."
    )
    min_tracking_confidence: float = Field(
        0.5, ge=0, le=1, description="Minimum pose presence to keep tracking without the detector, 0 to 1."
    )
    flip_horizontal: bool = Field(False, description="Mirror keypoints horizontally (selfie view).")
    num_poses: int = Field(
        1,
        ge=1,
        le=10,
        description="Most people tracked at once, 1 to 10 (MediaPipe Tasks' num_poses). "
        "1 is MediaPipe's single-person Pose; more runs the landmark model once per person.",
    )
    detector: Literal["blazepose", "posenet"] = Field(
        "blazepose",
        description="Person detector of `num_poses` > 1: blazepose (MediaPipe's, for people near "
        "the camera) or posenet (PoseNet multi-person keypoints; also finds people farther away).",
    )
    detector_model: str = Field(
        "posenet-mobilenet-075-481x641",
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="With `detector: posenet`: the PoseNet model name (see `posed models list`).",
    )
    detection_interval: float = Field(
        0.5,
        ge=0.0,
        le=60.0,
        description="With `num_poses` > 1: least seconds between detector runs while some but fewer "
        "than `num_poses` people are tracked, 0 to 60 (0: every frame). With nobody tracked it runs "
        "every frame; with `num_poses` tracked, never.",
    )
    max_overlap: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="With `num_poses` > 1: two crops overlapping more than this (IoU, 0 to 1) hold "
        "one person; the one found later is dropped.",
    )


class ModelConfig(StrictModel):
    name: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="A known model name (see `posed models list`), e.g. blazepose-full; "
        "at most 128 characters.",
    )
    path: ConfigPath | None = Field(
        None,
        description="Path of a .tflite file, instead of a name. BlazePose: the landmark model. "
        "A regular file of at most 512 MiB.",
    )
    detector_path: ConfigPath | None = Field(
        None,
        description="BlazePose only, with `path`: the pose_detection.tflite to use; a regular file "
        "of at most 512 MiB.",
    )
    blazepose: BlazePoseOptions = Field(
        default_factory=BlazePoseOptions,
        description="Options used when the model is BlazePose.",
    )
    posenet: PoseNetOptions = Field(
        default_factory=PoseNetOptions,
        description="Options used when the model is PoseNet.",
    )
    movenet: MoveNetOptions = Field(
        default_factory=MoveNetOptions,
        description="Options used when the model is MoveNet (single pose or MultiPose).",
    )
    precision: Literal["float", "int8"] = Field(
        "float",
        description="float: the shipped model files. int8: BlazePose's int8 variants for this "
        "backend (openvino or tflite), made once by `posed models quantize NAME`; faster on some "
        "CPUs, less faithful to MediaPipe (docs: The model store, int8 variants). Needs `name`, not `path`.",
    )

    @model_validator(mode="after")
    def _name_or_path(self) -> ModelConfig:
        if (self.name is None) == (self.path is None):
            raise ValueError("give exactly one of `name` or `path`")
        if self.detector_path is not None and self.path is None:
            raise ValueError("`detector_path` goes with `path`, not with `name`")
        if self.precision == "int8" and self.name is None:
            raise ValueError("`precision: int8` goes with a model `name` (variants of packaged models)")
        return self


class DaemonConfig(StrictModel):
    shutdown_timeout: float = Field(
        5.0,
        ge=0.5,
        le=600,
        description="Seconds allowed for a clean stop before posed exits anyway, 0.5 to 600 "
        "(keep it below the unit's TimeoutStopSec=).",
    )
    hang_timeout: float = Field(
        10.0,
        ge=1,
        le=3600,
        description="Seconds one inference may take before the worker is restarted, 1 to 3600.",
    )
    restart_budget: int = Field(
        3,
        ge=0,
        le=100,
        description="Worker restarts allowed within 10 minutes before posed exits 1, 0 to 100.",
    )


class PosedConfig(StrictModel):
    device_id: str = Field(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        pattern=NAME_PATTERN,
        description="Name of this device; second level of every MQTT topic. Letters, digits, - and _, "
        "at most 64 characters.",
    )
    model_dir: ConfigPath | None = Field(None, description="Directory of named models.")
    backend: dict[str, object] = Field(
        description="Inference backend: `type` is its entry-point name; other keys are validated "
        "by that backend (see `posed backends`)."
    )
    model: ModelConfig = Field(description="The pose model and its options.")
    cameras: dict[Name, CameraConfig] = Field(
        min_length=1,
        max_length=64,
        description="Cameras by name (at most 64); the name is a topic level and part of Home Assistant "
        "ids: letters, digits, - and _, at most 64 characters.",
    )
    mqtt: MqttConfig = Field(
        default_factory=MqttConfig,
        description="MQTT broker and publishing options.",
    )
    daemon: DaemonConfig = Field(
        default_factory=DaemonConfig,
        description="Lifecycle settings of `posed run`.",
    )
    preview: PreviewConfig = Field(default_factory=PreviewConfig, description="The live preview page.")
    log_level: LogLevel = Field("info", description="Log level: debug, info, warning or error.")
    events: EventsConfig = Field(
        default_factory=EventsConfig, description="Zone, fall, rep and gesture events."
    )
    snapshots: SnapshotsConfig = Field(
        default_factory=SnapshotsConfig, description="Snapshots and clips of events (off by default)."
    )
    people: PeopleConfig = Field(
        default_factory=PeopleConfig,
        description="Which poses count as people (phantoms dropped) for everything that reports them.",
    )
    motion_gate: MotionGateConfig = Field(
        default_factory=MotionGateConfig,
        description="Skip the pose estimator on still frames while nobody is tracked, and the "
        "motion masks of each camera.",
    )

    @field_validator("motion_gate")
    @classmethod
    def _mask_cameras(cls, gate: MotionGateConfig, info: ValidationInfo) -> MotionGateConfig:
        cameras = info.data.get("cameras")
        if cameras is None:
            return gate  # the cameras are invalid and reported already
        if unknown := sorted(set(gate.masks) - set(cameras)):
            raise ValueError(f"masks.{unknown[0]} names no camera; cameras: {sorted(cameras)}")
        return gate
