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
from typing import TYPE_CHECKING

from posed.backend import ROLE_DETECTOR, ROLE_LANDMARKS, Backend, BackendConfig
from posed.blazepose.estimator import BlazePoseEstimator
from posed.blazepose.multi import MultiBlazePoseEstimator
from posed.blazepose.multi_detect import BlazePoseSeeds, PoseNetSeeds, SeedDetector
from posed.config.schema import ModelConfig
from posed.errors import ModelError
from posed.estimator_contract import OverlappingEstimator, PoseEstimator
from posed.keypoints import COCO_17
from posed.models.resolve import resolve_model
from posed.movenet.estimator import MoveNetEstimator
from posed.posenet.estimator import PoseNetEstimator
from posed.posenet.options import PoseNetOptions
from posed.tracking.ids import RUN_IDS, IdSource

if TYPE_CHECKING:
    from posed.model_files import ResolvedModel


# The estimator contract has its own module (posed.estimator_contract), so code that only runs an
# estimator does not import every model family; its names stay importable from here.
__all__ = ["OverlappingEstimator", "PoseEstimator", "open_estimator"]


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
    resolved = resolve_model(model, model_dirs, backend=backend.name)
    if resolved.family == "blazepose":
        options = model.blazepose
        if options.num_poses > 1 or options.detector == "posenet":
            return _open_multi_blazepose(
                resolved, model, backend, backend_config, model_dirs=model_dirs, ids=ids
            )
        return BlazePoseEstimator.open(resolved, options, backend, backend_config, ids=ids)
    if resolved.family == "movenet":
        return MoveNetEstimator.open(resolved, model.movenet, backend, backend_config, ids=ids)

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
