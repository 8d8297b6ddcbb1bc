"""The BlazePose landmark model: crop, tensor decoding, heatmap refinement, projection.

Follows MediaPipe 0.10.14's pose_landmark_by_roi_cpu and
tensors_to_pose_landmarks_and_segmentation graphs, in their float32 arithmetic.
Landmarks stay normalised to the image (MediaPipe's NormalizedLandmark) until
the estimator turns them into pixels, because the smoothing filters and the
next frame's ROI work on the normalised values.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from posed.backend import InferenceSession, check_outputs
from posed.blazepose.cmath import cosf, sigmoid, sinf
from posed.blazepose.roi import NormRect, crop_geometry, remove_letterbox
from posed.blazepose.warp import PerspectiveSampler, crop_to_image_matrix, rect_corners
from posed.errors import ModelError
from posed.types import FloatArray, ImageArray

INPUT_SIZE = 256
NUM_LANDMARKS = 39  # 33 body landmarks and 2 auxiliary ones (ROI centre and scale), then 4 unused
NUM_BODY = 33
AUX_CENTER = 33
AUX_SCALE = 34
HEATMAP_SIZE = 64
# The Python solution runs RefineLandmarksFromHeatmapCalculator with its proto
# defaults (kernel 9, min confidence 0.5), not the graph's kernel_size 7: the
# wheel's pose.py does not import that calculator's options proto, so the graph
# loads without its options extension.
HEATMAP_KERNEL = 9
MIN_CONFIDENCE_TO_REFINE = np.float32(0.5)
# MediaPipe leaves ImageToTensor's border mode unset for the landmark crop, which
# means BORDER_REPLICATE: a crop reaching past the image edge repeats edge pixels.
CROP_BORDER = cv2.BORDER_REPLICATE
F32 = np.float32
Floats = npt.NDArray[np.float32]

_OUTPUT_SHAPES = {
    "landmarks": (1, NUM_LANDMARKS * 5),
    "presence": (1, 1),
    "segmentation": (1, INPUT_SIZE, INPUT_SIZE, 1),
    "heatmap": (1, HEATMAP_SIZE, HEATMAP_SIZE, NUM_LANDMARKS),
    "world": (1, NUM_LANDMARKS * 3),
}


@dataclass(frozen=True, slots=True)
class LandmarkResult:
    """One person's raw (unsmoothed) landmarks, float32, and the intermediate streams."""

    presence: float
    # (35, 5): x, y normalised to the image, z normalised to its width, visibility, presence
    landmarks: Floats
    world: Floats  # (33, 3) metres, rotated upright like the image
    crop_raw: Floats  # (39, 5) in crop units, before heatmap refinement
    crop_refined: Floats  # (39, 5) after it
    segmentation_logits: Floats | None  # (256, 256) crop logits, when asked for


class LandmarkModel:
    """Runs a pose_landmark_{lite,full,heavy}.tflite session on a rotated crop. Does not own it."""

    def __init__(self, session: InferenceSession, min_presence: float) -> None:
        self._session = session
        self._index = _check_landmark_model(session)
        self._min_presence = min_presence
        self._pixels = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)
        self._input = np.zeros((1, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.float32)
        self._sampler = PerspectiveSampler(INPUT_SIZE, INPUT_SIZE)
        self.matrix = np.eye(3, dtype=np.float64)  # crop -> image pixels of the last run

    def run(self, image: ImageArray, rect: NormRect, *, segmentation: bool = False) -> LandmarkResult | None:
        """Landmarks of the person in `rect`, or None when the model says nobody is there."""
        height, width = image.shape[:2]
        geometry = crop_geometry(rect, width, height, INPUT_SIZE, INPUT_SIZE)
        corners = rect_corners(
            geometry.center_x, geometry.center_y, geometry.width, geometry.height, geometry.rotation
        )
        self.matrix = crop_to_image_matrix(corners, INPUT_SIZE, INPUT_SIZE)
        self._sampler.build_maps(self.matrix)
        self._sampler.sample(image, self._pixels, border=CROP_BORDER)
        np.multiply(self._pixels, F32(1.0) / F32(255.0), out=self._input[0])
        outputs = self._session.run(self._input)
        check_outputs("the BlazePose landmark model", outputs)
        # The model ends in a sigmoid here: the flag is already a probability.
        presence = float(np.asarray(outputs[self._index["presence"]]).reshape(-1)[0])
        if not presence > self._min_presence:  # ThresholdingCalculator: strictly above
            return None
        raw = np.asarray(outputs[self._index["landmarks"]], dtype=np.float32).reshape(NUM_LANDMARKS, 5)
        heatmap = np.asarray(outputs[self._index["heatmap"]], dtype=np.float32).reshape(
            HEATMAP_SIZE, HEATMAP_SIZE, NUM_LANDMARKS
        )
        crop_raw = decode_landmarks(raw)
        crop_refined = crop_raw.copy()
        refine_from_heatmap(crop_refined, heatmap)
        landmarks = crop_refined[: AUX_SCALE + 1].copy()
        remove_letterbox(landmarks[:, :3], geometry.padding)
        project(landmarks, rect)
        world = np.asarray(outputs[self._index["world"]], dtype=np.float32).reshape(NUM_LANDMARKS, 3)
        seg = None
        if segmentation:
            seg = np.array(outputs[self._index["segmentation"]], dtype=np.float32).reshape(
                INPUT_SIZE, INPUT_SIZE
            )
        return LandmarkResult(
            presence, landmarks, project_world(world[:NUM_BODY], rect), crop_raw, crop_refined, seg
        )


def decode_landmarks(raw: Floats) -> Floats:
    """TensorsToLandmarksCalculator: (39, 5) crop pixels and logits -> crop units and probabilities."""
    out = np.empty_like(raw)
    size = F32(INPUT_SIZE)
    out[:, :3] = raw[:, :3] / size
    out[:, 3:] = sigmoid(raw[:, 3:])
    return out


def refine_from_heatmap(landmarks: Floats, heatmap: Floats) -> None:
    """MediaPipe 0.10.14's RefineLandmarksFromHeatmapCalculator, vectorised, in place, float32.

    `landmarks` is (N, 2+) crop-normalised; `heatmap` is (size, size, N) logits.
    Each landmark whose cell lies inside the heatmap moves to the
    confidence-weighted mean cell of the kernel window around it (sigmoid of
    the heatmap; cells outside the heatmap drop out), if the window's best
    confidence reaches the minimum. The sums are sequential float32 sums in
    row-major window order, as the C++ loop adds them.
    """
    size = heatmap.shape[0]
    count = landmarks.shape[0]
    offsets = np.arange(HEATMAP_KERNEL) - (HEATMAP_KERNEL - 1) // 2
    # C++ float -> int conversion truncates toward zero.
    cols = np.trunc(landmarks[:, 0] * F32(size)).astype(np.intp)
    rows = np.trunc(landmarks[:, 1] * F32(size)).astype(np.intp)
    # Since v0.10.2 the row is bounds-checked too (before, only the column was, twice).
    inside = (cols >= 0) & (cols < size) & (rows >= 0) & (rows < size)
    # Window cells in the C++ loop order (row-major), as the leading axis: (k*k, N).
    r = (rows[None, :] + np.repeat(offsets, HEATMAP_KERNEL)[:, None]).astype(np.intp)
    c = (cols[None, :] + np.tile(offsets, HEATMAP_KERNEL)[:, None]).astype(np.intp)
    valid = (r >= 0) & (r < size) & (c >= 0) & (c < size)
    window = heatmap[np.clip(r, 0, size - 1), np.clip(c, 0, size - 1), np.arange(count)[None, :]]
    # Adding an exact 0.0f leaves a float sum unchanged, so cells off the heatmap are zeros.
    confidence = np.where(valid, sigmoid(window), F32(0.0))
    # A reduction over the leading axis adds the rows one after another: the
    # C++ loop's sequential float sums (np.sum over a contiguous axis would add pairwise).
    total = np.add.reduce(confidence, axis=0)
    weighted_col = np.add.reduce(c.astype(np.float32) * confidence, axis=0)
    weighted_row = np.add.reduce(r.astype(np.float32) * confidence, axis=0)
    best = confidence.max(axis=0)
    refine = inside & (best >= MIN_CONFIDENCE_TO_REFINE) & (total > 0)
    if not refine.any():
        return
    safe = np.where(total > 0, total, F32(1.0))
    landmarks[refine, 0] = (weighted_col / F32(size) / safe)[refine]
    landmarks[refine, 1] = (weighted_row / F32(size) / safe)[refine]


def project(landmarks: Floats, rect: NormRect) -> None:
    """LandmarkProjectionCalculator (NORM_RECT): crop-normalised -> image-normalised, in place.

    x and y turn by the rect's rotation and scale by its normalised width and
    height; z scales like x.
    """
    # std::cos/std::sin of a float: glibc's cosf/sinf, which numpy's float32 cos/sin miss by an ulp at times.
    c, s = cosf(rect.rotation), sinf(rect.rotation)
    x = landmarks[:, 0] - F32(0.5)
    y = landmarks[:, 1] - F32(0.5)
    new_x = c * x - s * y
    new_y = s * x + c * y
    landmarks[:, 0] = new_x * F32(rect.width) + F32(rect.x_center)
    landmarks[:, 1] = new_y * F32(rect.height) + F32(rect.y_center)
    landmarks[:, 2] = landmarks[:, 2] * F32(rect.width)


def project_world(world: Floats, rect: NormRect) -> Floats:
    """WorldLandmarkProjectionCalculator: rotate world landmarks by the crop rotation."""
    c, s = cosf(rect.rotation), sinf(rect.rotation)
    out = world.copy()
    out[:, 0] = c * world[:, 0] - s * world[:, 1]
    out[:, 1] = s * world[:, 0] + c * world[:, 1]
    return out


def segmentation_to_image(
    logits: Floats, matrix: npt.NDArray[np.float64], width: int, height: int
) -> FloatArray:
    """Person probability (H, W) in the image from the crop's segmentation logits."""
    crop = (1.0 / (1.0 + np.exp(-np.clip(logits, -80.0, 80.0)))).astype(np.float32)
    # `matrix` maps crop -> image (its perspective part is rounding noise), so this is the forward warp.
    affine = matrix[:2] / matrix[2, 2]
    mask = cv2.warpAffine(
        crop, affine, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    return np.asarray(mask, dtype=np.float32)


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
