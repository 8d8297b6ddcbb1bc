"""The pose-estimator contract, and the factory that builds one for a model.

An estimator owns its inference sessions and closes them; it turns RGB images
into poses in the image's own pixel coordinates. Every pose carries a person
id (`Pose.id`) from posed.tracking.ids: the same while the estimator tracks
that person, and never handed out twice in a process.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

from posed.backend import Backend, BackendConfig
from posed.config.schema import ModelConfig, PoseNetOptions
from posed.tracking.ids import RUN_IDS, IdSource
from posed.types import ImageArray, Pose

if TYPE_CHECKING:
    from posed.models.resolve import ResolvedModel


class PoseEstimator(Protocol):
    @property
    def model_name(self) -> str: ...

    @property
    def keypoint_names(self) -> tuple[str, ...]: ...

    @property
    def devices(self) -> dict[str, str]:
        """Device really in use per model role, e.g. {"landmarks": "CPU"}."""
        ...

    def estimate(self, image: ImageArray, timestamp: float | None = None) -> list[Pose]:
        """Poses in `image` (RGB, H x W x 3 uint8), each with its person id.

        `timestamp` is the capture time in seconds, for tracking and smoothing.
        None means a still image: no tracking, no smoothing, and new ids.
        """
        ...

    def reset(self) -> None:
        """Forget tracking state, e.g. after a camera reconnect; people found afterwards get new ids."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


@runtime_checkable
class OverlappingEstimator(PoseEstimator, Protocol):
    """Optional: an estimator that can infer one image while the previous one is decoded.

    submit() prepares an image and starts its inference; collect() returns the
    poses of the oldest submitted image. posed.overlap.EstimationLoop drives it.
    """

    @property
    def can_overlap(self) -> bool:
        """True when the backend session can run in the background (posed.backend.OverlappingSession)."""
        ...

    def submit(self, image: ImageArray, timestamp: float | None = None) -> None: ...

    def collect(self) -> list[Pose]: ...


def open_estimator(
    model: ModelConfig,
    backend: Backend,
    backend_config: BackendConfig,
    *,
    model_dirs: Sequence[Path],
    ids: IdSource = RUN_IDS,
) -> PoseEstimator:
    """Resolve the model's files and open the estimator of its family.

    `ids` hands out the person ids; the default is shared by the whole process.
    """
    from posed.models.resolve import resolve_model

    resolved = resolve_model(model, model_dirs, backend=backend.name)
    if resolved.family == "blazepose":
        options = model.blazepose
        if options.num_poses > 1 or options.detector == "posenet":
            return _open_multi_blazepose(
                resolved, model, backend, backend_config, model_dirs=model_dirs, ids=ids
            )
        from posed.blazepose.estimator import BlazePoseEstimator

        return BlazePoseEstimator.open(resolved, options, backend, backend_config, ids=ids)
    if resolved.family == "movenet":
        from posed.movenet.estimator import MoveNetEstimator

        return MoveNetEstimator.open(resolved, model.movenet, backend, backend_config, ids=ids)
    from posed.posenet.estimator import PoseNetEstimator

    return PoseNetEstimator.open(resolved, model.posenet, backend, backend_config, ids=ids)


def _open_multi_blazepose(
    resolved: ResolvedModel,
    model: ModelConfig,
    backend: Backend,
    backend_config: BackendConfig,
    *,
    model_dirs: Sequence[Path],
    ids: IdSource,
) -> PoseEstimator:
    """BlazePose for several people, with its person detector (posed.blazepose.multi)."""
    from posed.backend import ROLE_DETECTOR, ROLE_LANDMARKS
    from posed.blazepose.multi import MultiBlazePoseEstimator
    from posed.blazepose.multi_detect import BlazePoseSeeds, PoseNetSeeds, SeedDetector
    from posed.errors import ModelError
    from posed.keypoints import COCO_17

    options = model.blazepose
    with ExitStack() as stack:
        detector = stack.enter_context(
            backend.open_session(resolved.files["detector"], backend_config, role=ROLE_DETECTOR)
        )
        landmarks = stack.enter_context(
            backend.open_session(resolved.files["landmarks"], backend_config, role=ROLE_LANDMARKS)
        )
        seeds: SeedDetector
        if options.detector == "posenet":
            # Its own ids: the detector's poses are never published, the lanes' ids are.
            people = ModelConfig(
                name=options.detector_model,
                posenet=PoseNetOptions(max_pose_detections=min(2 * options.num_poses, 100)),
            )
            posenet = stack.enter_context(
                open_estimator(people, backend, backend_config, model_dirs=model_dirs, ids=IdSource())
            )
            if posenet.keypoint_names != COCO_17:
                raise ModelError(
                    f"model.blazepose.detector_model {options.detector_model!r} is not a PoseNet model "
                    "(detector: posenet needs one, e.g. posenet-mobilenet-075-481x641)"
                )
            seeds = PoseNetSeeds(posenet)
        else:
            seeds = BlazePoseSeeds(detector, options.min_detection_confidence)
        estimator = MultiBlazePoseEstimator(resolved.name, detector, landmarks, seeds, options, ids=ids)
        stack.pop_all()
    return estimator
