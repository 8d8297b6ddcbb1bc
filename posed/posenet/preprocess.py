"""Turn an RGB image into PoseNet's input tensor.

The whole image is resized to the model's W x H, without padding, by nearest
neighbour sampled at pixel centres (OpenCV's INTER_NEAREST_EXACT, which picks
the same source pixels as PIL's NEAREST). That is how Coral's reference poses
were made; OpenCV's plain INTER_NEAREST samples pixel corners and moves
keypoints by several pixels. Quantized models take the raw pixels, float
MobileNet models pixels scaled to [-1, 1], float ResNet50 models pixels minus
the ImageNet mean, as tfjs feeds them. Buffers are allocated once.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from posed.posenet.layout import PoseNetLayout
from posed.types import ImageArray

RESIZE_INTERPOLATION = cv2.INTER_NEAREST_EXACT
# tfjs adds this to ResNet50's input (the ImageNet mean, negated).
RESNET_MEAN = np.array([-123.15, -115.90, -103.06], np.float32)


class InputBuilder:
    def __init__(self, layout: PoseNetLayout) -> None:
        self.layout = layout
        self._resized: ImageArray = np.empty((layout.input_height, layout.input_width, 3), np.uint8)
        self._tensor: npt.NDArray[np.generic]
        if layout.input_mode == "uint8":
            self._tensor = self._resized[None]
        elif layout.input_mode == "int8":
            self._tensor = np.empty((1, *self._resized.shape), np.int8)
        else:
            self._tensor = np.empty((1, *self._resized.shape), np.float32)

    def __call__(self, image: ImageArray) -> npt.NDArray[np.generic]:
        """The input tensor for `image` (RGB, H x W x 3, uint8); valid until the next call."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image H x W x 3, got {image.dtype} {image.shape}")
        if image.shape[:2] == self._resized.shape[:2]:
            np.copyto(self._resized, image)
        else:
            cv2.resize(image, self.layout.input_size, dst=self._resized, interpolation=RESIZE_INTERPOLATION)
        mode = self.layout.input_mode
        if mode == "int8":
            np.subtract(self._resized, 128, out=self._tensor[0], casting="unsafe")
        elif mode == "float_unit":
            np.multiply(self._resized, np.float32(1 / 127.5), out=self._tensor[0])
            np.subtract(self._tensor, np.float32(1.0), out=self._tensor)
        elif mode == "float_resnet":
            np.add(self._resized, RESNET_MEAN, out=self._tensor[0])
        return self._tensor
