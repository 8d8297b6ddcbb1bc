"""The BlazePose person detector: letterboxed input, SSD decoding and weighted NMS.

Follows MediaPipe 0.10.14's pose_detection_cpu graph, in its float32
arithmetic. The detector finds a person's alignment points: keypoint 0 is the
mid-hip centre and keypoint 1 encodes the full-body size and rotation (2 and 3
do the same for the upper body).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from posed.backend import InferenceSession, check_outputs
from posed.blazepose.anchors import DETECTOR_INPUT_SIZE, ssd_anchor_centres
from posed.blazepose.cmath import sigmoid
from posed.blazepose.roi import crop_geometry, remove_letterbox
from posed.blazepose.warp import PerspectiveSampler, crop_to_image_matrix, rect_corners
from posed.errors import ModelError
from posed.types import ImageArray

NUM_ANCHORS = 2254
NUM_COORDS = 12  # box (x_center, y_center, w, h) then 4 keypoints (x, y)
NUM_KEYPOINTS = 4
SCORE_CLIP = np.float32(100.0)
NMS_IOU_THRESHOLD = np.float32(0.3)
F32 = np.float32
Floats = npt.NDArray[np.float32]


def _unit_range_table() -> Floats:
    """[0, 255] -> [-1, 1] as MediaPipe's convertTo(CV_32F, scale 2/255.f, offset -1) computes it.

    OpenCV's SIMD conversion is a fused multiply-add (v_fma: one rounding of
    p * scale - 1), not a product rounded and then shifted: the two differ by
    an ulp on half of the values. The product of a uint8 and a float32 minus 1
    is exact in double, so rounding that once gives the fused result.
    """
    scale = float(F32(2.0) / F32(255.0))
    return (np.arange(256, dtype=np.float64) * scale - 1.0).astype(np.float32)


_TO_UNIT_RANGE = _unit_range_table()


@dataclass(frozen=True, slots=True)
class Detections:
    """Decoded detections, float32: boxes (N, 4) xmin, ymin, width, height; keypoints (N, 4, 2)."""

    scores: Floats
    boxes: Floats
    keypoints: Floats


@dataclass(frozen=True, slots=True)
class Detection:
    """One person found by the detector, normalised to the image (float32 values)."""

    score: float
    box: tuple[float, float, float, float]  # xmin, ymin, width, height
    keypoints: Floats  # (4, 2)


class PoseDetector:
    """Runs pose_detection.tflite on a whole image. Does not own the session."""

    def __init__(self, session: InferenceSession, min_score: float) -> None:
        self._session = session
        self._boxes_index, self._scores_index = _check_detector(session)
        self._min_score = F32(min_score)
        size = DETECTOR_INPUT_SIZE
        self._anchors = ssd_anchor_centres()
        self._pixels = np.zeros((size, size, 3), dtype=np.uint8)
        self._input = np.zeros((1, size, size, 3), dtype=np.float32)
        self._sampler = PerspectiveSampler(size, size)
        self._maps_for: tuple[int, int] | None = None  # the letterbox depends on the image size only
        self._padding: tuple[np.float32, ...] = (F32(0),) * 4
        self.last_candidates: Detections | None = None
        """The detections above the threshold before NMS, in input-tensor units (for conformance tests)."""

    def detect(self, image: ImageArray) -> Detection | None:
        """The best person in `image` (RGB), or None when nobody scores above the threshold."""
        height, width = image.shape[:2]
        if self._maps_for != (width, height):
            geometry = crop_geometry(None, width, height, DETECTOR_INPUT_SIZE, DETECTOR_INPUT_SIZE)
            corners = rect_corners(
                geometry.center_x, geometry.center_y, geometry.width, geometry.height, geometry.rotation
            )
            self._sampler.build_maps(crop_to_image_matrix(corners, DETECTOR_INPUT_SIZE, DETECTOR_INPUT_SIZE))
            self._padding = geometry.padding
            self._maps_for = (width, height)
        self._sampler.sample(image, self._pixels, border=cv2.BORDER_CONSTANT)
        np.take(_TO_UNIT_RANGE, self._pixels, out=self._input[0])
        outputs = self._session.run(self._input)
        check_outputs("the BlazePose detector", outputs)
        raw = np.asarray(outputs[self._boxes_index], dtype=np.float32).reshape(NUM_ANCHORS, NUM_COORDS)
        logits = np.asarray(outputs[self._scores_index], dtype=np.float32).reshape(NUM_ANCHORS)
        candidates = decode_detections(raw, logits, self._anchors, self._min_score)
        self.last_candidates = candidates
        if candidates.scores.size == 0:
            return None
        return remove_detection_letterbox(weighted_nms_first(candidates), self._padding)


def decode_detections(raw: Floats, logits: Floats, anchors: Floats, min_score: np.float32) -> Detections:
    """TensorsToDetectionsCalculator: the anchors scoring at least `min_score`, in anchor order.

    reverse_output_order: x before y; the anchors are 1 x 1 (fixed size), so no size factor.
    """
    # glibc's expf, as the C++ calls it; expf(100) is inf, and 1 / (1 + inf) = 0, as in C++.
    scores = sigmoid(np.clip(logits, -SCORE_CLIP, SCORE_CLIP))
    keep = np.flatnonzero(scores >= min_score)
    scale = F32(DETECTOR_INPUT_SIZE)
    values = raw[keep] / scale
    centres = anchors[keep]
    cx = values[:, 0] + centres[:, 0]
    cy = values[:, 1] + centres[:, 1]
    half_w = values[:, 2] / F32(2.0)
    half_h = values[:, 3] / F32(2.0)
    xmin, ymin = cx - half_w, cy - half_h
    xmax, ymax = cx + half_w, cy + half_h
    boxes = np.stack([xmin, ymin, xmax - xmin, ymax - ymin], axis=1)
    keypoints = values[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) + centres[:, None, :]
    return Detections(scores[keep], boxes, keypoints.astype(np.float32))


def weighted_nms_first(found: Detections) -> Detection:
    """The first detection of MediaPipe's WEIGHTED non-maximum suppression.

    The best box absorbs every box whose IoU with it exceeds the threshold
    (itself included, in descending score order); the merged box and keypoints
    are their score-weighted means in float32, and the score stays the best
    box's. BlazePose tracks one person, so the graph keeps only this one.
    """
    order = np.argsort(-found.scores, kind="stable")
    best = int(order[0])
    iou = box_iou(found.boxes[best], found.boxes[order])
    members = order[iou > NMS_IOU_THRESHOLD]
    # A box of no area overlaps nothing, itself included: MediaPipe then keeps it unweighted.
    members = members if members.size else order[:1]
    weights = found.scores[members]
    boxes = found.boxes[members]
    corners = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)
    total = F32(0.0)
    sums = np.zeros(4, dtype=np.float32)
    points = np.zeros((NUM_KEYPOINTS, 2), dtype=np.float32)
    # Sequential float32 sums, in MediaPipe's order.
    for weight, corner, keypoints in zip(weights, corners, found.keypoints[members], strict=True):
        total += weight
        sums += corner * weight
        points += keypoints * weight
    xmin, ymin = sums[0] / total, sums[1] / total
    box = (float(xmin), float(ymin), float(sums[2] / total - xmin), float(sums[3] / total - ymin))
    return Detection(float(found.scores[best]), box, points / total)


def remove_detection_letterbox(detection: Detection, padding: tuple[np.float32, ...]) -> Detection:
    """DetectionLetterboxRemovalCalculator: tensor-normalised -> image-normalised."""
    left, top, right, bottom = padding
    one = F32(1.0)
    xmin, ymin, width, height = (F32(v) for v in detection.box)
    box = (
        float((xmin - left) / (one - (left + right))),
        float((ymin - top) / (one - (top + bottom))),
        float(width / (one - (left + right))),
        float(height / (one - (top + bottom))),
    )
    keypoints = detection.keypoints.copy()
    remove_letterbox(keypoints, padding)
    return Detection(detection.score, box, keypoints)


def box_iou(box: Floats, boxes: Floats) -> Floats:
    """IoU of each of `boxes` with one box, all (xmin, ymin, width, height), as MediaPipe's Rectangle_f.

    Rectangle_f keeps corners, so areas are (max - min) products; 0 when the boxes do not meet.
    """
    x0, y0 = box[0], box[1]
    x1, y1 = x0 + box[2], y0 + box[3]
    bx0, by0 = boxes[:, 0], boxes[:, 1]
    bx1, by1 = bx0 + boxes[:, 2], by0 + boxes[:, 3]
    ix0, iy0 = np.maximum(bx0, x0), np.maximum(by0, y0)
    ix1, iy1 = np.minimum(bx1, x1), np.minimum(by1, y1)
    meets = (ix0 <= ix1) & (iy0 <= iy1)
    inter = np.where(meets, (ix1 - ix0) * (iy1 - iy0), F32(0.0))
    union = (bx1 - bx0) * (by1 - by0) + (x1 - x0) * (y1 - y0) - inter
    iou: Floats = np.divide(inter, union, out=np.zeros_like(inter), where=meets & (union > 0))
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
