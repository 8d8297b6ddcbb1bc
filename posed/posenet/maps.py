"""PoseNet's output maps in the form the decoders sample them.

Coral's decoder works in grid units ("block space"): offsets are divided by the
output stride, positions are clamped to [0, h-1] x [0, w-1] and multiplied
by the stride at the end. Here each map is kept padded by one row and one
column (copies of the last ones), so a bilinear sample never needs a second
clamp, and each (dy, dx) pair is stored as one complex number, so one gather
fetches both. Buffers are allocated once and refilled every frame.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from posed.backend import Quantization
from posed.posenet.layout import NUM_EDGES, NUM_KEYPOINTS

FloatArray = npt.NDArray[np.float32]
ComplexArray = npt.NDArray[np.complex64]
IndexArray = npt.NDArray[np.intp]

# Coral's mid offsets: [fwd dy x16][fwd dx x16][bwd dy x16][bwd dx x16]. Complex
# channel e < 16 is forward edge e, 16 + e its backward edge.
_MID_DY = np.concatenate([np.arange(0, 16), np.arange(32, 48)])
_MID_DX = _MID_DY + NUM_EDGES


# From [1-fy, 1-fx, fy, fx], the weights of the top-left, top-right, bottom-left and
# bottom-right corners are products of these pairs of entries.
_WEIGHT_Y = np.array([0, 0, 2, 2], dtype=np.intp)
_WEIGHT_X = np.array([1, 3, 1, 3], dtype=np.intp)


class _Field:
    """One (h, w, C) map padded to (h+1, w+1, C), sampled bilinearly like Coral.

    Points are complex64 (y + i x) in grid units, already clamped to the grid;
    with the padding, the far corners of a point on the last row or column
    exist and get weight 0, as Coral's ceil == floor does.
    """

    def __init__(self, height: int, width: int, channels: int, dtype: type[np.generic]) -> None:
        self.height = height
        self.width = width
        self.channels = channels
        self._buffer: npt.NDArray[np.generic] = np.zeros((height + 1, width + 1, channels), dtype)
        self._flat = self._buffer.reshape(-1)
        row = (width + 1) * channels
        self._steps = np.array([row, channels], np.float32)  # flat index of (y, x) = y*row + x*C
        self._corners = np.array([0, channels, row, row + channels], dtype=np.intp)

    def pad(self) -> None:
        self._buffer[self.height, : self.width] = self._buffer[self.height - 1, : self.width]
        self._buffer[:, self.width] = self._buffer[:, self.width - 1]

    def _gather(
        self, points: ComplexArray, channel: FloatArray
    ) -> tuple[npt.NDArray[np.generic], FloatArray]:
        """The 4 corner values (n, 4) around each point and their weights (n, 1, 4)."""
        count = points.shape[0]
        yx = points.view(np.float32).reshape(count, 2)
        whole = np.floor(yx)
        frac = yx - whole
        base = (whole @ self._steps + channel).astype(np.intp)
        corners = self._flat.take(base[:, None] + self._corners)
        lerp = np.concatenate((1.0 - frac, frac), axis=1)
        weights: FloatArray = lerp.take(_WEIGHT_Y, axis=1) * lerp.take(_WEIGHT_X, axis=1)
        return corners, weights.reshape(count, 1, 4)


class RealField(_Field):
    """A map of real values (heatmap logits)."""

    def __init__(self, height: int, width: int, channels: int) -> None:
        super().__init__(height, width, channels, np.float32)
        self.data: FloatArray = self._buffer.view(np.float32)

    @property
    def inner(self) -> FloatArray:
        """The unpadded (h, w, C) view, for filling."""
        return self.data[: self.height, : self.width]

    def sample(self, points: ComplexArray, channel: FloatArray) -> FloatArray:
        """Values at `points` (n,), channel `channel[i]` (as float32) for point i."""
        corners, weights = self._gather(points, channel)
        result: FloatArray = np.matmul(weights, corners[:, :, None]).reshape(points.shape[0])
        return result


class PairField(_Field):
    """A map of (dy, dx) pairs stored as dy + i dx."""

    def __init__(self, height: int, width: int, channels: int) -> None:
        super().__init__(height, width, channels, np.complex64)
        self.data: ComplexArray = self._buffer.view(np.complex64)

    @property
    def inner(self) -> ComplexArray:
        """The unpadded (h, w, C) view, for filling."""
        return self.data[: self.height, : self.width]

    def sample(self, points: ComplexArray, channel: FloatArray) -> ComplexArray:
        """(dy, dx) at `points` (n,), channel `channel[i]` (as float32) for point i."""
        count = points.shape[0]
        corners, weights = self._gather(points, channel)
        values = np.matmul(weights, corners.view(np.float32).reshape(count, 4, 2))
        result: ComplexArray = values.reshape(count, 2).view(np.complex64).reshape(count)
        return result


class PoseNetMaps:
    """Heatmap logits, short offsets and mid offsets of one frame, in grid units."""

    def __init__(self, grid_height: int, grid_width: int, stride: int) -> None:
        self.height = grid_height
        self.width = grid_width
        self.stride = stride
        self.scores = RealField(grid_height, grid_width, NUM_KEYPOINTS)
        self.short = PairField(grid_height, grid_width, NUM_KEYPOINTS)
        self.mid = PairField(grid_height, grid_width, 2 * NUM_EDGES)
        self._scratch = np.empty((grid_height, grid_width, 4 * NUM_EDGES), np.float32)

    def set_heatmaps(self, raw: npt.NDArray[np.generic], quant: Quantization | None) -> None:
        _dequantize(raw, quant, 1.0, self.scores.inner)

    def set_short_offsets(self, raw: npt.NDArray[np.generic], quant: Quantization | None) -> None:
        floats = self._dequantized(raw, quant, 2 * NUM_KEYPOINTS)
        pairs = self.short.inner.view(np.float32)
        pairs[..., 0::2] = floats[..., :NUM_KEYPOINTS]
        pairs[..., 1::2] = floats[..., NUM_KEYPOINTS:]

    def set_mid_offsets(self, raw: npt.NDArray[np.generic], quant: Quantization | None) -> None:
        """Coral's 64-channel mid offsets."""
        floats = self._dequantized(raw, quant, 4 * NUM_EDGES)
        pairs = self.mid.inner.view(np.float32)
        pairs[..., 0::2] = floats[..., _MID_DY]
        pairs[..., 1::2] = floats[..., _MID_DX]

    def set_displacements(
        self,
        forward: npt.NDArray[np.generic],
        backward: npt.NDArray[np.generic],
        forward_quant: Quantization | None,
        backward_quant: Quantization | None,
    ) -> None:
        """tfjs's displacement_fwd and displacement_bwd (16 dy, then 16 dx, each)."""
        pairs = self.mid.inner.view(np.float32)
        for block, raw, quant in ((0, forward, forward_quant), (1, backward, backward_quant)):
            floats = self._dequantized(raw, quant, 2 * NUM_EDGES)
            start = 2 * NUM_EDGES * block
            pairs[..., start : start + 2 * NUM_EDGES : 2] = floats[..., :NUM_EDGES]
            pairs[..., start + 1 : start + 2 * NUM_EDGES : 2] = floats[..., NUM_EDGES:]

    def finish(self) -> None:
        """Pad every map after all of them were set."""
        self.scores.pad()
        self.short.pad()
        self.mid.pad()

    def _dequantized(
        self, raw: npt.NDArray[np.generic], quant: Quantization | None, channels: int
    ) -> FloatArray:
        out = self._scratch[..., :channels]
        _dequantize(raw, quant, 1.0 / self.stride, out)
        return out


def _dequantize(
    raw: npt.NDArray[np.generic], quant: Quantization | None, factor: float, out: npt.NDArray[np.generic]
) -> None:
    """out = (raw - zero_point) * scale * factor, in float32 as Coral computes it."""
    tensor = raw.reshape(raw.shape[-3:])
    if quant is None:
        np.multiply(tensor, np.float32(factor), out=out, casting="unsafe")
        return
    # Coral multiplies by float32(scale * 1/stride); the stride is a power of two, so this is exact.
    scale = np.float32(np.float32(quant.scale) * np.float32(factor))
    np.subtract(tensor, np.float32(quant.zero_point), out=out, casting="unsafe")
    np.multiply(out, scale, out=out, casting="unsafe")
