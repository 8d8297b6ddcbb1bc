"""SSD anchors of the BlazePose person detector.

The options are those of MediaPipe's pose_detection graph: 5 layers with strides
8, 16, 32, 32, 32 on a 224x224 input, one aspect ratio plus the interpolated one,
anchor offset 0.5 and a fixed anchor size. A fixed size makes every anchor 1 x 1,
so only the centres matter (min/max scale would only size the anchors).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from posed.types import FloatArray

DETECTOR_INPUT_SIZE = 224
DETECTOR_STRIDES = (8, 16, 32, 32, 32)
# aspect_ratios [1.0] plus the interpolated-scale anchor of aspect ratio 1.0.
ANCHORS_PER_LAYER = 2
ANCHOR_OFFSET = 0.5


def ssd_anchor_centres(
    input_size: int = DETECTOR_INPUT_SIZE,
    strides: Sequence[int] = DETECTOR_STRIDES,
    anchors_per_layer: int = ANCHORS_PER_LAYER,
) -> FloatArray:
    """(N, 2) anchor centres (x, y), normalised to the input square.

    Consecutive layers with the same stride share one feature map, so their
    anchors are interleaved per cell: for each row, for each column, every
    anchor of every layer in the group.
    """
    groups: list[FloatArray] = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        last = layer
        while last < len(strides) and strides[last] == stride:
            last += 1
        per_cell = (last - layer) * anchors_per_layer
        cells = math.ceil(input_size / stride)
        centres = (np.arange(cells, dtype=np.float64) + ANCHOR_OFFSET) / cells
        ys, xs = np.meshgrid(centres, centres, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        groups.append(np.repeat(grid, per_cell, axis=0).astype(np.float32))
        layer = last
    return np.concatenate(groups)
