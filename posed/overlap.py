"""Frames through an estimator, overlapping one frame's inference with the last one's decoding.

The daemon's worker and `posed bench` both drive estimators through this loop,
so the benchmark measures the daemon's own path.

With an OverlappingEstimator whose backend can run in the background (PoseNet on
OpenVINO), a frame that is already waiting is submitted before the previous one
is collected: the model runs on the new frame while Python decodes and publishes
the old one. A frame is never held back to wait for a later one: when nothing is
waiting the caller flushes, so overlapping adds throughput under load and no
latency when the camera is slower than the model. Other estimators run one
frame at a time through estimate().
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from posed.backend import MAX_IN_FLIGHT
from posed.errors import BackendError
from posed.estimator_contract import OverlappingEstimator, PoseEstimator
from posed.types import Frame, Pose


@dataclass(frozen=True, slots=True)
class Estimated:
    """One frame's poses, and the time from handing the frame over to its poses being ready.

    `gated`: the motion gate skipped the estimator (nobody was watched and nothing
    moved), so the frame has no poses, as the estimator finds none in a still, empty view.
    """

    frame: Frame
    poses: list[Pose]
    estimate_ms: float
    gated: bool = False


class EstimationLoop:
    """Feeds frames to one estimator, which it does not own; not thread-safe."""

    def __init__(self, estimator: PoseEstimator, *, overlap: bool = True) -> None:
        """`overlap=False` runs one frame at a time even where the backend could overlap."""
        self.estimator = estimator
        self.overlapping = overlap and isinstance(estimator, OverlappingEstimator) and estimator.can_overlap
        # Narrowed once here: a runtime Protocol isinstance per frame costs tens of microseconds.
        self._overlapped: OverlappingEstimator | None = None
        if self.overlapping:
            assert isinstance(estimator, OverlappingEstimator)
            self._overlapped = estimator
        self._in_flight: deque[tuple[Frame, float]] = deque()

    @property
    def pending(self) -> int:
        """Frames handed over whose poses have not been returned yet."""
        return len(self._in_flight)

    def push(self, frame: Frame) -> list[Estimated]:
        """Hand a frame over; returns the frames finished meanwhile (oldest first, maybe none)."""
        started = time.monotonic()
        estimator = self._overlapped
        if estimator is None:
            poses = self.estimator.estimate(frame.image, frame.tracking_time)
            return [Estimated(frame, poses, (time.monotonic() - started) * 1000.0)]
        estimator.submit(frame.image, frame.tracking_time)
        self._in_flight.append((frame, started))
        if len(self._in_flight) < MAX_IN_FLIGHT:
            return []
        return [self._collect(estimator)]

    def flush(self) -> list[Estimated]:
        """Finish every frame in flight, oldest first."""
        estimator = self._overlapped
        if estimator is None or not self._in_flight:
            return []
        return [self._collect(estimator) for _ in range(len(self._in_flight))]

    def abandon(self) -> int:
        """Drop every frame in flight after a failure, keeping estimator and session in step.

        Each is still collected, so the estimator's and the session's queues stay aligned;
        a collect that fails too (the backend is away) has dequeued its run all the same.
        Returns the number of frames dropped.
        """
        dropped = len(self._in_flight)
        estimator = self._overlapped
        while self._in_flight:
            self._in_flight.popleft()
            assert estimator is not None  # nothing is in flight without overlapping
            try:
                estimator.collect()
            except BackendError:
                continue
        return dropped

    def _collect(self, estimator: OverlappingEstimator) -> Estimated:
        frame, started = self._in_flight.popleft()
        poses = estimator.collect()
        return Estimated(frame, poses, (time.monotonic() - started) * 1000.0)
