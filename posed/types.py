"""Small frozen value objects shared by cameras, estimators and publishers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
ImageArray = npt.NDArray[np.uint8]


class Frame:
    """One RGB frame from a camera, stamped when it was captured.

    A source that can read a small grey copy cheaply (a reduced JPEG decode, a
    low-resolution camera stream) gives it as `preview` and passes `decode` and
    `size` instead of the image: the full image is then decoded the first time
    `image` is read, which the motion gate avoids for frames it skips. Two threads
    reading `image` at once may both decode it; each gets an equal array.
    """

    __slots__ = ("_decode", "_image", "_size", "media_time", "monotonic", "number", "preview", "wall")

    def __init__(
        self,
        image: ImageArray | None,
        number: int,
        monotonic: float,
        wall: float,
        media_time: float | None = None,
        *,
        preview: ImageArray | None = None,
        decode: Callable[[], ImageArray] | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        """`image` (H x W x 3, RGB, uint8), or None with `decode` and `size` (width, height)."""
        if image is None and (decode is None or size is None):
            raise ValueError("a frame without its image needs `decode` and `size`")
        self._image = image
        self._decode = decode
        self._size = size if image is None else (int(image.shape[1]), int(image.shape[0]))
        self.number = number
        self.monotonic = monotonic  # time.monotonic() at capture, seconds
        self.wall = wall  # time.time() at capture, seconds since the epoch
        # Seconds into a recording played faster than real time (a video with realtime: false):
        # tracking and smoothing must see the recording's own clock, not the read time.
        self.media_time = media_time
        # A small grey copy (any size) for the motion gate, when the source made one cheaply.
        self.preview = preview

    @property
    def image(self) -> ImageArray:
        """The RGB image, decoded now if the source deferred it."""
        image = self._image
        if image is None:
            assert self._decode is not None
            image = self._image = self._decode()
            self._decode = None
        return image

    @property
    def decoded(self) -> bool:
        """Whether the full image exists yet (False: only the preview was made)."""
        return self._image is not None

    @property
    def tracking_time(self) -> float:
        """The timestamp an estimator tracks and smooths on."""
        return self.monotonic if self.media_time is None else self.media_time

    @property
    def width(self) -> int:
        assert self._size is not None
        return self._size[0]

    @property
    def height(self) -> int:
        assert self._size is not None
        return self._size[1]


@dataclass(frozen=True, slots=True)
class Pose:
    """One person's pose in the pixel coordinates of the input image.

    `keypoints` is (N, 3): x, y, score. `z` is the optional per-keypoint depth in
    pixels (BlazePose), `keypoints3d` the optional world landmarks in metres.
    """

    score: float
    keypoints: FloatArray
    names: tuple[str, ...]
    box: tuple[float, float, float, float]  # x, y, w, h
    z: FloatArray | None = None
    keypoints3d: FloatArray | None = None
    # The person's identity across frames, set by the estimator's tracker; unique within a run.
    id: int | None = None

    def to_dict(self, *, ndigits: int = 2) -> dict[str, Any]:
        """The documented JSON form shared by `posed estimate` and MQTT."""
        # Rounded in one NumPy pass per array. For float32 values this equals
        # Python's round(): scaling a 24-bit mantissa by 10**4 or less is exact in
        # float64, so rint rounds the exact value half-to-even, as round() does.
        keypoints = self.keypoints
        columns = 4 if self.z is not None else 3
        table = np.empty((keypoints.shape[0], columns), dtype=np.float64)
        # Widen first: rounding a float32 array would scale it in float32.
        table[:, :3] = keypoints
        if self.z is not None:
            table[:, 3] = self.z
        np.round(table[:, :2], ndigits, out=table[:, :2])
        np.round(table[:, 2], 4, out=table[:, 2])
        if self.z is not None:
            np.round(table[:, 3], ndigits, out=table[:, 3])
        rows = table.tolist()
        if self.z is None:
            points = [
                {"name": name, "x": x, "y": y, "score": s}
                for name, (x, y, s) in zip(self.names, rows, strict=True)
            ]
        else:
            points = [
                {"name": name, "x": x, "y": y, "score": s, "z": z}
                for name, (x, y, s, z) in zip(self.names, rows, strict=True)
            ]
        out: dict[str, Any] = {} if self.id is None else {"id": self.id}
        out |= {
            "score": round(self.score, 4),
            "box": [round(v, ndigits) for v in self.box],
            "keypoints": points,
        }
        if self.keypoints3d is not None:
            world = np.round(self.keypoints3d.astype(np.float64), 4).tolist()
            out["keypoints3d"] = [
                {"name": name, "x": x, "y": y, "z": z}
                for name, (x, y, z) in zip(self.names, world, strict=True)
            ]
        return out


def box_of(points: FloatArray, width: int, height: int) -> tuple[float, float, float, float]:
    """Axis-aligned box (x, y, w, h) around (N, 2+) points, clipped to the image."""
    xs = np.clip(points[:, 0], 0, width)
    ys = np.clip(points[:, 1], 0, height)
    x0, y0 = float(xs.min()), float(ys.min())
    return (x0, y0, float(xs.max()) - x0, float(ys.max()) - y0)
