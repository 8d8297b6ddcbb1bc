"""MediaPipe 0.10.14's image crop, sample for sample: OpenCV 3.4's fixed-point warpPerspective.

MediaPipe's ImageToTensorCalculator (OpenCV converter) takes the corners of the
ROI with `RotatedRect::points` (float32), builds the transform with
`getPerspectiveTransform` and samples the uint8 image with `warpPerspective`
(bilinear). The wheel links OpenCV 3.4, whose warpPerspective computes every
source coordinate in double, rounds it to 1/32 px and then blends the four
neighbours with 15-bit integer weights. The OpenCV in our wheels samples
differently (its warpAffine rounds the matrix to 10 bits; its warpPerspective
interpolates in float), and near the detector's threshold a few LSB move the
ROI by pixels. So the coordinates are computed here the way 3.4 does, and
`cv2.remap` with fixed-point maps (CV_16SC2 + interpolation-table index), whose
integer blend is unchanged since 3.4, does the sampling.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from posed.types import ImageArray

F32 = np.float32
Scalar = float | np.float32
INTER_BITS = 5  # OpenCV's INTER_BITS: source coordinates in 1/32 px
INTER_TAB_SIZE = 1 << INTER_BITS
# warpPerspective works in blocks of 64 x 16 output pixels (BLOCK_SZ 32): the
# row part of each coordinate is summed at the block's first column, then the
# column offset inside the block is added. The order of those double additions
# decides a rounding now and then, so it is kept.
BLOCK_WIDTH = 64
# saturate_cast<short> of the pixel part bounds the fixed-point coordinate.
FIXED_MIN = -32768.0 * INTER_TAB_SIZE
FIXED_MAX = 32767.0 * INTER_TAB_SIZE + INTER_TAB_SIZE - 1
TAME_LIMIT_PX = 16384.0


def rect_corners(
    center_x: Scalar, center_y: Scalar, width: Scalar, height: Scalar, rotation: Scalar
) -> npt.NDArray[np.float32]:
    """`cv::RotatedRect(center, size, rotation * 180.f / M_PI).points()` in float32.

    Order: bottom-left, top-left, top-right, bottom-right of the upright rect.
    """
    cx, cy, w, h = F32(center_x), F32(center_y), F32(width), F32(height)
    degrees = F32(float(F32(rotation) * F32(180.0)) / math.pi)
    radians = float(degrees) * math.pi / 180.0
    b = F32(math.cos(radians)) * F32(0.5)
    a = F32(math.sin(radians)) * F32(0.5)
    p0x = cx - a * h - b * w
    p0y = cy + b * h - a * w
    p1x = cx + a * h - b * w
    p1y = cy - b * h - a * w
    two = F32(2.0)
    return np.array(
        [[p0x, p0y], [p1x, p1y], [two * cx - p0x, two * cy - p0y], [two * cx - p1x, two * cy - p1y]],
        dtype=np.float32,
    )


def crop_to_image_matrix(
    corners: npt.NDArray[np.float32], out_width: int, out_height: int
) -> npt.NDArray[np.float64]:
    """The 3x3 map from crop pixels to image pixels that warpPerspective samples with."""
    w, h = float(out_width), float(out_height)
    crop = np.array([[0.0, h], [0.0, 0.0], [w, 0.0], [w, h]], dtype=np.float32)
    forward = cv2.getPerspectiveTransform(corners, crop)
    # warpPerspective without WARP_INVERSE_MAP inverts the matrix itself (LU).
    _, inverse = cv2.invert(forward, flags=cv2.DECOMP_LU)
    return np.asarray(inverse, dtype=np.float64)


class PerspectiveSampler:
    """Cuts crops of one output size; owns the coordinate buffers, so one per crop size."""

    def __init__(self, out_width: int, out_height: int) -> None:
        self.width = out_width
        self.height = out_height
        self._rows = np.arange(out_height, dtype=np.float64)
        self._in_block = np.arange(min(BLOCK_WIDTH, out_width), dtype=np.float64)
        self._blocks = [(x, min(x + BLOCK_WIDTH, out_width)) for x in range(0, out_width, BLOCK_WIDTH)]
        # Widths that are whole blocks (the 256 crop) take a faster path with the same sums.
        self._whole_blocks = out_width % BLOCK_WIDTH == 0
        self._block_starts = np.array([start for start, _ in self._blocks], dtype=np.float64)
        self._block_shape = (out_height, len(self._blocks), min(BLOCK_WIDTH, out_width))
        shape = (out_height, out_width)
        self._w = np.empty(shape)
        self._x = np.empty(shape)
        self._y = np.empty(shape)
        self._x32 = np.empty(shape, dtype=np.float32)
        self._y32 = np.empty(shape, dtype=np.float32)
        self._source_box: tuple[int, int, int, int] | None = None
        self.map_xy = np.empty((out_height, out_width, 2), dtype=np.int16)
        self.map_table = np.empty(shape, dtype=np.uint16)

    def build_maps(self, matrix: npt.NDArray[np.float64]) -> None:
        """Fill the fixed-point maps for `matrix` (crop -> image), as 3.4's WarpPerspectiveInvoker."""
        m0, m1, m2, m3, m4, m5, m6, m7, m8 = (float(v) for v in matrix.ravel())
        rows, w, x, y = self._rows, self._w, self._x, self._y
        if self._whole_blocks:
            # One call per plane on a (rows, blocks, 64) view: the block start as a column.
            starts, inside = self._block_starts[None, :, None], self._in_block[None, None, :]
            column = rows[:, None, None]
            np.add((m6 * starts + m7 * column) + m8, m6 * inside, out=w.reshape(self._block_shape))
            np.add((m0 * starts + m1 * column) + m2, m0 * inside, out=x.reshape(self._block_shape))
            np.add((m3 * starts + m4 * column) + m5, m3 * inside, out=y.reshape(self._block_shape))
        else:
            for start, stop in self._blocks:
                within = self._in_block[: stop - start]
                # Per row at the block start: X0 = M0 x + M1 y + M2 (likewise Y0, W0), then + M x1.
                np.add(((m6 * start + m7 * rows) + m8)[:, None], m6 * within, out=w[:, start:stop])
                np.add(((m0 * start + m1 * rows) + m2)[:, None], m0 * within, out=x[:, start:stop])
                np.add(((m3 * start + m4 * rows) + m5)[:, None], m3 * within, out=y[:, start:stop])
        tame = self._tame(matrix)
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(float(INTER_TAB_SIZE), w, out=w)
        if not tame:
            w[~np.isfinite(w)] = 0.0  # OpenCV: W ? INTER_TAB_SIZE / W : 0
        for value, pixels in ((x, self._x32), (y, self._y32)):
            np.multiply(value, w, out=value)
            if not tame:
                # saturate_cast<int>, then saturate_cast<short> of the pixel part.
                np.clip(value, FIXED_MIN, FIXED_MAX, out=value)
            np.rint(value, out=value)  # cvRound: half to even
            # In 1/32 px the rounded coordinate is exact in float32 (|value| < 2**24), so
            # convertMaps, which rounds value * 32, gets it back unchanged and splits it into
            # the pixel part and the interpolation-table index (fraction of y * 32 + of x).
            np.multiply(value, 1.0 / INTER_TAB_SIZE, out=pixels, casting="same_kind")
        cv2.convertMaps(self._x32, self._y32, cv2.CV_16SC2, dstmap1=self.map_xy, dstmap2=self.map_table)

    def _tame(self, matrix: npt.NDArray[np.float64]) -> bool:
        """Whether no output pixel needs OpenCV's saturation or W == 0 case.

        The map is projective, so over the crop W changes sign only if it does
        between corners, and coordinates are largest at the corners: checking
        the four corners (with a wide margin) spares passes over the maps.
        Also notes the source region the crop reads, for `sample`'s prefetch.
        """
        self._source_box = None
        w, h = float(self.width), float(self.height)
        corners = np.array([[0.0, 0.0, 1.0], [w, 0.0, 1.0], [0.0, h, 1.0], [w, h, 1.0]]) @ matrix.T
        depth = corners[:, 2]
        if not (np.all(depth > 0) or np.all(depth < 0)):
            return False
        points = corners[:, :2] / depth[:, None]
        if not np.all(np.abs(points) < TAME_LIMIT_PX):
            return False
        low = np.floor(points.min(axis=0)) - 1
        high = np.ceil(points.max(axis=0)) + 2
        self._source_box = (int(low[0]), int(low[1]), int(high[0]), int(high[1]))
        return True

    def sample(self, image: ImageArray, out: ImageArray, *, border: int) -> None:
        """Sample `image` through the current maps into `out` (uint8, this sampler's size)."""
        self._prefetch(image)
        cv2.remap(
            image,
            self.map_xy,
            self.map_table,
            cv2.INTER_LINEAR,
            dst=out,
            borderMode=border,
            borderValue=(0, 0, 0),
        )

    def _prefetch(self, image: ImageArray) -> None:
        """Stream the image region the crop will sample into the cache.

        A camera frame is usually not in cache any more when its crop is cut
        (the model run in between evicts it), and the rotated gather defeats the
        hardware prefetcher: on a 720p frame a warp takes ~0.85 ms from memory
        but ~0.25 ms from cache, while one sequential pass over the region costs
        ~0.13 ms. Reading the crop's bounding box first is the cheaper way round.
        """
        if self._source_box is None:
            return
        x0, y0, x1, y1 = self._source_box
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, int(image.shape[1])), min(y1, int(image.shape[0]))
        if x0 < x1 and y0 < y1:
            cv2.sumElems(image[y0:y1, x0:x1])
