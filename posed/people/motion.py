"""Which pixels moved: each frame against the frame `interval` seconds before it.

Frames are compared as small smoothed greyscale copies, so the cost does not grow
with the camera's resolution and sensor noise does not count as movement. Comparing
with a frame `interval` seconds back (not the previous frame) makes slow movement
show the same at 5 and at 30 frames per second. OpenCV does the per-pixel work.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np
import numpy.typing as npt

from posed.types import ImageArray

Mask = npt.NDArray[np.bool_]
Box = tuple[float, float, float, float]  # x, y, w, h in the frame's pixels
MAX_KEPT = 256  # frames remembered: `interval` at up to MAX_KEPT frames a second


class MotionMap:
    """Feed every frame in time order with `update`; then ask how much of a box moved."""

    def __init__(self, *, width: int, pixel_threshold: int, interval: float) -> None:
        self._width = width
        self._threshold = pixel_threshold
        self._interval = interval
        self._kept: deque[tuple[float, npt.NDArray[np.uint8]]] = deque(maxlen=MAX_KEPT)
        self._moving: Mask | None = None
        self._scale = 1.0
        self.scene_fraction = 0.0  # share of the whole image that moved in the last frame

    def update(self, timestamp: float, image: ImageArray) -> None:
        height, width = image.shape[:2]
        self._scale = min(1.0, self._width / width)
        size = (max(1, round(width * self._scale)), max(1, round(height * self._scale)))
        small = cv2.cvtColor(cv2.resize(image, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        grey: npt.NDArray[np.uint8] = np.asarray(cv2.GaussianBlur(small, (5, 5), 0), dtype=np.uint8)
        reference = self._reference(timestamp)
        if reference is None or reference.shape != grey.shape or timestamp <= self._kept[-1][0]:
            # The first frame, a new resolution, or time going back (a restarted file):
            # nothing to compare with.
            self._kept.clear()
            self._moving, self.scene_fraction = None, 0.0
        else:
            self._moving = cv2.absdiff(grey, reference) > self._threshold
            self.scene_fraction = float(self._moving.mean())
        self._kept.append((timestamp, grey))

    def _reference(self, timestamp: float) -> npt.NDArray[np.uint8] | None:
        """The newest kept frame at least `interval` old, else the oldest kept one."""
        while len(self._kept) > 1 and timestamp - self._kept[1][0] >= self._interval:
            self._kept.popleft()
        return self._kept[0][1] if self._kept else None

    def moving_fraction(self, box: Box, exclude: list[Box]) -> float | None:
        """Share of `box` that moved, not counting the parts inside `exclude`; None before a comparison."""
        moving = self._moving
        if moving is None:
            return None
        x0, y0, x1, y1 = self._cells(box, moving.shape)
        if x1 <= x0 or y1 <= y0:
            return 0.0
        inside = moving[y0:y1, x0:x1].copy()
        for other in exclude:
            ox0, oy0, ox1, oy1 = self._cells(other, moving.shape)
            inside[max(oy0 - y0, 0) : max(oy1 - y0, 0), max(ox0 - x0, 0) : max(ox1 - x0, 0)] = False
        return float(inside.mean())

    def _cells(self, box: Box, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        x, y, w, h = (v * self._scale for v in box)
        rows, cols = shape[0], shape[1]
        x0, y0 = min(max(int(x), 0), cols), min(max(int(y), 0), rows)
        x1, y1 = min(max(int(np.ceil(x + w)), 0), cols), min(max(int(np.ceil(y + h)), 0), rows)
        return x0, y0, x1, y1
