"""Single-person PoseNet decoding, as tfjs does it.

Each keypoint is the heatmap argmax (the first cell on ties, like tf.argMax)
plus its short offset; its score is the sigmoid of that logit, and the pose's
score is the mean of the 17 keypoint scores. No threshold is applied.
"""

from __future__ import annotations

import numpy as np

from posed.posenet.decode_multi import DecodedPoses
from posed.posenet.layout import NUM_KEYPOINTS
from posed.posenet.maps import PoseNetMaps

_IDS = np.arange(NUM_KEYPOINTS)


def decode_single(maps: PoseNetMaps) -> DecodedPoses:
    """One pose in model-input pixels."""
    logits = maps.scores.inner.reshape(maps.height * maps.width, NUM_KEYPOINTS)
    cells = np.argmax(logits, axis=0)
    ys, xs = np.divmod(cells, maps.width)
    offsets = maps.short.data[ys, xs, _IDS]
    stride = np.float32(maps.stride)
    keypoints = np.empty((1, NUM_KEYPOINTS, 3), np.float32)
    keypoints[0, :, 0] = xs * stride + offsets.imag * stride
    keypoints[0, :, 1] = ys * stride + offsets.real * stride
    keypoints[0, :, 2] = 1.0 / (1.0 + np.exp(-logits[cells, _IDS]))
    score = keypoints[0, :, 2].sum(dtype=np.float32) / np.float32(NUM_KEYPOINTS)
    return DecodedPoses(keypoints, np.array([score], np.float32))
