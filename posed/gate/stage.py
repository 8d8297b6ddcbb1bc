"""The gate stage: decides, frame by frame, whether the pose estimator runs.

Inputs, per frame: the frame (its small grey preview when the source made one,
else its image), the frame's tracking time, and whether anyone is being watched
(the last estimated frame had people, or the event analyzers have a fall in
progress). Output: a Verdict, run or skip, with the reason. The estimator, the
analyzers and the sinks are not this stage's business: posed.gate.loop calls it,
once per frame, in front of the estimator.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from posed.gate.config import MotionGateConfig, MotionMask
from posed.gate.motion import MotionDetector, grey_copy
from posed.types import Frame

# A person seen for less than this (a detector's false positive in sensor noise lasts a few
# frames) gets no hold_seconds afterwards; one who walked in or sits there is seen for longer.
CONFIRM_SECONDS = 0.5

Reason = Literal["off", "watching", "hold", "motion", "keepalive", "still"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the estimator runs on a frame, and why."""

    run: bool
    # off: the gate is disabled; watching: someone is tracked or a fall is in progress;
    # hold: someone was seen within hold_seconds; motion: the frame moved (or is the first);
    # keepalive: no motion, but the estimator has not run for keepalive_seconds; still: skipped.
    reason: Reason


@dataclass(frozen=True, slots=True)
class GateCounters:
    """Totals since the gate was made: frames looked at, frames skipped, the gate's own CPU time."""

    looked: int
    gated: int
    cpu_seconds: float


class MotionGate:
    """One camera's gate; not thread-safe (its pipeline's thread owns it)."""

    def __init__(self, config: MotionGateConfig, masks: Sequence[MotionMask] = ()) -> None:
        self.config = config
        self._detector = MotionDetector(config, masks)
        self._last_run: float | None = None
        self._last_watched: float | None = None
        self._watched_since: float | None = None  # start of the current (or last) watched stretch
        self._hold_until: float | None = None
        self._looked = 0
        self._gated = 0
        self._cpu = 0.0

    @classmethod
    def for_camera(cls, config: MotionGateConfig, camera: str) -> MotionGate:
        return cls(config, config.masks.get(camera, ()))

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    def counters(self) -> GateCounters:
        return GateCounters(self._looked, self._gated, self._cpu)

    def reset(self) -> None:
        """Forget the background and the timers: the next frame runs (after a reconnect)."""
        self._detector.reset()
        self._last_run = None
        self._last_watched = None
        self._watched_since = None
        self._hold_until = None

    def decide(self, frame: Frame, watching: bool) -> Verdict:
        """The verdict on `frame`; `watching`: someone is tracked or a fall is in progress."""
        self._looked += 1
        if not self.config.enabled:
            return Verdict(True, "off")
        started = time.thread_time()
        now = frame.tracking_time
        # Measured on every frame, watched or not, so the background is current when people leave.
        source = frame.preview if frame.preview is not None else frame.image
        moved = self._detector.update(grey_copy(source, self.config.width), now).moved
        verdict = self._verdict(now, watching, moved)
        if verdict.run:
            self._last_run = now
        else:
            self._gated += 1
        self._cpu += time.thread_time() - started
        return verdict

    def _verdict(self, now: float, watching: bool, moved: bool) -> Verdict:
        config = self.config
        if watching:
            if self._last_watched is None or self._watched_since is None:
                self._watched_since = now
            self._last_watched = now
            return Verdict(True, "watching")
        if self._last_watched is not None and self._watched_since is not None:
            # The watched stretch just ended: hold only after someone seen long enough to be real.
            if self._last_watched - self._watched_since >= min(CONFIRM_SECONDS, config.hold_seconds):
                self._hold_until = self._last_watched + config.hold_seconds
            self._last_watched = self._watched_since = None
        if self._hold_until is not None and now < self._hold_until:
            return Verdict(True, "hold")
        if moved:
            return Verdict(True, "motion")
        if self._last_run is None or now - self._last_run >= config.keepalive_seconds:
            return Verdict(True, "keepalive")
        return Verdict(False, "still")
