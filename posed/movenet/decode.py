"""MoveNet's raw output as poses, in coordinates normalised to the frame.

Keypoints come out as (x, y, score) rows, the order posed uses everywhere;
MoveNet writes (y, x, score). Scores follow tfjs pose-detection:
- single pose: the mean score of the keypoints scoring above 0.2 (0 if none);
- MultiPose: the score of the person's box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from posed.movenet.crop import MIN_CROP_KEYPOINT_SCORE, Region
from posed.movenet.layout import INSTANCE_VALUES, NUM_KEYPOINTS, VALUES_PER_KEYPOINT

Array = npt.NDArray[np.float64]
_BOX = NUM_KEYPOINTS * VALUES_PER_KEYPOINT


@dataclass(frozen=True, slots=True)
class DecodedPoses:
    keypoints: Array  # P x 17 x 3: x, y (normalised to the frame), score
    scores: Array  # P
    boxes: Array  # P x 4: xmin, ymin, xmax, ymax, normalised to the frame

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def _xy_score(raw: Array) -> Array:
    """(..., 17, 3) rows of (y, x, score) as (x, y, score)."""
    return raw[..., [1, 0, 2]]


def single_pose(output: npt.NDArray[np.generic], region: Region) -> DecodedPoses:
    """The one pose of a single-pose output [1, 1, 17, 3] run on the crop `region` of the frame."""
    raw = np.asarray(output, dtype=np.float64).reshape(NUM_KEYPOINTS, VALUES_PER_KEYPOINT)
    keypoints = _xy_score(raw)
    y_min, x_min, y_max, x_max = (float(v) for v in region)
    keypoints[:, 0] = x_min + keypoints[:, 0] * (x_max - x_min)
    keypoints[:, 1] = y_min + keypoints[:, 1] * (y_max - y_min)
    valid = keypoints[:, 2] > MIN_CROP_KEYPOINT_SCORE
    score = float(keypoints[valid, 2].mean()) if valid.any() else 0.0
    box = np.concatenate([keypoints[:, :2].min(axis=0), keypoints[:, :2].max(axis=0)])
    return DecodedPoses(keypoints[None], np.array([score]), box[None])


def multi_pose(output: npt.NDArray[np.generic], scale: tuple[float, float], min_score: float) -> DecodedPoses:
    """The people of a MultiPose output [1, N, 56] scoring at least `min_score`.

    `scale` (y, x) takes coordinates normalised to the padded input to ones normalised
    to the frame (the padding lies at the bottom or right, so no offset is needed).
    tfjs maps the keypoints back and leaves the boxes in padded-input units; posed maps
    both, so a box frames its keypoints.
    """
    rows = np.asarray(output, dtype=np.float64).reshape(-1, INSTANCE_VALUES)
    rows = rows[rows[:, _BOX + 4] >= min_score]
    scale_y, scale_x = scale
    keypoints = _xy_score(rows[:, :_BOX].reshape(-1, NUM_KEYPOINTS, VALUES_PER_KEYPOINT))
    keypoints[:, :, 0] *= scale_x
    keypoints[:, :, 1] *= scale_y
    y_min, x_min, y_max, x_max = (rows[:, _BOX + i] for i in range(4))
    boxes = np.stack([x_min * scale_x, y_min * scale_y, x_max * scale_x, y_max * scale_y], axis=1)
    return DecodedPoses(keypoints, rows[:, _BOX + 4].copy(), boxes)
