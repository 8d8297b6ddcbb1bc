"""Colour conversion and optional resizing of decoded frames into RGB."""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np

from posed.cameras.config import frame_memory_problem
from posed.cameras.source import Deferred
from posed.errors import CameraError
from posed.types import ImageArray

# Sources aim their grey previews at this width (the motion gate's default); any width works.
PREVIEW_WIDTH = 160


def grey_preview(bgr: ImageArray, width: int = PREVIEW_WIDTH) -> ImageArray:
    """A small grey copy of a BGR image, shrunk first (bilinear) so that few pixels are converted."""
    height = max(1, round(bgr.shape[0] * width / bgr.shape[1]))
    small = cv2.resize(bgr, (width, height), interpolation=cv2.INTER_LINEAR)
    return as_u8(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))


def defer_bgr(bgr: ImageArray, width: int | None = None, height: int | None = None) -> Deferred:
    """A decoded BGR frame whose conversion to RGB (and resize) is put off until it is needed.

    `bgr` must not be reused by the source afterwards: the decode reads it later.
    """
    size = target_size(bgr.shape, width, height) or (int(bgr.shape[1]), int(bgr.shape[0]))
    # A fresh converter per frame: its resize buffer must not be shared across threads.
    return Deferred(grey_preview(bgr), lambda: ToRgb(width=width, height=height)(bgr), size)


def as_u8(array: object) -> ImageArray:
    """OpenCV's stubs type every result loosely; decoded frames are uint8 by construction."""
    return cast(ImageArray, array)


def target_size(shape: tuple[int, ...], width: int | None, height: int | None) -> tuple[int, int] | None:
    """(w, h) to resize an image of `shape` to, or None to keep it.

    With only one of width/height the other follows the image's aspect ratio.
    """
    src_h, src_w = int(shape[0]), int(shape[1])
    if width is None and height is None:
        return None
    if width is not None and height is not None:
        size = (width, height)
    elif width is not None:
        size = (width, max(1, round(src_h * width / src_w)))
    else:
        assert height is not None
        size = (max(1, round(src_w * height / src_h)), height)
    return None if size == (src_w, src_h) else size


class ToRgb:
    """Turns a decoded image (BGR by default) into a new RGB array, resized if configured.

    The returned array is always fresh, because it is handed to the consumer; the
    intermediate resize buffer is reused from frame to frame.
    """

    def __init__(
        self, code: int | None = cv2.COLOR_BGR2RGB, width: int | None = None, height: int | None = None
    ) -> None:
        self._code = code
        self._width = width
        self._height = height
        self._shape: tuple[int, ...] | None = None
        self._size: tuple[int, int] | None = None
        self._resized: ImageArray | None = None

    def __call__(self, image: ImageArray) -> ImageArray:
        if image.shape != self._shape:
            self._shape = image.shape
            self._size = target_size(image.shape, self._width, self._height)
            self._resized = None
            if self._size is not None:  # one side given: the other follows the source, unknown until now
                what = f"resized to {self._size[0]} x {self._size[1]}, frames would be"
                if (problem := frame_memory_problem(self._size[0] * self._size[1], what)) is not None:
                    self._shape = None
                    raise CameraError(f"{problem}; give both width and height")
        if self._size is not None:
            shrink = self._size[0] * self._size[1] < image.shape[0] * image.shape[1]
            resized = as_u8(
                cv2.resize(
                    image,
                    self._size,
                    dst=self._resized,
                    interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR,
                )
            )
            self._resized = image = resized
        if self._code is None:
            return np.array(image, dtype=np.uint8, copy=True)
        return as_u8(cv2.cvtColor(image, self._code))
