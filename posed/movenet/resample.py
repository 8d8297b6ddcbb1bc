"""The two ways tfjs pose-detection turns a frame into MoveNet's input, computed as tfjs's CPU backend does.

- single pose: tf.image.cropAndResize (bilinear, 0 outside the image) of the
  crop region to the model's square input;
- MultiPose: tf.image.resizeBilinear (no half-pixel centres, no aligned
  corners) so the long side is `max_dimension`, then zero padding at the bottom
  or right up to a multiple of 32.
Both cast to int32 by truncation. Written here with NumPy rather than OpenCV:
cv2.resize uses half-pixel centres and cv2.remap rounds positions to 1/32 pixel,
and either moves MoveNet's keypoints away from tfjs's. The work is separable:
per output row and column one source index pair and weight, then four gathers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from posed.movenet.config import SIZE_DIVISOR
from posed.movenet.layout import InputDtype
from posed.types import ImageArray

Tensor = npt.NDArray[np.generic]


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a MultiPose input relates to the frame: resized to `resized`, padded to `padded` (h, w)."""

    resized: tuple[int, int]
    padded: tuple[int, int]

    @property
    def scale(self) -> tuple[float, float]:
        """Factors (y, x) that take input-normalised coordinates to frame-normalised ones."""
        return (self.padded[0] / self.resized[0], self.padded[1] / self.resized[1])


def multipose_size(height: int, width: int, max_dimension: int) -> Letterbox:
    """tfjs's rule: the long side becomes `max_dimension`, the short side is rounded, then padded to 32."""
    if width > height:
        resized = (round_half_up(max_dimension * height / width), max_dimension)
        padded = (-(-resized[0] // SIZE_DIVISOR) * SIZE_DIVISOR, max_dimension)
    else:
        resized = (max_dimension, round_half_up(max_dimension * width / height))
        padded = (max_dimension, -(-resized[1] // SIZE_DIVISOR) * SIZE_DIVISOR)
    return Letterbox(resized=(max(resized[0], 1), max(resized[1], 1)), padded=padded)


def round_half_up(value: float) -> int:
    """JavaScript's Math.round (halves go up), not Python's round (halves go to even)."""
    return int(np.floor(value + 0.5))


def resize_and_pad(image: ImageArray, box: Letterbox, dtype: InputDtype) -> Tensor:
    """The MultiPose input [1, padded h, padded w, 3] for `image` (RGB uint8)."""
    height, width = int(image.shape[0]), int(image.shape[1])
    (out_h, out_w), (pad_h, pad_w) = box.resized, box.padded
    # sourceFrac = (in / out) * i, floor clamped at 0, ceil clamped at size - 1
    rows = (height / out_h) * np.arange(out_h, dtype=np.float64)
    cols = (width / out_w) * np.arange(out_w, dtype=np.float64)
    resized = _bilinear(image, rows, cols, height, width)
    tensor = np.zeros((1, pad_h, pad_w, 3), dtype=_numpy_dtype(dtype))
    tensor[0, :out_h, :out_w] = _cast(resized, dtype)
    return tensor


def crop_and_resize(
    image: ImageArray, region: npt.NDArray[np.float64], size: tuple[int, int], dtype: InputDtype
) -> Tensor:
    """The single-pose input [1, h, w, 3]: `region` (ymin, xmin, ymax, xmax, normalised) resized to `size`."""
    height, width = int(image.shape[0]), int(image.shape[1])
    crop_h, crop_w = size
    # tfjs holds the box in a float32 tensor.
    y1, x1, y2, x2 = (float(v) for v in np.asarray(region, dtype=np.float32))
    rows = _positions(y1, y2, crop_h, height)
    cols = _positions(x1, x2, crop_w, width)
    inside_rows = (rows >= 0) & (rows <= height - 1)
    inside_cols = (cols >= 0) & (cols <= width - 1)
    values = _bilinear(
        image, np.where(inside_rows, rows, 0.0), np.where(inside_cols, cols, 0.0), height, width
    )
    values[~inside_rows] = 0.0
    values[:, ~inside_cols] = 0.0
    return _cast(values, dtype)[None]


def _positions(start: float, end: float, count: int, size: int) -> npt.NDArray[np.float64]:
    if count > 1:
        scale = (end - start) * (size - 1) / (count - 1)
        return start * (size - 1) + np.arange(count, dtype=np.float64) * scale
    return np.full(1, 0.5 * (start + end) * (size - 1))


def _bilinear(
    image: ImageArray, rows: npt.NDArray[np.float64], cols: npt.NDArray[np.float64], height: int, width: int
) -> npt.NDArray[np.float32]:
    """Bilinear samples at (rows x cols) source positions, as float32 (tfjs's output buffer)."""
    top = np.maximum(np.floor(rows), 0).astype(np.intp)
    bottom = np.minimum(np.ceil(rows), height - 1).astype(np.intp)
    left = np.maximum(np.floor(cols), 0).astype(np.intp)
    right = np.minimum(np.ceil(cols), width - 1).astype(np.intp)
    y_lerp = (rows - top)[:, None, None]
    x_lerp = (cols - left)[None, :, None]
    upper = image[top].astype(np.float64)
    lower = image[bottom].astype(np.float64)
    top_row = upper[:, left] + (upper[:, right] - upper[:, left]) * x_lerp
    bottom_row = lower[:, left] + (lower[:, right] - lower[:, left]) * x_lerp
    return (top_row + (bottom_row - top_row) * y_lerp).astype(np.float32)


def _numpy_dtype(dtype: InputDtype) -> np.dtype[np.generic]:
    return np.dtype(dtype)


def _cast(values: npt.NDArray[np.float32], dtype: InputDtype) -> Tensor:
    """tfjs casts the resampled floats to int32 (truncation); uint8 and float32 models get those integers."""
    whole = values.astype(np.int32)  # truncates toward zero, as Int32Array.from does
    if dtype == "int32":
        return whole
    return whole.astype(_numpy_dtype(dtype))
