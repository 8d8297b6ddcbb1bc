"""Motion on a small grey copy of each frame, against a running-average background.

Pure image arithmetic, no clock and no threads: every call takes the frame's time.
One frame costs a few tenths of a millisecond at the default 160-pixel width:

1. Brightness is matched to the background first (the ratio of the means), so a
   flickering light or an exposure step that changes the whole image is no motion.
2. The difference to the background, less its median, is compared with a threshold
   relative to this frame's noise (the median absolute deviation of the difference,
   robust while less than half of the image changes), never below `min_delta`.
3. Masked and clipped pixels never count; isolated pixels are removed by an opening; motion is
   one connected region of at least `min_area` of the unmasked image.
4. The background follows the scene with time constant `background_seconds`,
   whatever the frame rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from posed.gate.config import MotionGateConfig, MotionMask
from posed.types import ImageArray

# The median absolute deviation of Gaussian noise is 0.6745 sigma.
MAD_TO_SIGMA = 1.4826
_OPEN = np.ones((3, 3), dtype=np.uint8)
SATURATED = 250.0  # grey level from which a pixel is taken as clipped

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Motion:
    """What one frame showed: whether it moved, and the figures behind the verdict."""

    moved: bool
    area: float  # the largest changed region, as a fraction of the unmasked image
    noise: float  # this frame's noise, grey levels (sigma of its difference to the background)
    threshold: float  # the grey-level change a pixel needed


def grey_copy(image: ImageArray, width: int) -> ImageArray:
    """`image` (RGB or already grey) as a grey image `width` pixels wide.

    Shrinking the colour image first and converting the few pixels left is cheaper
    than converting the whole frame. Bilinear shrinking reads 2x2 pixels per output
    pixel: at 1280x720 it costs a twentieth of an area average (measured) and still
    halves sensor noise; the threshold follows the noise that is left.
    """
    height = max(1, round(image.shape[0] * width / image.shape[1]))
    small = image
    if image.shape[1] != width or image.shape[0] != height:
        small = np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.uint8)
    if small.ndim == 3:
        return np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    return small


def mask_image(masks: Sequence[MotionMask], width: int, height: int) -> npt.NDArray[np.bool_]:
    """True where motion counts: everywhere but inside the masks (normalized polygons)."""
    drawn = np.zeros((height, width), dtype=np.uint8)
    for mask in masks:
        corners = np.array([[x * width, y * height] for x, y in mask.points], dtype=np.float64)
        cv2.fillPoly(drawn, [np.round(corners).astype(np.int32)], 1)
    return np.asarray(drawn == 0)


class MotionDetector:
    """One camera's background and the motion of each new grey copy against it; not thread-safe."""

    def __init__(self, config: MotionGateConfig, masks: Sequence[MotionMask] = ()) -> None:
        self._config = config
        self._masks = tuple(masks)
        self._background: Floats | None = None
        self._counted: npt.NDArray[np.bool_] | None = None  # unmasked pixels
        self._counted_u8: ImageArray | None = None
        self._counted_sample: npt.NDArray[np.bool_] | None = None
        self._counted_pixels = 0
        self._last_time = 0.0

    def reset(self) -> None:
        """Forget the background (a camera reconnected: the view may have changed)."""
        self._background = None

    def update(self, grey: ImageArray, now: float) -> Motion:
        """Compare `grey` (from grey_copy) with the background, then blend it in.

        The first frame, or one of a new size, has no background to compare with and
        counts as motion: the caller learns nothing about it otherwise.
        """
        current = grey.astype(np.float32)
        background = self._background
        if background is None or background.shape != current.shape:
            self._start(current, now)
            return Motion(True, 1.0, 0.0, 0.0)
        assert self._counted is not None and self._counted_u8 is not None and self._counted_sample is not None
        config = self._config
        mask = self._counted_u8 if self._masks else None  # cv2.mean is 10x faster without one
        level = float(cv2.mean(background, mask=mask)[0])
        mean = float(cv2.mean(current, mask=mask)[0])
        gain = level / mean if mean > 1.0 else 1.0
        matched = current * gain
        diff = matched - background
        # Medians of every other pixel in each direction (np.partition: the middle element is
        # all a robust estimate needs): as robust, a tenth of np.median's cost (measured).
        sample = diff[::2, ::2][self._counted_sample]
        middle = sample.size // 2
        offset = float(np.partition(sample, middle)[middle])
        spread = np.abs(sample - offset)
        noise = MAD_TO_SIGMA * float(np.partition(spread, middle)[middle])
        deviation = np.abs(diff - offset)
        threshold = max(float(config.min_delta), config.noise_multiple * noise)
        changed = (deviation > threshold).astype(np.uint8)
        changed &= self._counted_u8
        # A clipped pixel (a window, a lamp) cannot follow the brightness: not evidence of motion.
        # Matched up to the clip level, a pixel dimmed below it was clipped at full brightness.
        brightest = np.maximum(matched if gain >= 1.0 else current, background)
        changed[brightest >= SATURATED] = 0
        area = self._largest_region(changed)
        self._blend(current, now)
        return Motion(area >= config.min_area, area, noise, threshold)

    def _start(self, current: Floats, now: float) -> None:
        height, width = current.shape
        self._background = current.copy()
        self._counted = mask_image(self._masks, width, height)
        self._counted_u8 = self._counted.astype(np.uint8)
        self._counted_sample = self._counted[::2, ::2]
        self._counted_pixels = max(int(self._counted.sum()), 1)
        self._last_time = now

    def _largest_region(self, changed: ImageArray) -> float:
        """The largest 8-connected changed region after an opening, as a fraction of the counted pixels."""
        needed = self._config.min_area * self._counted_pixels
        if int(cv2.countNonZero(changed)) < needed:
            return float(cv2.countNonZero(changed)) / self._counted_pixels  # cannot reach min_area
        opened = cv2.morphologyEx(changed, cv2.MORPH_OPEN, _OPEN)
        count, _, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
        if count <= 1:
            return 0.0
        return float(stats[1:, cv2.CC_STAT_AREA].max()) / self._counted_pixels

    def _blend(self, current: Floats, now: float) -> None:
        """Move the background towards `current` by the share of the time constant that passed."""
        assert self._background is not None
        elapsed = max(now - self._last_time, 0.0)
        self._last_time = now
        alpha = 1.0 - math.exp(-elapsed / self._config.background_seconds)
        if alpha > 0.0:
            cv2.accumulateWeighted(current, self._background, alpha)
