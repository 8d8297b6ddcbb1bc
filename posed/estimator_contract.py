"""What every pose estimator offers (PoseEstimator), and the optional overlapping kind.

posed.estimator opens one for a model; the worker, the motion gate and the benchmarks only
run it, through this contract.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from posed.types import ImageArray, Pose


class PoseEstimator(Protocol):
    @property
    def model_name(self) -> str: ...

    @property
    def keypoint_names(self) -> tuple[str, ...]: ...

    @property
    def devices(self) -> dict[str, str]:
        """Device really in use per model role, e.g. {"landmarks": "CPU"}."""
        ...

    def estimate(self, image: ImageArray, timestamp: float | None = None) -> list[Pose]:
        """Poses in `image` (RGB, H x W x 3 uint8), each with its person id.

        `timestamp` is the capture time in seconds, for tracking and smoothing.
        None means a still image: no tracking, no smoothing, and new ids.
        """
        ...

    def reset(self) -> None:
        """Forget tracking state, e.g. after a camera reconnect; people found afterwards get new ids."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


@runtime_checkable
class OverlappingEstimator(PoseEstimator, Protocol):
    """Optional: an estimator that can infer one image while the previous one is decoded.

    submit() prepares an image and starts its inference; collect() returns the
    poses of the oldest submitted image. posed.overlap.EstimationLoop drives it.
    """

    @property
    def can_overlap(self) -> bool:
        """True when the backend session can run in the background (posed.backend.OverlappingSession)."""
        ...

    def submit(self, image: ImageArray, timestamp: float | None = None) -> None: ...

    def collect(self) -> list[Pose]: ...
