"""Tracking between frames: landmark smoothing and the next frame's region of interest.

Follows MediaPipe 0.10.14's pose_landmark_filtering and pose_landmarks_to_roi
graphs. While a person is tracked, the crop for frame n+1 comes from the
smoothed auxiliary landmarks of frame n and the detector does not run.
Landmarks are normalised float32 (x, y to the image, z to its width), as
MediaPipe's NormalizedLandmark; the filters work in pixels, as its
LandmarksSmoothingCalculator converts them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from posed.blazepose.filters import LowPassFilter, OneEuroFilter
from posed.blazepose.landmarks import AUX_CENTER, AUX_SCALE, NUM_BODY
from posed.blazepose.roi import NormRect, alignment_rect, enlarged_rect, object_scale

F32 = np.float32


def _proto_float(value: float) -> float:
    """A `float` field of LandmarksSmoothingCalculatorOptions, as the C++ filter's double sees it.

    The filters compute in double, but their parameters come from float proto
    fields: min_cutoff 0.05 is 0.05000000074505806 there, which shifts every
    alpha in the last bits.
    """
    return float(F32(value))


# pose_landmark_filtering.pbtxt. Body landmarks: ~0.01 alpha when still, ~0.94 when moving fast.
BODY_FILTER = {"min_cutoff": _proto_float(0.05), "beta": 80.0, "derivate_cutoff": 1.0}
# Auxiliary landmarks are smoothed harder, so the crop is steady when the person is still.
AUX_FILTER = {"min_cutoff": _proto_float(0.01), "beta": 10.0, "derivate_cutoff": 1.0}
# World landmarks are metres (disable_value_scaling): their speed is not scaled by the person's size.
WORLD_FILTER = {"min_cutoff": _proto_float(0.1), "beta": 40.0, "derivate_cutoff": 1.0}
VISIBILITY_ALPHA = 0.1
MIN_OBJECT_SCALE = _proto_float(1e-6)

Floats = npt.NDArray[np.float32]


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

    def apply(
        self, landmarks: Floats, world: Floats, timestamp_ns: int, image_width: int, image_height: int
    ) -> tuple[Floats, Floats]:
        """Smoothed copies of `landmarks` (35, 5: normalised x, y, z, visibility, presence) and `world`.

        The auxiliary landmarks are always smoothed, as in MediaPipe, because they
        steer the next crop; `smooth_landmarks` covers the body and world landmarks.
        """
        out = landmarks.copy()
        # OBJECT_SCALE_ROI: the alignment rect of the unsmoothed auxiliary landmarks.
        aux_rect = alignment_rect(
            _point(landmarks[AUX_CENTER]), _point(landmarks[AUX_SCALE]), image_width, image_height
        )
        scale = object_scale(aux_rect, image_width, image_height)
        value_scale = float(F32(1.0) / F32(scale)) if scale >= MIN_OBJECT_SCALE else 0.0
        size = np.array([image_width, image_height, image_width], dtype=np.float32)
        if value_scale:
            out[AUX_CENTER:, :3] = (
                self._aux.apply(landmarks[AUX_CENTER:, :3] * size, timestamp_ns, value_scale) / size
            )
        if not self.smooth_landmarks:
            return out, world
        out[:NUM_BODY, 3] = self._visibility.apply(landmarks[:NUM_BODY, 3])
        if value_scale:
            out[:NUM_BODY, :3] = (
                self._body.apply(landmarks[:NUM_BODY, :3] * size, timestamp_ns, value_scale) / size
            )
        return out, self._world.apply(world, timestamp_ns)


class Tracker:
    """The region of interest carried from one frame to the next, and the smoother."""

    def __init__(self, *, smooth_landmarks: bool) -> None:
        self.rect: NormRect | None = None
        self.smoother = PoseSmoother(smooth_landmarks=smooth_landmarks)

    def reset(self) -> None:
        self.rect = None
        self.smoother.reset()

    def update(
        self, landmarks: Floats, world: Floats, timestamp_ns: int, image_width: int, image_height: int
    ) -> tuple[Floats, Floats]:
        """Smooth this frame's landmarks and derive the next frame's crop from them."""
        landmarks, world = self.smoother.apply(landmarks, world, timestamp_ns, image_width, image_height)
        rect = enlarged_rect(
            alignment_rect(
                _point(landmarks[AUX_CENTER]), _point(landmarks[AUX_SCALE]), image_width, image_height
            ),
            image_width,
            image_height,
        )
        # A collapsed crop cannot hold a person: fall back to the detector next frame.
        self.rect = rect if rect.is_valid(image_width, image_height) else None
        return landmarks, world


def _aux_rect(landmarks: Floats, image_width: int, image_height: int) -> NormRect:
    """The alignment rect of the auxiliary landmarks (LandmarksToDetection + AlignmentPointsRects)."""
    return alignment_rect(
        _point(landmarks[AUX_CENTER]), _point(landmarks[AUX_SCALE]), image_width, image_height
    )


def _point(row: Floats) -> tuple[float, float]:
    return float(row[0]), float(row[1])
