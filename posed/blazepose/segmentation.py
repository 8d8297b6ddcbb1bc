"""Temporal smoothing of the person mask (MediaPipe's SegmentationSmoothingCalculator)."""

from __future__ import annotations

import numpy as np

from posed.types import FloatArray

COMBINE_WITH_PREVIOUS = 0.7
# Polynomial in (p - 0.5)^2 approximating the squared uncertainty 1 - (1 - H(p))^2,
# with H the binary entropy of the new mask value p.
_C1, _C2, _C3, _C4, _C5 = 5.68842, -0.748699, -57.8051, 291.309, -624.717


class MaskSmoother:
    """Blends each new mask with the previous one where the new mask is uncertain."""

    def __init__(self) -> None:
        self._previous: FloatArray | None = None

    def reset(self) -> None:
        self._previous = None

    def apply(self, mask: FloatArray) -> FloatArray:
        previous = self._previous
        if previous is None or previous.shape != mask.shape:
            self._previous = mask
            return mask
        x = np.square(mask - np.float32(0.5))
        poly = x * (_C1 + x * (_C2 + x * (_C3 + x * (_C4 + x * _C5))))
        uncertainty = 1.0 - np.minimum(1.0, poly)
        smoothed: FloatArray = (mask + (previous - mask) * (uncertainty * COMBINE_WITH_PREVIOUS)).astype(
            np.float32
        )
        self._previous = smoothed
        return smoothed
