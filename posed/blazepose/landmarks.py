"""The BlazePose landmark model: crop, tensor decoding, heatmap refinement, projection.

Follows MediaPipe's pose_landmark_by_roi_cpu and
tensors_to_pose_landmarks_and_segmentation graphs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from posed.backend import InferenceSession
from posed.blazepose.roi import Roi, crop_matrix, warp_crop
from posed.errors import ModelError
from posed.types import FloatArray, ImageArray

INPUT_SIZE = 256
NUM_LANDMARKS = 39  # 33 body landmarks and 2 auxiliary ones (ROI centre and scale), then 4 unused
NUM_BODY = 33
AUX_CENTER = 33
AUX_SCALE = 34
HEATMAP_SIZE = 64
HEATMAP_KERNEL = 7
MIN_CONFIDENCE_TO_REFINE = 0.5
# MediaPipe leaves ImageToTensor's border mode unset for the landmark crop, which
# means BORDER_REPLICATE: a crop reaching past the image edge repeats edge pixels.
CROP_BORDER = cv2.BORDER_REPLICATE

_OUTPUT_SHAPES = {
    "landmarks": (1, NUM_LANDMARKS * 5),
    "presence": (1, 1),
    "segmentation": (1, INPUT_SIZE, INPUT_SIZE, 1),
    "heatmap": (1, HEATMAP_SIZE, HEATMAP_SIZE, NUM_LANDMARKS),
    "world": (1, NUM_LANDMARKS * 3),
}


@dataclass(frozen=True, slots=True)
class LandmarkResult:
    """One person's raw (unsmoothed) landmarks, projected back to the image."""

    presence: float
    landmarks: npt.NDArray[np.float64]  # (35, 4): x, y, z in pixels, visibility; 33 body then 2 aux
    world: npt.NDArray[np.float64]  # (33, 3) metres, rotated upright like the image
    segmentation_logits: npt.NDArray[np.float32] | None  # (256, 256) crop logits, when asked for


class LandmarkModel:
    """Runs a pose_landmark_{lite,full,heavy}.tflite session on a rotated crop. Does not own it."""

    def __init__(self, session: InferenceSession, min_presence: float) -> None:
        self._session = session
        self._index = _check_landmark_model(session)
        self._min_presence = min_presence
        self._pixels = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)
        self._input = np.zeros((1, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.float32)
        self.matrix = np.zeros((2, 3), dtype=np.float64)  # crop -> image of the last run

    def run(self, image: ImageArray, roi: Roi, *, segmentation: bool = False) -> LandmarkResult | None:
        """Landmarks of the person in `roi`, or None when the model says nobody is there."""
        warp_crop(image, crop_matrix(roi, INPUT_SIZE, self.matrix), self._pixels, border=CROP_BORDER)
        np.multiply(self._pixels, np.float32(1.0 / 255.0), out=self._input[0])
        outputs = self._session.run(self._input)
        # The model ends in a sigmoid here: the flag is already a probability.
        presence = float(np.asarray(outputs[self._index["presence"]]).reshape(-1)[0])
        if not presence >= self._min_presence:
            return None
        raw = np.asarray(outputs[self._index["landmarks"]], dtype=np.float64).reshape(NUM_LANDMARKS, 5)
        heatmap = np.asarray(outputs[self._index["heatmap"]]).reshape(
            HEATMAP_SIZE, HEATMAP_SIZE, NUM_LANDMARKS
        )
        normalised = raw[:, :3] / INPUT_SIZE
        refine_from_heatmap(normalised, heatmap)
        landmarks = np.empty((AUX_SCALE + 1, 4), dtype=np.float64)
        project(normalised[: AUX_SCALE + 1], roi, landmarks[:, :3])
        landmarks[:, 3] = _sigmoid(raw[: AUX_SCALE + 1, 3])
        world = np.asarray(outputs[self._index["world"]], dtype=np.float64).reshape(NUM_LANDMARKS, 3)
        seg = None
        if segmentation:
            seg = np.array(outputs[self._index["segmentation"]], dtype=np.float32).reshape(
                INPUT_SIZE, INPUT_SIZE
            )
        return LandmarkResult(presence, landmarks, project_world(world[:NUM_BODY], roi), seg)


def refine_from_heatmap(landmarks: npt.NDArray[np.float64], heatmap: npt.NDArray[np.generic]) -> None:
    """MediaPipe's RefineLandmarksFromHeatmapCalculator, vectorised over the landmarks, in place.

    `landmarks` is (N, 3+) crop-normalised; `heatmap` is (size, size, N) logits.

    Each landmark moves to the confidence-weighted mean cell of the 7x7 heatmap
    window around it (sigmoid of the heatmap), if the window's best confidence
    reaches 0.5. z is kept.
    """
    size = heatmap.shape[0]
    count = landmarks.shape[0]
    offsets = np.arange(HEATMAP_KERNEL) - (HEATMAP_KERNEL - 1) // 2
    # C++ float -> int conversion truncates toward zero.
    cols = np.trunc(landmarks[:, 0] * size).astype(np.intp)
    rows = np.trunc(landmarks[:, 1] * size).astype(np.intp)
    # MediaPipe's bounds check compares the column twice and never the row, so a
    # row just past the bottom still refines with the part of its window inside.
    inside = (cols >= 0) & (cols < size) & (rows >= 0)
    r = rows[:, None] + offsets  # (N, 7)
    c = cols[:, None] + offsets
    valid_r = (r >= 0) & (r < size)
    valid_c = (c >= 0) & (c < size)
    window = heatmap[
        np.minimum(np.maximum(r, 0), size - 1)[:, :, None],
        np.minimum(np.maximum(c, 0), size - 1)[:, None, :],
        np.arange(count)[:, None, None],
    ]
    # Cells outside the heatmap weigh nothing (MediaPipe shrinks the window there).
    confidence = _sigmoid(window.astype(np.float64))
    confidence *= valid_r[:, :, None]
    confidence *= valid_c[:, None, :]
    flat = confidence.reshape(count, -1)
    total = flat.sum(axis=1)
    best = flat.max(axis=1)
    refine = inside & (best >= MIN_CONFIDENCE_TO_REFINE) & (total > 0)
    if not refine.any():
        return
    safe = np.where(total > 0, total, 1.0) * size
    x = (confidence.sum(axis=1) * c).sum(axis=1) / safe
    y = (confidence.sum(axis=2) * r).sum(axis=1) / safe
    landmarks[refine, 0] = x[refine]
    landmarks[refine, 1] = y[refine]


def project(
    normalised: npt.NDArray[np.float64], roi: Roi, out: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Crop-normalised (x, y, z) -> image pixels (MediaPipe's LandmarkProjectionCalculator).

    z is scaled like x: by the crop side in pixels.
    """
    c = math.cos(roi.rotation)
    s = math.sin(roi.rotation)
    x = normalised[:, 0] - 0.5
    y = normalised[:, 1] - 0.5
    out[:, 0] = (c * x - s * y) * roi.size + roi.x_center
    out[:, 1] = (s * x + c * y) * roi.size + roi.y_center
    out[:, 2] = normalised[:, 2] * roi.size
    return out


def project_world(world: npt.NDArray[np.float64], roi: Roi) -> npt.NDArray[np.float64]:
    """Rotate world landmarks by the crop rotation (MediaPipe's WorldLandmarkProjectionCalculator)."""
    c = math.cos(roi.rotation)
    s = math.sin(roi.rotation)
    out = world.copy()
    out[:, 0] = c * world[:, 0] - s * world[:, 1]
    out[:, 1] = s * world[:, 0] + c * world[:, 1]
    return out


def segmentation_to_image(
    logits: npt.NDArray[np.float32], matrix: npt.NDArray[np.float64], width: int, height: int
) -> FloatArray:
    """Person probability (H, W) in the image from the crop's segmentation logits."""
    crop = (1.0 / (1.0 + np.exp(-np.clip(logits, -80.0, 80.0)))).astype(np.float32)
    # `matrix` maps crop -> image, so this is the forward warp; outside the crop is background.
    mask = cv2.warpAffine(
        crop, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    return np.asarray(mask, dtype=np.float32)


def _sigmoid(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-values)), dtype=np.float64)


def _check_landmark_model(session: InferenceSession) -> dict[str, int]:
    inputs = session.inputs
    if len(inputs) != 1 or inputs[0].shape != (1, INPUT_SIZE, INPUT_SIZE, 3) or inputs[0].dtype != "float32":
        raise ModelError(
            f"not a BlazePose landmark model: expected one float32 input (1, {INPUT_SIZE}, {INPUT_SIZE}, 3), "
            f"got {[(spec.shape, spec.dtype) for spec in inputs]}"
        )
    shapes = [spec.shape for spec in session.outputs]
    index: dict[str, int] = {}
    for role, shape in _OUTPUT_SHAPES.items():
        if shape not in shapes:
            raise ModelError(
                f"not a BlazePose landmark model: no {role} output of shape {shape} (outputs: {shapes})"
            )
        index[role] = shapes.index(shape)
    return index
