"""PoseNet's input resolution: one fully convolutional network at any valid size.

As in tfjs PoseNet, a side is valid when the output stride divides it minus one
((size - 1) % stride == 0: 161, 193, ... 513, ... for stride 16); the heatmap grid is
then (size - 1) / stride + 1 cells, with cell centres on input pixels.
"""

from __future__ import annotations

import math
from typing import Literal

from posed.errors import ModelOptionError

OPTION_KEY = "model.posenet.input_resolution"
MIN_SIDE = 33
MAX_SIDE = 2049

# What the config and the CLI accept: N (square), (height, width), or "auto".
Resolution = int | tuple[int, int] | Literal["auto"]


def parse_resolution(text: str) -> Resolution:
    """`N`, `HxW` or `auto`, as `--input-resolution` takes it; ValueError otherwise."""
    text = text.strip().lower()
    if text == "auto":
        return "auto"
    height, sep, width = text.partition("x")
    if not sep:
        return int(text)
    return (int(height), int(width))


def as_height_width(resolution: int | tuple[int, int]) -> tuple[int, int]:
    return (resolution, resolution) if isinstance(resolution, int) else resolution


def nearest_valid(size: int, stride: int) -> tuple[int, ...]:
    """The valid sides next to `size`: itself if valid, else the one below and the one above."""
    below = max(MIN_SIDE, (size - 1) // stride * stride + 1)
    above = below if below >= size else below + stride
    return tuple(sorted({s for s in (below, above) if MIN_SIDE <= s <= MAX_SIDE}))


def check_resolution(height: int, width: int, stride: int) -> None:
    """ModelOptionError naming the nearest valid sizes unless both sides suit `stride`."""
    bad = [(axis, size) for axis, size in (("height", height), ("width", width)) if (size - 1) % stride]
    if not bad:
        return
    hints = "; ".join(
        f"{axis} {size} -> {' or '.join(str(s) for s in nearest_valid(size, stride))}" for axis, size in bad
    )
    raise ModelOptionError(
        OPTION_KEY,
        f"{height}x{width} does not fit this model's output stride {stride}: each side must be "
        f"k x {stride} + 1 ({', '.join(str(k * stride + 1) for k in (10, 12, 16, 20, 32))}, ...). "
        f"Nearest valid: {hints}",
    )


def auto_resolution(frame_width: int, frame_height: int, pixel_budget: int, stride: int) -> tuple[int, int]:
    """The valid size with the frame's aspect ratio whose area is nearest `pixel_budget`.

    The ideal sides are h = sqrt(budget * H / W) and w = h * W / H; each is rounded to
    the nearest k * stride + 1 (ties upwards), and kept within the valid range.
    """
    aspect = frame_width / frame_height
    ideal_height = math.sqrt(pixel_budget / aspect)
    return (_snap(ideal_height, stride), _snap(ideal_height * aspect, stride))


def _snap(ideal: float, stride: int) -> int:
    steps = math.floor((ideal - 1) / stride + 0.5)
    lowest, highest = math.ceil((MIN_SIDE - 1) / stride), (MAX_SIDE - 1) // stride
    return min(max(steps, lowest), highest) * stride + 1
