"""Person detectors for several-person BlazePose: each person as BlazePose alignment points.

A detector returns `Seed`s: the mid-hip centre and a scale point, in image
pixels, from which the single-person pipeline builds its crop, as it does from
its own detector's keypoints 0 and 1.

- `BlazePoseSeeds` is MediaPipe's person detector with every weighted-NMS
  cluster kept, not only the first (the single-person graph drops the rest).
- `PoseNetSeeds` builds the points from PoseNet multi-person keypoints: the hip
  midpoint, and a point towards the shoulder midpoint at the radius of the
  circle around the whole body, as BlazePose's detector defines them. The
  radius is RADIUS_PER_REACH times the farthest confident keypoint from the
  hips: that ratio is 1.15 (1.06-1.22) between BlazePose's own crop and its
  COCO-named landmarks over pose_squats.mp4, so PoseNet's keypoints give the
  crop BlazePose itself would track.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

import cv2
import numpy as np
import numpy.typing as npt

from posed.backend import InferenceSession, check_outputs
from posed.blazepose.anchors import DETECTOR_INPUT_SIZE, ssd_anchor_centres
from posed.blazepose.detector import NMS_IOU_THRESHOLD, NUM_ANCHORS, NUM_COORDS, NUM_KEYPOINTS
from posed.errors import ModelError
from posed.types import ImageArray, Pose

Array = npt.NDArray[np.float64]
SCORE_CLIP = 100.0
RADIUS_PER_REACH = 1.15
MIN_KEYPOINT_SCORE = 0.3  # PoseNet keypoints below this are guesses
LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP = 5, 6, 11, 12


@dataclass(frozen=True, slots=True)
class Seed:
    """One person to track: detector score and alignment points, image pixels."""

    score: float
    center: tuple[float, float]
    scale_point: tuple[float, float]


class PeopleEstimator(Protocol):
    """What PoseNetSeeds needs of a PoseNet estimator (posed.estimator opens it: no import upwards)."""

    @property
    def devices(self) -> dict[str, str]: ...

    def estimate(self, image: ImageArray, timestamp: float | None = None) -> list[Pose]: ...

    def close(self) -> None: ...


class SeedDetector(Protocol):
    @property
    def devices(self) -> dict[str, str]:
        """Devices of sessions the seed detector has besides the BlazePose pair."""
        ...

    @property
    def one_at_a_time(self) -> bool:
        """True when the detector is best run again with the people found so far blanked out."""
        ...

    def find(self, image: ImageArray, limit: int) -> list[Seed]:
        """Up to `limit` people in `image` (RGB), best first."""
        ...

    def close(self) -> None: ...


class BlazePoseSeeds:
    """pose_detection.tflite on the letterboxed image, every NMS cluster decoded. Does not own the session."""

    def __init__(self, session: InferenceSession, min_score: float) -> None:
        self._session = session
        shapes = [spec.shape for spec in session.outputs]
        try:
            self._boxes = shapes.index((1, NUM_ANCHORS, NUM_COORDS))
            self._scores = shapes.index((1, NUM_ANCHORS, 1))
        except ValueError:
            raise ModelError(f"not a BlazePose detector: outputs {shapes}") from None
        self._min_score = min_score
        self._anchors = ssd_anchor_centres().astype(np.float64)
        size = DETECTOR_INPUT_SIZE
        self._pixels = np.zeros((size, size, 3), dtype=np.uint8)
        self._input = np.zeros((1, size, size, 3), dtype=np.float32)

    @property
    def devices(self) -> dict[str, str]:
        return {}

    @property
    def one_at_a_time(self) -> bool:
        return True

    def find(self, image: ImageArray, limit: int) -> list[Seed]:
        height, width = image.shape[:2]
        side = float(max(width, height))
        left, top = (width - side) / 2.0, (height - side) / 2.0
        scale = side / DETECTOR_INPUT_SIZE
        # Input pixel -> image pixel, the same letterbox as MediaPipe's (zero border, centred).
        matrix = np.array([[scale, 0.0, left], [0.0, scale, top]])
        cv2.warpAffine(
            image,
            matrix,
            (DETECTOR_INPUT_SIZE, DETECTOR_INPUT_SIZE),
            dst=self._pixels,
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
        )
        np.multiply(self._pixels, np.float32(2.0 / 255.0), out=self._input[0])
        np.subtract(self._input, np.float32(1.0), out=self._input)
        outputs = self._session.run(self._input)
        check_outputs("the BlazePose detector", outputs)
        raw = np.asarray(outputs[self._boxes], dtype=np.float64).reshape(NUM_ANCHORS, NUM_COORDS)
        logits = np.asarray(outputs[self._scores], dtype=np.float64).reshape(NUM_ANCHORS)
        seeds = []
        for score, points in weighted_nms(raw, logits, self._anchors, self._min_score, limit):
            pixels = points * side + (left, top)
            seeds.append(Seed(score, (pixels[0, 0], pixels[0, 1]), (pixels[1, 0], pixels[1, 1])))
        return seeds

    def close(self) -> None:
        """The session belongs to the estimator."""


def weighted_nms(
    raw: Array, logits: Array, anchors: Array, min_score: float, limit: int
) -> list[tuple[float, Array]]:
    """Up to `limit` clusters of MediaPipe's WEIGHTED NMS: (best score, (4, 2) keypoints) each.

    Keypoints are normalised to the detector input. The best remaining box absorbs every
    remaining box whose IoU with it exceeds the threshold, itself included; its keypoints
    are their score-weighted mean.
    """
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -SCORE_CLIP, SCORE_CLIP)))
    keep = np.flatnonzero(scores >= min_score)
    keep = keep[np.argsort(-scores[keep], kind="stable")]
    values = raw[keep] / DETECTOR_INPUT_SIZE
    centres = anchors[keep]
    cx, cy = values[:, 0] + centres[:, 0], values[:, 1] + centres[:, 1]
    half_w, half_h = values[:, 2] / 2.0, values[:, 3] / 2.0
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    points = values[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) + centres[:, None, :]
    weights = scores[keep]
    found: list[tuple[float, Array]] = []
    remaining = np.arange(keep.size)
    while remaining.size and len(found) < limit:
        iou = _iou(boxes[remaining[0]], boxes[remaining])
        members = remaining[iou > NMS_IOU_THRESHOLD]
        members = members if members.size else remaining[:1]
        w = weights[members]
        found.append((float(weights[remaining[0]]), np.tensordot(w, points[members], axes=1) / w.sum()))
        remaining = remaining[~np.isin(remaining, members)]
    return found


def _iou(box: Array, boxes: Array) -> Array:
    ix0, iy0 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    ix1, iy1 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix1 - ix0, 0.0, None) * np.clip(iy1 - iy0, 0.0, None)
    union = (
        (box[2] - box[0]) * (box[3] - box[1])
        + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        - inter
    )
    iou: Array = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return iou


class PoseNetSeeds:
    """Alignment points from PoseNet multi-person poses. Owns the PoseNet estimator."""

    def __init__(self, posenet: PeopleEstimator) -> None:
        self._posenet = posenet

    @property
    def devices(self) -> dict[str, str]:
        return {f"people:{role}": device for role, device in self._posenet.devices.items()}

    @property
    def one_at_a_time(self) -> bool:
        return False

    def find(self, image: ImageArray, limit: int) -> list[Seed]:
        seeds = []
        for pose in self._posenet.estimate(image, None):  # each frame on its own: the lanes track
            seed = seed_from_coco(pose.keypoints, pose.score)
            if seed is not None:
                seeds.append(seed)
            if len(seeds) == limit:
                break
        return seeds

    def close(self) -> None:
        self._posenet.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def seed_from_coco(keypoints: npt.NDArray[np.floating], score: float) -> Seed | None:
    """BlazePose's alignment points from 17 COCO keypoints (x, y, score); None without hips and shoulders."""
    points = np.asarray(keypoints, dtype=np.float64)
    confident = points[:, 2] >= MIN_KEYPOINT_SCORE
    if not confident[[LEFT_HIP, RIGHT_HIP]].any() or not confident[[LEFT_SHOULDER, RIGHT_SHOULDER]].any():
        return None
    hip = _mean_of(points, (LEFT_HIP, RIGHT_HIP), confident)
    shoulder = _mean_of(points, (LEFT_SHOULDER, RIGHT_SHOULDER), confident)
    up = shoulder - hip
    length = float(np.hypot(*up))
    if length < 1.0:
        return None
    reach = float(np.hypot(*(points[confident, :2] - hip).T).max())
    scale_point = hip + up / length * RADIUS_PER_REACH * reach
    return Seed(score, (float(hip[0]), float(hip[1])), (float(scale_point[0]), float(scale_point[1])))


def _mean_of(points: Array, pair: tuple[int, int], confident: npt.NDArray[np.bool_]) -> Array:
    chosen = [i for i in pair if confident[i]]
    mean: Array = points[chosen, :2].mean(axis=0)
    return mean
