"""MoveNet on any backend, behind the PoseEstimator contract (posed.estimator).

Single pose (Lightning, Thunder), as tfjs pose-detection runs it on video: each
frame is cropped around the person of the previous frame (posed.movenet.crop),
keypoints are smoothed (posed.movenet.smoothing), and a pose scoring below
`min_pose_score` is dropped and the crop starts over. The one person keeps their
id while found. A still image (no timestamp) is seen whole, padded square, then
once more cropped around the person found, without smoothing.

MultiPose: the frame is resized so its long side is `multipose_max_dimension`
and padded to multiples of 32; the session is sized to that input once per
frame size. Poses are tracked (posed.tracking, with MoveNet's own boxes) and
each person's keypoints smoothed by a filter of its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np

from posed.backend import ROLE_MAIN, Backend, BackendConfig, InferenceSession, open_resized_session
from posed.errors import ClosedError, ModelError
from posed.keypoints import COCO_17
from posed.models.resolve import ResolvedModel
from posed.movenet.config import MoveNetOptions
from posed.movenet.crop import Region, RegionFilter, initial_region, next_region
from posed.movenet.decode import DecodedPoses, multi_pose, single_pose
from posed.movenet.layout import MoveNetLayout, detect_layout
from posed.movenet.resample import Letterbox, crop_and_resize, multipose_size, resize_and_pad
from posed.movenet.smoothing import KeypointSmoother
from posed.tflite_file import read_model_info
from posed.tracking.ids import RUN_IDS, IdSource
from posed.tracking.tracker import PoseTracker
from posed.types import ImageArray, Pose, box_of

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Opener:
    """What opening the model again at another input size needs (MultiPose)."""

    backend: Backend
    config: BackendConfig
    path: Path


class MoveNetEstimator:
    """Owns one inference session; closes it on close() or when the context ends."""

    def __init__(
        self,
        name: str,
        session: InferenceSession,
        layout: MoveNetLayout,
        options: MoveNetOptions,
        *,
        opener: _Opener | None = None,
        ids: IdSource = RUN_IDS,
    ) -> None:
        self._name = name
        self._session: InferenceSession | None = session
        self.layout = layout
        self.options = options
        self._opener = opener
        self._session_size = (session.inputs[0].shape[1], session.inputs[0].shape[2])
        self._tracker = PoseTracker(options.tracker, ids)
        self._frame_size: tuple[int, int] | None = None  # (width, height) the state belongs to
        # single pose
        self._region: Region | None = None
        self._region_filter = RegionFilter()
        self._smoother = KeypointSmoother()
        self._person: int | None = None
        # MultiPose: one smoother per tracked person
        self._smoothers: dict[int, KeypointSmoother] = {}

    @classmethod
    def open(
        cls,
        resolved: ResolvedModel,
        options: MoveNetOptions,
        backend: Backend,
        backend_config: BackendConfig,
        *,
        ids: IdSource = RUN_IDS,
    ) -> MoveNetEstimator:
        path = resolved.files["main"]
        info = read_model_info(path)
        try:
            layout = detect_layout(info.inputs, info.outputs)
        except ModelError as exc:
            raise ModelError(f"{path}: {exc}") from exc
        opener = _Opener(backend, backend_config, path)
        if layout.kind == "multi":
            # The first frame sizes it; until then the file's own (or tfjs's default square) size.
            side = options.multipose_max_dimension
            shape = None if not layout.dynamic_input else (1, side, side, 3)
            session = open_resized_session(backend, path, backend_config, shape)
        else:
            session = backend.open_session(path, backend_config, role=ROLE_MAIN)
        try:
            estimator = cls(resolved.name, session, layout, options, opener=opener, ids=ids)
        except BaseException:
            session.close()
            raise
        log.debug("MoveNet %s: %s, on %s", resolved.name, layout.describe(), session.device)
        return estimator

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def keypoint_names(self) -> tuple[str, ...]:
        return COCO_17

    @property
    def devices(self) -> dict[str, str]:
        return {ROLE_MAIN: self._live_session().device}

    @property
    def session(self) -> InferenceSession:
        """The session this estimator owns (benchmarks time it alone); do not close it."""
        return self._live_session()

    def estimate(self, image: ImageArray, timestamp: float | None = None) -> list[Pose]:
        """Poses in pixels of `image` (RGB, H x W x 3 uint8), each with its person id."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image H x W x 3, got {image.dtype} {image.shape}")
        height, width = int(image.shape[0]), int(image.shape[1])
        if self._frame_size != (width, height):
            self.reset()  # another camera size: positions and crops say nothing about the new frames
            self._frame_size = (width, height)
        if self.layout.kind == "multi":
            decoded = self._multi(image)
            ids = self._identify_multi(decoded, timestamp)
            return self._to_image(decoded, ids, width, height, boxes_from_model=True)
        if timestamp is None:
            decoded = self._still_single(image)
            ids = self._tracker.fresh_ids(len(decoded))
        else:
            decoded = self._tracked_single(image, timestamp)
            ids = self._identify_single(decoded)
        return self._to_image(decoded, ids, width, height, boxes_from_model=False)

    # single pose

    def infer_single(self, image: ImageArray, region: Region) -> DecodedPoses:
        """One run on the crop `region` of `image`: the pose, normalised to the frame, unfiltered."""
        size = (self.layout.input_height, self.layout.input_width)
        tensor = crop_and_resize(image, region, size, self.layout.input_dtype)
        (output,) = self._live_session().run(tensor)
        return single_pose(output, region)

    def _tracked_single(self, image: ImageArray, timestamp: float) -> DecodedPoses:
        height, width = int(image.shape[0]), int(image.shape[1])
        if not self.options.smart_cropping:
            self._region = initial_region(width, height, first_frame=False)
        elif self._region is None:
            self._region = initial_region(width, height, first_frame=True)
        decoded = self.infer_single(image, self._region)
        if decoded.scores[0] < self.options.min_pose_score:
            self._forget_single()
            return _no_poses()
        keypoints = decoded.keypoints[0]
        if self.options.enable_smoothing:
            keypoints = self._smoother.apply(keypoints, _microseconds(timestamp))
        if self.options.smart_cropping:
            self._region = self._region_filter.apply(next_region(keypoints, width, height))
        return DecodedPoses(keypoints[None], decoded.scores, decoded.boxes)

    def _still_single(self, image: ImageArray) -> DecodedPoses:
        height, width = int(image.shape[0]), int(image.shape[1])
        whole = initial_region(width, height, first_frame=False)
        decoded = self.infer_single(image, whole)
        if decoded.scores[0] < self.options.min_pose_score:
            return _no_poses()
        if not self.options.smart_cropping:
            return decoded
        region = next_region(decoded.keypoints[0], width, height)
        if np.allclose(region, whole):
            return decoded
        closer = self.infer_single(image, region)
        return closer if closer.scores[0] >= self.options.min_pose_score else decoded

    def _identify_single(self, decoded: DecodedPoses) -> list[int]:
        if not len(decoded):
            return []
        if self._person is None:
            (self._person,) = self._tracker.fresh_ids(1)
        return [self._person]

    def _forget_single(self) -> None:
        self._region = None
        self._region_filter.reset()
        self._smoother.reset()
        self._person = None

    # MultiPose

    def letterbox(self, height: int, width: int) -> Letterbox:
        """The input size a frame of `height` x `width` is resized and padded to."""
        if not self.layout.dynamic_input:
            return _fixed_letterbox(height, width, self.layout)
        return multipose_size(height, width, self.options.multipose_max_dimension)

    def infer_multi(self, image: ImageArray) -> DecodedPoses:
        """One MultiPose run: the people scoring at least `min_pose_score`, normalised to the frame."""
        box = self.letterbox(int(image.shape[0]), int(image.shape[1]))
        self._fit(box.padded)
        (output,) = self._live_session().run(resize_and_pad(image, box, self.layout.input_dtype))
        return multi_pose(output, box.scale, self.options.min_pose_score)

    def _multi(self, image: ImageArray) -> DecodedPoses:
        return self.infer_multi(image)

    def _fit(self, size: tuple[int, int]) -> None:
        """Size the session's input to (height, width); runs once per frame size."""
        if size == self._session_size:
            return
        opener = self._opener
        if opener is None:
            raise ModelError(f"{self._name}: cannot resize the model input to {size[0]}x{size[1]}")
        old = self._live_session()
        # Opened before the old one closes: the estimator never stands without a session
        # (the daemon reads `devices` from other threads), and a failed open keeps the old one.
        self._session = open_resized_session(opener.backend, opener.path, opener.config, (1, *size, 3))
        self._session_size = size
        old.close()
        log.info("MoveNet %s: input %dx%d", self._name, *size)

    def _identify_multi(self, decoded: DecodedPoses, timestamp: float | None) -> list[int]:
        if timestamp is None:
            return self._tracker.fresh_ids(len(decoded))
        ids = self._tracker.update(decoded.keypoints, decoded.scores, timestamp, boxes=decoded.boxes)
        if self.options.enable_smoothing:
            micro = _microseconds(timestamp)
            for row, person in enumerate(ids):
                smoother = self._smoothers.setdefault(person, KeypointSmoother())
                decoded.keypoints[row] = smoother.apply(decoded.keypoints[row], micro)
            tracked = set(self._tracker.track_ids)
            for person in [p for p in self._smoothers if p not in tracked]:
                del self._smoothers[person]
        return ids

    def _to_image(
        self, decoded: DecodedPoses, ids: list[int], width: int, height: int, *, boxes_from_model: bool
    ) -> list[Pose]:
        scale = np.array([width, height, 1.0])
        poses: list[Pose] = []
        for row, person in enumerate(ids):
            keypoints = (decoded.keypoints[row] * scale).astype(np.float32)
            if boxes_from_model:
                x0, y0, x1, y1 = decoded.boxes[row] * np.array([width, height, width, height])
            if self.options.flip_horizontal:
                keypoints[:, 0] = (width - 1) - keypoints[:, 0]
                if boxes_from_model:
                    x0, x1 = (width - 1) - x1, (width - 1) - x0
            if boxes_from_model:
                corners = np.array([[x0, y0], [x1, y1]], dtype=np.float32)
                box = box_of(corners, width, height)
            else:
                box = box_of(keypoints, width, height)
            score = float(decoded.scores[row])
            poses.append(Pose(score=score, keypoints=keypoints, names=COCO_17, box=box, id=person))
        return poses

    def reset(self) -> None:
        """Forget tracking state (a camera reconnect); people found afterwards get new ids."""
        self._forget_single()
        self._tracker.reset()
        self._smoothers.clear()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _live_session(self) -> InferenceSession:
        if self._session is None:
            raise ClosedError(f"MoveNet estimator for {self._name} is closed")
        return self._session

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _no_poses() -> DecodedPoses:
    return DecodedPoses(np.zeros((0, 17, 3)), np.zeros(0), np.zeros((0, 4)))


def _microseconds(timestamp: float) -> int:
    """tfjs's filters count whole microseconds; rounded, so 0.2 s is 200000, not 199999."""
    return round(timestamp * 1e6)


def _fixed_letterbox(height: int, width: int, layout: MoveNetLayout) -> Letterbox:
    """A MultiPose file exported at a fixed size: fit the frame inside it, padded bottom or right."""
    in_h, in_w = layout.input_height, layout.input_width
    factor = min(in_h / height, in_w / width)
    resized = (max(1, min(in_h, round(height * factor))), max(1, min(in_w, round(width * factor))))
    return Letterbox(resized=resized, padded=(in_h, in_w))
