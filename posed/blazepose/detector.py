"""The BlazePose person detector: letterboxed input, SSD decoding and weighted NMS.

Follows MediaPipe's pose_detection_cpu graph. The detector finds a person's
alignment points: keypoint 0 is the mid-hip centre and keypoint 1 encodes the
full-body size and rotation (2 and 3 do the same for the upper body).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from posed.backend import InferenceSession
from posed.blazepose.anchors import DETECTOR_INPUT_SIZE, ssd_anchor_centres
from posed.blazepose.roi import warp_crop
from posed.errors import ModelError
from posed.types import FloatArray, ImageArray

NUM_ANCHORS = 2254
NUM_COORDS = 12  # box (x_center, y_center, w, h) then 4 keypoints (x, y)
NUM_KEYPOINTS = 4
SCORE_CLIP = 100.0
NMS_IOU_THRESHOLD = 0.3


@dataclass(frozen=True, slots=True)
class Detection:
    """One person found by the detector, in image pixels."""

    score: float
    box: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax
    keypoints: FloatArray  # (4, 2)


class PoseDetector:
    """Runs pose_detection.tflite on a whole image. Does not own the session."""

    def __init__(self, session: InferenceSession, min_score: float) -> None:
        self._session = session
        self._boxes_index, self._scores_index = _check_detector(session)
        self._min_score = min_score
        size = DETECTOR_INPUT_SIZE
        self._anchors = ssd_anchor_centres()
        self._pixels = np.zeros((size, size, 3), dtype=np.uint8)
        self._input = np.zeros((1, size, size, 3), dtype=np.float32)
        self._matrix = np.zeros((2, 3), dtype=np.float64)

    def detect(self, image: ImageArray) -> Detection | None:
        """The best person in `image` (RGB), or None when nobody scores above the threshold."""
        height, width = image.shape[:2]
        side, left, top = self._letterbox(width, height)
        warp_crop(image, self._matrix, self._pixels, border=cv2.BORDER_CONSTANT)
        # [0, 255] -> [-1, 1], in place, as MediaPipe converts after the warp.
        np.multiply(self._pixels, np.float32(2.0 / 255.0), out=self._input[0])
        np.subtract(self._input, np.float32(1.0), out=self._input)
        outputs = self._session.run(self._input)
        raw = np.asarray(outputs[self._boxes_index]).reshape(NUM_ANCHORS, NUM_COORDS)
        logits = np.asarray(outputs[self._scores_index]).reshape(NUM_ANCHORS)
        found = decode_best(raw, logits, self._anchors, self._min_score)
        if found is None:
            return None
        score, box, keypoints = found
        # Undo the letterbox: tensor-normalised -> image pixels.
        keypoints = keypoints * side
        keypoints[:, 0] += left
        keypoints[:, 1] += top
        x0, y0, x1, y1 = (float(v) * side for v in box)
        return Detection(score, (x0 + left, y0 + top, x1 + left, y1 + top), keypoints)

    def _letterbox(self, width: int, height: int) -> tuple[float, float, float]:
        """Map the 224x224 input onto the image padded to a centred square (zero border)."""
        side = float(max(width, height))
        left = (width - side) / 2.0
        top = (height - side) / 2.0
        scale = side / DETECTOR_INPUT_SIZE
        m = self._matrix
        m[0, 0], m[0, 1], m[0, 2] = scale, 0.0, left
        m[1, 0], m[1, 1], m[1, 2] = 0.0, scale, top
        return side, left, top


def decode_best(
    raw: npt.NDArray[np.generic],
    logits: npt.NDArray[np.generic],
    anchors: FloatArray,
    min_score: float,
) -> tuple[float, tuple[float, float, float, float], FloatArray] | None:
    """Decode the anchors scoring at least `min_score` and return the first weighted-NMS cluster.

    Box and keypoints are normalised to the detector input. Only the best cluster
    is computed because BlazePose tracks a single person: MediaPipe's graph keeps
    the first detection after NMS and drops the rest.
    """
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -SCORE_CLIP, SCORE_CLIP)))
    keep = np.flatnonzero(scores >= min_score)
    if keep.size == 0:
        return None
    scores = scores[keep]
    values = raw[keep].astype(np.float64) / DETECTOR_INPUT_SIZE
    centres = anchors[keep].astype(np.float64)
    # reverse_output_order: x before y; anchors are 1 x 1, so no size factor.
    cx = values[:, 0] + centres[:, 0]
    cy = values[:, 1] + centres[:, 1]
    half_w = values[:, 2] / 2.0
    half_h = values[:, 3] / 2.0
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    keypoints = values[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) + centres[:, None, :]
    members, weights = weighted_nms_first(boxes, scores, NMS_IOU_THRESHOLD)
    total = float(weights.sum())
    box = (weights @ boxes[members]) / total
    points = np.tensordot(weights, keypoints[members], axes=1) / total
    top = float(scores[members[0]])
    return top, (float(box[0]), float(box[1]), float(box[2]), float(box[3])), points.astype(np.float32)


def weighted_nms_first(
    boxes: npt.NDArray[np.float64], scores: npt.NDArray[np.float64], threshold: float
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Indices and scores of the boxes merged into the best one by MediaPipe's WEIGHTED NMS.

    The best box absorbs every box whose IoU with it exceeds `threshold` (itself
    included); the merged location is their score-weighted mean, and the merged
    score stays the best box's score. The best index comes first.
    """
    best = int(np.argmax(scores))
    iou = box_iou(boxes[best], boxes)
    iou[best] = 1.0
    members = np.flatnonzero(iou > threshold)
    members = np.concatenate(([best], members[members != best]))
    return members, scores[members]


def box_iou(box: npt.NDArray[np.float64], boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """IoU of one (xmin, ymin, xmax, ymax) box with each of `boxes`; 0 when either is empty."""
    ix0 = np.maximum(box[0], boxes[:, 0])
    iy0 = np.maximum(box[1], boxes[:, 1])
    ix1 = np.minimum(box[2], boxes[:, 2])
    iy1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix1 - ix0, 0.0, None) * np.clip(iy1 - iy0, 0.0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    iou: npt.NDArray[np.float64] = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return iou


def _check_detector(session: InferenceSession) -> tuple[int, int]:
    """Output indices of the box regressors and the score logits; ModelError if not a pose detector."""
    size = DETECTOR_INPUT_SIZE
    inputs = session.inputs
    if len(inputs) != 1 or inputs[0].shape != (1, size, size, 3) or inputs[0].dtype != "float32":
        raise ModelError(
            f"not a BlazePose detector: expected one float32 input (1, {size}, {size}, 3), "
            f"got {[(spec.shape, spec.dtype) for spec in inputs]}"
        )
    shapes = [spec.shape for spec in session.outputs]
    try:
        return shapes.index((1, NUM_ANCHORS, NUM_COORDS)), shapes.index((1, NUM_ANCHORS, 1))
    except ValueError:
        raise ModelError(
            f"not a BlazePose detector: expected outputs (1, {NUM_ANCHORS}, {NUM_COORDS}) and "
            f"(1, {NUM_ANCHORS}, 1), got {shapes}"
        ) from None
