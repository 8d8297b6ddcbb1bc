"""The one place a pipeline calls the gate: frames -> gate -> estimator, in frame order.

Every pipeline (the daemon's worker, `posed estimate`, `posed bench`) pushes its
frames through a GatedEstimation instead of an EstimationLoop directly. A frame
the gate skips comes back at once as an Estimated with no poses and `gated`
set, after every frame still in flight, so the order of frames is kept.
"""

from __future__ import annotations

from collections.abc import Callable

from posed.estimator_contract import PoseEstimator
from posed.gate.config import MotionGateConfig
from posed.gate.stage import GateCounters, MotionGate
from posed.overlap import Estimated, EstimationLoop
from posed.types import Frame


def _nothing_in_progress() -> bool:
    return False


class GatedEstimation:
    """An EstimationLoop behind one camera's motion gate; not thread-safe.

    `in_progress()` says whether the event analyzers watch over someone the
    estimator may not see (a fall in progress); while it is true every frame runs.
    """

    def __init__(
        self,
        estimator: PoseEstimator,
        gate: MotionGate,
        *,
        overlap: bool = True,
        in_progress: Callable[[], bool] = _nothing_in_progress,
    ) -> None:
        self.loop = EstimationLoop(estimator, overlap=overlap)
        self.gate = gate
        self._in_progress = in_progress
        self._people = 0  # people in the last estimated frame

    @classmethod
    def ungated(cls, estimator: PoseEstimator, *, overlap: bool = True) -> GatedEstimation:
        """Every frame to the estimator (`--no-gate`), still counted as looked at."""
        return cls(estimator, MotionGate(MotionGateConfig(enabled=False)), overlap=overlap)

    @property
    def pending(self) -> int:
        return self.loop.pending

    @property
    def overlapping(self) -> bool:
        return self.loop.overlapping

    def counters(self) -> GateCounters:
        return self.gate.counters()

    def push(self, frame: Frame) -> list[Estimated]:
        """Hand a frame over; returns the frames finished meanwhile, oldest first."""
        watching = self._people > 0 or self._in_progress()
        if self.gate.decide(frame, watching).run:
            return self._seen(self.loop.push(frame))
        done = self._seen(self.loop.flush())  # frames in flight come out first
        done.append(Estimated(frame, [], 0.0, gated=True))
        return done

    def flush(self) -> list[Estimated]:
        return self._seen(self.loop.flush())

    def abandon(self) -> int:
        return self.loop.abandon()

    def reset(self) -> None:
        """The camera reconnected: forget the background and who was seen."""
        self.gate.reset()
        self._people = 0

    def _seen(self, done: list[Estimated]) -> list[Estimated]:
        if done:
            self._people = len(done[-1].poses)
        return done
