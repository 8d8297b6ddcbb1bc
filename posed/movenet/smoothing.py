"""tfjs pose-detection's keypoint smoothing for MoveNet: one one-euro filter per coordinate.

tfjs's KeypointsOneEuroFilter with MoveNet's KEYPOINT_FILTER_CONFIG, in doubles
as JavaScript computes it, on keypoints normalised to the frame (scores are not
filtered). Its one-euro filter differs from MediaPipe's (posed.blazepose.filters):
the low-pass step is limited by a threshold, `threshold * asinh(change / threshold)`,
and the clock starts at 0, so a first frame stamped 0 passes through without
starting the filter. Timestamps are whole microseconds, as tfjs truncates them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class OneEuroConfig:
    frequency: float = 30.0
    min_cutoff: float = 2.5
    beta: float = 300.0
    derivate_cutoff: float = 2.5
    threshold_cutoff: float = 0.5
    threshold_beta: float = 5.0


MOVENET_FILTER = OneEuroConfig()  # tfjs's KEYPOINT_FILTER_CONFIG (value scaling disabled)


def _alpha(frequency: float | Array, cutoff: float | Array) -> Array:
    return np.asarray(1.0 / (1.0 + frequency / (2 * math.pi * cutoff)), dtype=np.float64)


class KeypointSmoother:
    """Filters the x and y of every keypoint; all filters of one smoother share one clock."""

    def __init__(self, config: OneEuroConfig = MOVENET_FILTER) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        self._frequency = self.config.frequency
        self._last_us = 0
        self._raw: Array | None = None  # last value given to the value filter
        self._stored: Array | None = None  # its output
        self._speed: Array | None = None  # the derivative filter's output

    def apply(self, points: npt.NDArray[np.floating], timestamp_us: int) -> Array:
        """Smoothed copy of `points` (N x 2 or more; columns 0 and 1 are filtered), at `timestamp_us`."""
        out = np.array(points, dtype=np.float64)
        if self._last_us >= timestamp_us:
            return out  # tfjs returns the value untouched and keeps its state
        if self._last_us != 0 and timestamp_us != 0:
            self._frequency = 1.0 / ((timestamp_us - self._last_us) * 1e-6)
        self._last_us = timestamp_us
        values = out[:, :2]
        if self._raw is None or self._stored is None or self._speed is None:
            # first value: the derivative is 0 and both low-pass filters start at their input
            self._raw, self._stored, self._speed = values.copy(), values.copy(), np.zeros_like(values)
            return out
        cfg = self.config
        derivative = (values - self._raw) * self._frequency
        self._speed = self._speed + _alpha(self._frequency, cfg.derivate_cutoff) * (derivative - self._speed)
        speed = np.abs(self._speed)
        alpha = _alpha(self._frequency, cfg.min_cutoff + cfg.beta * speed)
        threshold = cfg.threshold_cutoff + cfg.threshold_beta * speed
        self._stored = self._stored + alpha * threshold * np.arcsinh((values - self._stored) / threshold)
        self._raw = values.copy()
        out[:, :2] = self._stored
        return out
