"""Small frozen value objects shared by cameras, estimators and publishers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
ImageArray = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Frame:
    """One RGB frame from a camera, stamped when it was captured."""

    image: ImageArray  # H x W x 3, RGB, uint8
    number: int
    monotonic: float  # time.monotonic() at capture, seconds
    wall: float  # time.time() at capture, seconds since the epoch

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


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

    def to_dict(self, *, ndigits: int = 2) -> dict[str, Any]:
        """The documented JSON form shared by `posed estimate` and MQTT."""
        kps = self.keypoints.tolist()
        keypoints: list[dict[str, Any]] = []
        for i, (name, (x, y, s)) in enumerate(zip(self.names, kps, strict=True)):
            kp: dict[str, Any] = {
                "name": name,
                "x": round(x, ndigits),
                "y": round(y, ndigits),
                "score": round(s, 4),
            }
            if self.z is not None:
                kp["z"] = round(float(self.z[i]), ndigits)
            keypoints.append(kp)
        out: dict[str, Any] = {
            "score": round(self.score, 4),
            "box": [round(v, ndigits) for v in self.box],
            "keypoints": keypoints,
        }
        if self.keypoints3d is not None:
            out["keypoints3d"] = [
                {"name": name, "x": round(x, 4), "y": round(y, 4), "z": round(z, 4)}
                for name, (x, y, z) in zip(self.names, self.keypoints3d.tolist(), strict=True)
            ]
        return out


def box_of(points: FloatArray, width: int, height: int) -> tuple[float, float, float, float]:
    """Axis-aligned box (x, y, w, h) around (N, 2+) points, clipped to the image."""
    xs = np.clip(points[:, 0], 0, width)
    ys = np.clip(points[:, 1], 0, height)
    x0, y0 = float(xs.min()), float(ys.min())
    return (x0, y0, float(xs.max()) - x0, float(ys.max()) - y0)
