"""BlazePose estimator: detector, tracking, landmarks and smoothing behind the PoseEstimator contract.

One person at a time, as in MediaPipe Pose. With timestamps the person is
tracked: the detector runs only when there is no crop from the previous frame
(at the start, or after the model lost the person). Without a timestamp each
image stands alone.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import numpy as np

from posed.backend import ROLE_DETECTOR, ROLE_LANDMARKS, Backend, BackendConfig, InferenceSession
from posed.blazepose.detector import Detection, PoseDetector
from posed.blazepose.landmarks import NUM_BODY, LandmarkModel, LandmarkResult, segmentation_to_image
from posed.blazepose.mirror import Mirror
from posed.blazepose.roi import NormRect, Roi, alignment_rect, enlarged_rect
from posed.blazepose.segmentation import MaskSmoother
from posed.blazepose.tracker import Floats, Tracker
from posed.config.schema import BlazePoseOptions
from posed.errors import ClosedError, ModelError
from posed.keypoints import BLAZEPOSE_33
from posed.model_files import ResolvedModel
from posed.tracking.ids import RUN_IDS, IdSource
from posed.types import FloatArray, ImageArray, Pose, box_of


class BlazePoseEstimator:
    """Owns the detector and landmark sessions; close it (or use `with`) to release them."""

    def __init__(
        self,
        name: str,
        detector: InferenceSession,
        landmarks: InferenceSession,
        options: BlazePoseOptions,
        *,
        ids: IdSource = RUN_IDS,
    ) -> None:
        self._name = name
        self._sessions: tuple[InferenceSession, ...] = (detector, landmarks)
        self._devices = {"detector": detector.device, "landmarks": landmarks.device}
        self._options = options
        self._detector = PoseDetector(detector, options.min_detection_confidence)
        self._landmarks = LandmarkModel(landmarks, options.min_tracking_confidence)
        self._tracker = Tracker(smooth_landmarks=options.enable_smoothing)
        self._mask_smoother = MaskSmoother()
        self._mirrored = Mirror()
        self._tracked_size: tuple[int, int] | None = None
        self._closed = False
        # The tracked crop is the person's identity: kept while tracked, new after a detection.
        self._ids = ids
        self._person: int | None = None
        self.last_trace = Trace()
        """MediaPipe's internal streams of the last `estimate` (detection, ROI, crop landmarks)."""
        self.last_segmentation: FloatArray | None = None
        """With `enable_segmentation`: the last image's person mask, (H, W) float32 in [0, 1]."""

    @classmethod
    def open(
        cls,
        resolved: ResolvedModel,
        options: BlazePoseOptions,
        backend: Backend,
        backend_config: BackendConfig,
        *,
        ids: IdSource = RUN_IDS,
    ) -> BlazePoseEstimator:
        for role in ("detector", "landmarks"):
            if role not in resolved.files:
                raise ModelError(f"BlazePose model {resolved.name!r} has no {role} file")
        with ExitStack() as stack:
            detector = stack.enter_context(
                backend.open_session(resolved.files["detector"], backend_config, role=ROLE_DETECTOR)
            )
            landmarks = stack.enter_context(
                backend.open_session(resolved.files["landmarks"], backend_config, role=ROLE_LANDMARKS)
            )
            estimator = cls(resolved.name, detector, landmarks, options, ids=ids)
            stack.pop_all()
        return estimator

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def keypoint_names(self) -> tuple[str, ...]:
        return BLAZEPOSE_33

    @property
    def devices(self) -> dict[str, str]:
        return dict(self._devices)

    def estimate(self, image: ImageArray, timestamp: float | None = None) -> list[Pose]:
        if self._closed:
            raise ClosedError(f"BlazePose estimator {self._name} is closed")
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}")
        if self._options.flip_horizontal:
            image = self._mirrored(image)
        height, width = image.shape[:2]
        tracking = timestamp is not None and not self._options.static_image_mode
        if tracking and self._tracked_size != (width, height):
            # The crop is in pixels of the old frame size: start over.
            self.reset()
            self._tracked_size = (width, height)
        rect = self._tracker.rect if tracking else None
        trace = Trace()
        self.last_trace = trace
        if rect is None:
            self._person = None  # found by the detector, not tracked: a new person
            detection = self._detector.detect(image)
            trace.detection = detection
            if detection is None:
                return self._lost(tracking)
            points = detection.keypoints
            trace.rect_before_transform = alignment_rect(
                (float(points[0, 0]), float(points[0, 1])),
                (float(points[1, 0]), float(points[1, 1])),
                width,
                height,
            )
            rect = enlarged_rect(trace.rect_before_transform, width, height)
            if not rect.is_valid(width, height):
                return self._lost(tracking)
        trace.rect = rect
        segmentation = self._options.enable_segmentation
        result = self._landmarks.run(image, rect, segmentation=segmentation)
        trace.result = result
        if result is None:
            return self._lost(tracking)
        landmarks, world = result.landmarks, result.world
        if tracking and timestamp is not None:
            landmarks, world = self._tracker.update(landmarks, world, _nanoseconds(timestamp), width, height)
        if segmentation:
            self._segment(result, width, height, smooth=tracking)
        if self._person is None or not tracking:
            self._person = self._ids.take()
        return [self._pose(result.presence, landmarks, world, width, height, person=self._person)]

    def reset(self) -> None:
        self._tracker.reset()
        self._mask_smoother.reset()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for session in reversed(self._sessions):
            session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def seed(
        self, center: tuple[float, float], scale_point: tuple[float, float], width: int, height: int
    ) -> bool:
        """Track a person found by another detector (posed.blazepose.multi), as a new person.

        `center` and `scale_point` are alignment points in pixels of the (width, height)
        frames to come, as the BlazePose detector gives them; the next timestamped
        estimate() crops there instead of detecting. False when that crop is degenerate.
        """
        self.reset()
        self._person = None
        self._tracked_size = (width, height)
        rect = enlarged_rect(
            alignment_rect(
                (center[0] / width, center[1] / height),
                (scale_point[0] / width, scale_point[1] / height),
                width,
                height,
            ),
            width,
            height,
        )
        self._tracker.rect = rect if rect.is_valid(width, height) else None
        return self._tracker.rect is not None

    @property
    def tracked_roi(self) -> Roi | None:
        """The crop the next tracked frame will use (in pixels), if a person is being tracked."""
        rect = self._tracker.rect
        if rect is None or self._tracked_size is None:
            return None
        return rect.in_pixels(*self._tracked_size)

    def _lost(self, tracking: bool) -> list[Pose]:
        if tracking:
            self.reset()
        self.last_segmentation = None
        return []

    def _segment(self, result: LandmarkResult, width: int, height: int, *, smooth: bool) -> None:
        assert result.segmentation_logits is not None
        mask = segmentation_to_image(result.segmentation_logits, self._landmarks.matrix, width, height)
        self.last_segmentation = self._mask_smoother.apply(mask) if smooth else mask

    def _pose(
        self, presence: float, landmarks: Floats, world: Floats, width: int, height: int, *, person: int
    ) -> Pose:
        keypoints = np.empty((NUM_BODY, 3), dtype=np.float32)
        keypoints[:, 0] = landmarks[:NUM_BODY, 0] * np.float32(width)
        keypoints[:, 1] = landmarks[:NUM_BODY, 1] * np.float32(height)
        keypoints[:, 2] = landmarks[:NUM_BODY, 3]
        return Pose(
            score=presence,
            keypoints=keypoints,
            names=BLAZEPOSE_33,
            box=box_of(keypoints, width, height),
            z=landmarks[:NUM_BODY, 2] * np.float32(width),
            keypoints3d=world.astype(np.float32),
            id=person,
        )


@dataclass(slots=True)
class Trace:
    """What the last `estimate` computed on the way, MediaPipe's internal streams (for conformance tests)."""

    detection: Detection | None = None  # None when the tracked crop was used, or nobody was found
    rect_before_transform: NormRect | None = None
    rect: NormRect | None = None
    result: LandmarkResult | None = None


def _nanoseconds(timestamp: float) -> int:
    """Seconds -> the filters' nanoseconds, through MediaPipe's whole microseconds."""
    if not math.isfinite(timestamp):
        raise ValueError(f"timestamp must be a finite number of seconds, got {timestamp}")
    return round(timestamp * 1e6) * 1000
