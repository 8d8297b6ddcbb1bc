"""Region-of-interest maths, in MediaPipe's own float32 arithmetic.

MediaPipe keeps every ROI as a `NormalizedRect` proto: float32 fields,
normalised to the image width and height. Its calculators compute in float32
(with the odd double step). A ROI computed in float64 differs by ~1e-4 px,
enough to move a crop sample onto another 1/32-px step of the warp, so this
module repeats their arithmetic operation by operation with numpy float32.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from posed.blazepose.cmath import atan2f

F32 = np.float32
# pose_detection_to_roi / pose_landmarks_to_roi: the vector from the centre point
# to the scale point should point up (90 degrees), and the crop is enlarged by 25%
# around the body (the margin used in training), squared on its long side.
# AlignmentPointsRectsCalculator stores M_PI * 90 / 180.f in a float.
TARGET_ANGLE = F32(math.pi * 90.0 / 180.0)
ROI_SCALE = F32(1.25)


@dataclass(frozen=True, slots=True)
class Roi:
    """A rotated square in image pixels: centre, side, rotation in radians (clockwise on screen)."""

    x_center: float
    y_center: float
    size: float
    rotation: float

    @property
    def is_valid(self) -> bool:
        return math.isfinite(self.size) and self.size >= 1.0 and math.isfinite(self.rotation)


@dataclass(frozen=True, slots=True)
class NormRect:
    """MediaPipe's NormalizedRect: centre and size normalised to the image, rotation in radians.

    Every field holds a float32 value, as the proto does.
    """

    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float

    def in_pixels(self, image_width: int, image_height: int) -> Roi:
        side = max(self.width * image_width, self.height * image_height)
        return Roi(self.x_center * image_width, self.y_center * image_height, side, self.rotation)

    def is_valid(self, image_width: int, image_height: int) -> bool:
        return self.in_pixels(image_width, image_height).is_valid


def normalize_radians(angle: float) -> float:
    """DetectionsToRectsCalculator::NormalizeRadians: wrap into [-pi, pi) in double, keep a float."""
    angle = float(F32(angle))
    return float(F32(angle - 2 * math.pi * math.floor((angle - (-math.pi)) / (2 * math.pi))))


def alignment_rect(
    center: tuple[float, float], scale_point: tuple[float, float], image_width: int, image_height: int
) -> NormRect:
    """AlignmentPointsRectsCalculator on two normalised keypoints (DetectionsToRects' rotation).

    The box side is twice the centre-to-scale-point distance in pixels; the
    rotation turns that vector upright.
    """
    width, height = F32(image_width), F32(image_height)
    x0 = F32(center[0]) * width
    y0 = F32(center[1]) * height
    x1 = F32(scale_point[0]) * width
    y1 = F32(scale_point[1]) * height
    dx = x1 - x0
    dy = y1 - y0
    box = F32(float(np.sqrt(dx * dx + dy * dy)) * 2.0)
    # std::atan2 on floats is glibc's atan2f, which is not correctly rounded: call it.
    rotation = normalize_radians(float(TARGET_ANGLE - atan2f(float(-dy), float(dx))))
    return NormRect(float(x0 / width), float(y0 / height), float(box / width), float(box / height), rotation)


def object_scale(rect: NormRect, image_width: int, image_height: int) -> float:
    """landmarks_smoothing's GetObjectScale(NormalizedRect): the mean side in pixels (float32)."""
    width = F32(rect.width) * F32(image_width)
    height = F32(rect.height) * F32(image_height)
    return float((width + height) / F32(2.0))


def enlarged_rect(
    rect: NormRect, image_width: int, image_height: int, scale: np.float32 = ROI_SCALE
) -> NormRect:
    """RectTransformationCalculator with square_long and scale, no shift or rotation.

    The zero shift still goes through MediaPipe's formula, which adds +-0.0: a no-op.
    """
    width, height = F32(image_width), F32(image_height)
    long_side = max(F32(rect.width) * width, F32(rect.height) * height)
    return NormRect(
        rect.x_center,
        rect.y_center,
        float(long_side / width * scale),
        float(long_side / height * scale),
        rect.rotation,
    )


@dataclass(frozen=True, slots=True)
class CropGeometry:
    """Where ImageToTensor cuts a crop: the rect in pixels after keep-aspect padding, and the padding.

    `padding` is (left, top, right, bottom) as fractions of the crop, which the
    letterbox-removal calculators take off again.
    """

    center_x: np.float32
    center_y: np.float32
    width: np.float32
    height: np.float32
    rotation: np.float32
    padding: tuple[np.float32, np.float32, np.float32, np.float32]


def crop_geometry(
    rect: NormRect | None, image_width: int, image_height: int, out_width: int, out_height: int
) -> CropGeometry:
    """image_to_tensor_utils' GetRoi then PadRoi (keep_aspect_ratio), in float32.

    Without a rect the whole image is the ROI (the detector's letterbox).
    """
    iw, ih = F32(image_width), F32(image_height)
    if rect is None:
        cx, cy, w, h, rotation = F32(0.5) * iw, F32(0.5) * ih, iw, ih, F32(0.0)
    else:
        cx, cy = F32(rect.x_center) * iw, F32(rect.y_center) * ih
        w, h, rotation = F32(rect.width) * iw, F32(rect.height) * ih, F32(rect.rotation)
    tensor_aspect = F32(out_height) / F32(out_width)
    roi_aspect = h / w
    zero, one, two = F32(0.0), F32(1.0), F32(2.0)
    if tensor_aspect > roi_aspect:
        new_w, new_h = w, w * tensor_aspect
        horizontal, vertical = zero, (one - roi_aspect / tensor_aspect) / two
    else:
        new_w, new_h = h / tensor_aspect, h
        horizontal, vertical = (one - tensor_aspect / roi_aspect) / two, zero
    return CropGeometry(cx, cy, new_w, new_h, rotation, (horizontal, vertical, horizontal, vertical))


def remove_letterbox(points: npt.NDArray[np.float32], padding: tuple[np.float32, ...]) -> None:
    """(Landmark|Detection)LetterboxRemovalCalculator on normalised (x, y[, z]) float32 rows, in place."""
    left, top, right, bottom = padding
    left_right = left + right
    top_bottom = top + bottom
    if left_right == 0 and top_bottom == 0:
        return  # x - 0 and x / 1 are exact: nothing would change
    one = F32(1.0)
    points[:, 0] = (points[:, 0] - left) / (one - left_right)
    points[:, 1] = (points[:, 1] - top) / (one - top_bottom)
    if points.shape[1] > 2:
        points[:, 2] = points[:, 2] / (one - left_right)
