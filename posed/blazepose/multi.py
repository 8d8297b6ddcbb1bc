"""BlazePose for several people: one single-person pipeline ("lane") per tracked person.

Each lane is a BlazePoseEstimator sharing the one landmark session: its crop,
smoothing and person id work exactly as for one person. This module adds what
MediaPipe Tasks' num_poses adds around them:
- a detector that returns up to `num_poses` people (BlazePose's own, every NMS
  cluster; or PoseNet, posed.blazepose.multi_detect), run only while fewer than
  `num_poses` people are tracked, and then at most every `detection_interval`
  seconds unless nobody is tracked;
- a new detection overlapping a tracked crop is that person, not a new one;
- when two tracked crops come to overlap more than `max_overlap`, the person
  found later is dropped, so nobody is counted twice.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

import numpy as np

from posed.backend import InferenceSession
from posed.blazepose.estimator import BlazePoseEstimator
from posed.blazepose.mirror import Mirror
from posed.blazepose.multi_detect import SeedDetector
from posed.config.schema import BlazePoseOptions
from posed.errors import ClosedError
from posed.keypoints import BLAZEPOSE_33
from posed.tracking.ids import RUN_IDS, IdSource
from posed.types import FloatArray, ImageArray, Pose

Box = tuple[float, float, float, float]  # x, y, w, h in pixels, as Pose.box
STILL = 0.0  # a still image runs through a fresh lane as its first (unsmoothed) tracked frame


class MultiBlazePoseEstimator:
    """Owns the sessions and the seed detector; the lanes only borrow them."""

    def __init__(
        self,
        name: str,
        detector: InferenceSession,
        landmarks: InferenceSession,
        seeds: SeedDetector,
        options: BlazePoseOptions,
        *,
        ids: IdSource = RUN_IDS,
    ) -> None:
        self._name = name
        self._sessions = (detector, landmarks)
        self._seeds = seeds
        self._options = options
        self._devices = {"detector": detector.device, "landmarks": landmarks.device} | seeds.devices
        # Lanes never mirror: this estimator mirrors once, so detector and crops agree.
        lane_options = options.model_copy(update={"flip_horizontal": False, "static_image_mode": False})
        self._lanes = [
            BlazePoseEstimator(name, detector, landmarks, lane_options, ids=ids)
            for _ in range(options.num_poses)
        ]
        self._last_detection: float | None = None
        self._boxes: list[Box | None] = [None] * len(self._lanes)  # each lane's last pose box
        self._mirrored = Mirror()
        self._closed = False
        self.detector_runs = 0
        """How often the person detector ran, for telemetry and tests of the bounded rate."""
        self.last_segmentation: FloatArray | None = None
        """With `enable_segmentation`: everyone's mask in one, (H, W) float32 in [0, 1]."""

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def keypoint_names(self) -> tuple[str, ...]:
        return BLAZEPOSE_33

    @property
    def devices(self) -> dict[str, str]:
        return dict(self._devices)

    @property
    def tracked(self) -> int:
        """People tracked into the next frame."""
        return sum(lane.tracked_roi is not None for lane in self._lanes)

    def estimate(self, image: ImageArray, timestamp: float | None = None) -> list[Pose]:
        if self._closed:
            raise ClosedError(f"BlazePose estimator {self._name} is closed")
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}")
        if self._options.flip_horizontal:
            image = self._mirrored(image)
        still = timestamp is None or self._options.static_image_mode
        stamp = STILL if still or timestamp is None else timestamp
        if still or (self._last_detection is not None and stamp < self._last_detection):
            self.reset()  # a still image stands alone; a clock going back means the recording restarted
        results: dict[int, list[Pose]] = {}
        if still or self._detection_due(stamp):
            self._detect(image, stamp, results)
        for index, lane in enumerate(self._lanes):
            if index not in results and lane.tracked_roi is not None:
                results[index] = lane.estimate(image, stamp)
        poses = self._drop_doubles(results)
        self._collect_segmentation([self._lanes[i] for i in results])
        if still:
            self.reset()
        return poses

    def reset(self) -> None:
        self._last_detection = None
        self._boxes = [None] * len(self._lanes)
        for lane in self._lanes:
            lane.reset()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._seeds.close()
        for session in reversed(self._sessions):
            session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _detection_due(self, timestamp: float) -> bool:
        """While fewer than num_poses are tracked: every frame with nobody, else at the bounded rate."""
        tracked = self.tracked
        if tracked == len(self._lanes):
            return False
        last = self._last_detection
        return tracked == 0 or last is None or timestamp - last >= self._options.detection_interval

    def _detect(self, image: ImageArray, timestamp: float, results: dict[int, list[Pose]]) -> None:
        """Seed free lanes with people not tracked yet, running each new one at once.

        A candidate whose hip centre lies in the box of someone already tracked, or whose
        landmarks land on them, is that person and is dropped. A detector that sees one
        person per run (BlazePose's: two people close together come out as one box between
        them) runs again with everyone found so far blanked out, until it finds nobody new
        or every lane is taken.
        """
        self._last_detection = timestamp
        height, width = image.shape[:2]
        free = [i for i, lane in enumerate(self._lanes) if lane.tracked_roi is None]
        people = [box for i, box in enumerate(self._boxes) if box is not None and i not in free]
        repeat = self._seeds.one_at_a_time
        while free:
            source = _blanked(image, people) if repeat and people else image
            self.detector_runs += 1
            new = False
            for seed in self._seeds.find(source, 1 if repeat else len(free)):
                if _inside(seed.center, people):
                    continue  # hips on someone tracked: that person (checked before a lane spends an id)
                lane = self._lanes[free[0]]
                if not lane.seed(seed.center, seed.scale_point, width, height):
                    continue
                poses = lane.estimate(image, timestamp)
                if not poses or _overlaps(poses[0].box, people, self._options.max_overlap):
                    lane.reset()  # nobody there, or someone already tracked: the lane stays free
                    continue
                results[free.pop(0)] = poses
                people += [pose.box for pose in poses]
                new = True
                if not free:
                    break
            if not repeat or not new:
                break

    def _drop_doubles(self, results: dict[int, list[Pose]]) -> list[Pose]:
        """Poses in id order; of two whose boxes overlap too much, the later-found one goes."""
        found = [(index, pose) for index, poses in results.items() for pose in poses]
        kept: list[Pose] = []
        for index, pose in sorted(found, key=lambda item: item[1].id or 0):
            if _overlaps(pose.box, [p.box for p in kept], self._options.max_overlap):
                self._lanes[index].reset()
                self._boxes[index] = None
                continue
            kept.append(pose)
            self._boxes[index] = pose.box
        for index in set(range(len(self._lanes))) - {i for i, _ in found}:
            self._boxes[index] = None
        return kept

    def _collect_segmentation(self, lanes: list[BlazePoseEstimator]) -> None:
        masks = [lane.last_segmentation for lane in lanes if lane.last_segmentation is not None]
        self.last_segmentation = np.maximum.reduce(masks) if masks else None


def _blanked(image: ImageArray, boxes: list[Box]) -> ImageArray:
    """A copy of `image` with each (x, y, w, h) box filled with black."""
    out = image.copy()
    for x, y, w, h in boxes:
        x0, y0 = max(int(x), 0), max(int(y), 0)
        out[y0 : int(np.ceil(y + h)), x0 : int(np.ceil(x + w))] = 0
    return out


def _inside(point: tuple[float, float], boxes: list[Box]) -> bool:
    x, y = point
    return any(bx <= x <= bx + bw and by <= y <= by + bh for bx, by, bw, bh in boxes)


def _overlaps(box: Box, others: list[Box], limit: float) -> bool:
    """True when `box` overlaps one of `others` by more than `limit` (IoU)."""
    if not others:
        return False
    x, y, w, h = box
    many = np.asarray(others, dtype=np.float64)
    ix = np.clip(np.minimum(x + w, many[:, 0] + many[:, 2]) - np.maximum(x, many[:, 0]), 0.0, None)
    iy = np.clip(np.minimum(y + h, many[:, 1] + many[:, 3]) - np.maximum(y, many[:, 1]), 0.0, None)
    inter = ix * iy
    union = w * h + many[:, 2] * many[:, 3] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return bool((iou > limit).any())
