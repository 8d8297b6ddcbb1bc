"""Model inputs for backend checks: a real image resized to the model input, or a
deterministic synthetic scene when no image is at hand.

Preprocessing is deliberately the simplest: resize the whole image to the input size
and scale it to the range the model expects. Backend checks compare runtimes, not
pose pipelines.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from posed.backend import TensorSpec
from posed.types import ImageArray

# BlazePose's detector takes [-1, 1], its landmark model [0, 1]; uint8 models take raw pixels.
DETECTOR_RANGE = (-1.0, 1.0)
UNIT_RANGE = (0.0, 1.0)
# MoveNet's int32 and float32 inputs take raw pixel values.
PIXEL_RANGE = (0.0, 255.0)


def load_rgb(path: Path) -> ImageArray:
    """An image file as RGB uint8 HxWx3."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"cannot read image {path}")
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def synthetic_image(height: int = 480, width: int = 640, seed: int = 0) -> ImageArray:
    """A deterministic picture with edges, gradients and flat areas, as real images have.

    Pure noise is a poor test input: it drives quantized networks into saturation.
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.empty((height, width, 3), np.float32)
    image[..., 0] = 255 * x / max(width - 1, 1)
    image[..., 1] = 255 * y / max(height - 1, 1)
    image[..., 2] = 128 + 100 * np.sin(x / 23.0) * np.cos(y / 17.0)
    out = np.ascontiguousarray(np.clip(image, 0, 255).astype(np.uint8))
    for _ in range(12):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(width // 20, width // 4)), int(rng.integers(height // 20, height // 4)))
        cv2.ellipse(out, centre, axes, float(rng.integers(0, 180)), 0, 360, colour, -1)
    return out


def image_input(
    spec: TensorSpec,
    image: ImageArray,
    float_range: tuple[float, float] = UNIT_RANGE,
) -> npt.NDArray[np.generic]:
    """`image` resized to an NHWC image input and scaled to its dtype (and range, for floats)."""
    if len(spec.shape) != 4 or spec.shape[3] != 3:
        raise ValueError(f"input {spec.name!r} {spec.shape} is not an NHWC RGB image input")
    batch, height, width, _ = spec.shape
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    pixels = np.broadcast_to(resized, (batch, height, width, 3))
    if spec.dtype == "uint8":
        return np.ascontiguousarray(pixels)
    if spec.dtype == "int8":
        return np.ascontiguousarray((pixels.astype(np.int16) - 128).astype(np.int8))
    low, high = float_range
    scaled = pixels.astype(np.float32) * np.float32((high - low) / 255.0) + np.float32(low)
    return np.ascontiguousarray(scaled.astype(np.dtype(spec.dtype)))


def model_inputs(
    specs: Sequence[TensorSpec],
    image: ImageArray | None = None,
    float_range: tuple[float, float] = UNIT_RANGE,
    seed: int = 0,
) -> tuple[npt.NDArray[np.generic], ...]:
    """One array per input: image inputs from `image` (or a synthetic scene), others random."""
    rng = np.random.default_rng(seed)
    picture = image if image is not None else synthetic_image(seed=seed)
    arrays: list[npt.NDArray[np.generic]] = []
    for spec in specs:
        if len(spec.shape) == 4 and spec.shape[3] == 3:
            arrays.append(image_input(spec, picture, float_range))
        elif np.dtype(spec.dtype).kind in "iu":
            info = np.iinfo(np.dtype(spec.dtype))
            arrays.append(rng.integers(info.min, int(info.max) + 1, spec.shape).astype(spec.dtype))
        else:
            low, high = float_range
            arrays.append((low + (high - low) * rng.random(spec.shape)).astype(spec.dtype))
    return tuple(arrays)
