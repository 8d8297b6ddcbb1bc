"""Tracking between frames: landmark smoothing and the next frame's region of interest.

Follows MediaPipe's pose_landmark_filtering and pose_landmarks_to_roi graphs.
While a person is tracked, the crop for frame n+1 comes from the smoothed
auxiliary landmarks of frame n and the detector does not run.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from posed.blazepose.filters import LowPassFilter, OneEuroFilter
from posed.blazepose.landmarks import AUX_CENTER, AUX_SCALE, NUM_BODY
from posed.blazepose.roi import Roi, alignment_roi, object_scale

# MediaPipe's settings. Body landmarks: ~0.01 alpha when still, ~0.94 when moving fast.
BODY_FILTER = {"min_cutoff": 0.05, "beta": 80.0, "derivate_cutoff": 1.0}
# Auxiliary landmarks are smoothed harder, so the crop is steady when the person is still.
AUX_FILTER = {"min_cutoff": 0.01, "beta": 10.0, "derivate_cutoff": 1.0}
# World landmarks are metres, so their speed is not scaled by the person's size in the image.
WORLD_FILTER = {"min_cutoff": 0.1, "beta": 40.0, "derivate_cutoff": 1.0}
VISIBILITY_ALPHA = 0.1
MIN_OBJECT_SCALE = 1e-6

Array = npt.NDArray[np.float64]


class PoseSmoother:
    """Smooths one person's landmarks over time; reset it whenever tracking is lost."""

    def __init__(self, *, smooth_landmarks: bool) -> None:
        self.smooth_landmarks = smooth_landmarks
        self._visibility = LowPassFilter((NUM_BODY,), VISIBILITY_ALPHA)
        self._body = OneEuroFilter((NUM_BODY, 3), **BODY_FILTER)
        self._aux = OneEuroFilter((2, 3), **AUX_FILTER)
        self._world = OneEuroFilter((NUM_BODY, 3), **WORLD_FILTER)

    def reset(self) -> None:
        self._visibility.reset()
        self._body.reset()
        self._aux.reset()
        self._world.reset()

    def apply(self, landmarks: Array, world: Array, timestamp_ns: int) -> tuple[Array, Array]:
        """Smoothed copies of `landmarks` (35, 4: x, y, z px, visibility) and `world` (33, 3).

        The auxiliary landmarks are always smoothed, as in MediaPipe, because they
        steer the next crop; `smooth_landmarks` covers the body and world landmarks.
        """
        out = landmarks.copy()
        # The speed scale is the unsmoothed alignment box of the auxiliary landmarks.
        scale = object_scale(_point(landmarks[AUX_CENTER]), _point(landmarks[AUX_SCALE]))
        scaled = scale >= MIN_OBJECT_SCALE
        if scaled:
            out[AUX_CENTER:, :3] = self._aux.apply(landmarks[AUX_CENTER:, :3], timestamp_ns, 1.0 / scale)
        if not self.smooth_landmarks:
            return out, world
        out[:NUM_BODY, 3] = self._visibility.apply(landmarks[:NUM_BODY, 3])
        if scaled:
            out[:NUM_BODY, :3] = self._body.apply(landmarks[:NUM_BODY, :3], timestamp_ns, 1.0 / scale)
        return out, self._world.apply(world, timestamp_ns)


class Tracker:
    """The region of interest carried from one frame to the next, and the smoother."""

    def __init__(self, *, smooth_landmarks: bool) -> None:
        self.roi: Roi | None = None
        self.smoother = PoseSmoother(smooth_landmarks=smooth_landmarks)

    def reset(self) -> None:
        self.roi = None
        self.smoother.reset()

    def update(self, landmarks: Array, world: Array, timestamp_ns: int) -> tuple[Array, Array]:
        """Smooth this frame's landmarks and derive the next frame's crop from them."""
        landmarks, world = self.smoother.apply(landmarks, world, timestamp_ns)
        roi = alignment_roi(_point(landmarks[AUX_CENTER]), _point(landmarks[AUX_SCALE]))
        # A collapsed crop cannot hold a person: fall back to the detector next frame.
        self.roi = roi if roi.is_valid else None
        return landmarks, world


def _point(row: Array) -> tuple[float, float]:
    return float(row[0]), float(row[1])
