"""The selfie view's mirrored frame, in one reused buffer."""

from __future__ import annotations

import cv2
import numpy as np

from posed.types import ImageArray


class Mirror:
    """Mirrors frames left-right into a buffer kept for as long as the frame size holds.

    Selfie view, as MediaPipe and tfjs do it: the model sees the mirrored image, so
    coordinates and left/right names belong to the mirror image.
    """

    def __init__(self) -> None:
        self._buffer: ImageArray | None = None

    def __call__(self, image: ImageArray) -> ImageArray:
        if self._buffer is None or self._buffer.shape != image.shape:
            self._buffer = np.empty_like(image)
        cv2.flip(image, 1, dst=self._buffer)
        return self._buffer
