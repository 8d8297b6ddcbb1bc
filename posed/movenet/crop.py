"""Single-pose smart cropping, as tfjs pose-detection's MoveNet does it.

The next frame is cropped around the person found in this one: a square centred
on the hips, large enough for the torso (x 1.9) and every confident keypoint
(x 1.2), never larger than reaches the farthest frame edge. When the torso is
not visible (no confident hip or no confident shoulder), or the square would be
larger than the frame, the next frame is seen whole, padded square. The crop's
corners are low-pass filtered (alpha 0.9) between frames. Regions are
(ymin, xmin, ymax, xmax), normalised to the frame; they may reach outside it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from posed.keypoints import COCO_17

Region = npt.NDArray[np.float64]  # ymin, xmin, ymax, xmax

MIN_CROP_KEYPOINT_SCORE = 0.2  # tfjs's MIN_CROP_KEYPOINT_SCORE
CROP_FILTER_ALPHA = 0.9  # tfjs's CROP_FILTER_ALPHA
TORSO_RANGE_FACTOR = 1.9
BODY_RANGE_FACTOR = 1.2

_INDEX = {name: i for i, name in enumerate(COCO_17)}
_SHOULDERS = [_INDEX["left_shoulder"], _INDEX["right_shoulder"]]
_HIPS = [_INDEX["left_hip"], _INDEX["right_hip"]]
_TORSO = [*_SHOULDERS, *_HIPS]


def initial_region(width: int, height: int, *, first_frame: bool) -> Region:
    """The first frame: the centred square; later (a lost person): the whole frame, padded square."""
    wide = width > height
    if first_frame == wide:  # the square inside a wide frame, or around a tall one
        box_h, box_w = 1.0, height / width
        y_min, x_min = 0.0, (width / 2 - height / 2) / width
    else:
        box_h, box_w = width / height, 1.0
        y_min, x_min = (height / 2 - width / 2) / height, 0.0
    return np.array([y_min, x_min, y_min + box_h, x_min + box_w])


def torso_visible(scores: npt.NDArray[np.floating]) -> bool:
    """A hip and a shoulder score above MIN_CROP_KEYPOINT_SCORE."""
    return bool(
        scores[_HIPS].max() > MIN_CROP_KEYPOINT_SCORE and scores[_SHOULDERS].max() > MIN_CROP_KEYPOINT_SCORE
    )


def next_region(keypoints: npt.NDArray[np.floating], width: int, height: int) -> Region:
    """The crop for the next frame from this frame's keypoints (17 x (x, y, score), normalised)."""
    if not torso_visible(keypoints[:, 2]):
        return initial_region(width, height, first_frame=False)
    ys = keypoints[:, 1].astype(np.float64) * height
    xs = keypoints[:, 0].astype(np.float64) * width
    centre_y = (ys[_HIPS[0]] + ys[_HIPS[1]]) / 2
    centre_x = (xs[_HIPS[0]] + xs[_HIPS[1]]) / 2
    torso_y = np.abs(centre_y - ys[_TORSO]).max()
    torso_x = np.abs(centre_x - xs[_TORSO]).max()
    confident = keypoints[:, 2] >= MIN_CROP_KEYPOINT_SCORE
    body_y = np.abs(centre_y - ys[confident]).max(initial=0.0)
    body_x = np.abs(centre_x - xs[confident]).max(initial=0.0)
    half = max(
        torso_x * TORSO_RANGE_FACTOR,
        torso_y * TORSO_RANGE_FACTOR,
        body_y * BODY_RANGE_FACTOR,
        body_x * BODY_RANGE_FACTOR,
    )
    half = min(half, max(centre_x, width - centre_x, centre_y, height - centre_y))
    if half > max(width, height) / 2:
        return initial_region(width, height, first_frame=False)
    top, left = centre_y - half, centre_x - half
    return np.array([top / height, left / width, (top + 2 * half) / height, (left + 2 * half) / width])


class RegionFilter:
    """tfjs's LowPassFilter on each corner value: stored + alpha * (value - stored); the first passes."""

    def __init__(self, alpha: float = CROP_FILTER_ALPHA) -> None:
        self.alpha = alpha
        self._stored: Region | None = None

    def reset(self) -> None:
        self._stored = None

    def apply(self, region: Region) -> Region:
        if self._stored is None:
            self._stored = region.astype(np.float64).copy()
        else:
            self._stored = self._stored + self.alpha * (region - self._stored)
        return self._stored.copy()
