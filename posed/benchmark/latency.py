"""Capture-to-publish latency with latest-frame-wins, at a camera rate below capacity.

A producer thread plays the part of the camera: at a fixed rate it stamps the
next in-memory frame with its capture time and puts it in a one-slot buffer,
replacing a frame the worker has not taken yet (a drop). The worker (this
thread) takes the newest frame, runs the per-frame step and records the time
from capture to the finished payload. Below capacity the latency is about one
step; near or above it, latest-frame-wins keeps it bounded and counts drops.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from posed.benchmark.frames import replay_order
from posed.benchmark.pipeline import FrameStep
from posed.types import Frame, ImageArray


class LatestFrameSlot:
    """One frame; a newer put() replaces an untaken one and counts it as dropped."""

    def __init__(self) -> None:
        self._frame: Frame | None = None
        self._ready = threading.Condition()
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self._ready:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._ready.notify()

    def take(self, timeout: float) -> Frame | None:
        with self._ready:
            if self._frame is None:
                self._ready.wait(timeout)
            frame, self._frame = self._frame, None
            return frame


@dataclass(frozen=True, slots=True)
class LatencyResult:
    latencies_ms: list[float]
    produced: int
    dropped: int
    camera_fps: float


def measure_latency(
    step: FrameStep, images: Sequence[ImageArray], camera_fps: float, seconds: float
) -> LatencyResult:
    """Run the step on frames from a simulated camera at `camera_fps` for `seconds`."""
    slot = LatestFrameSlot()
    stop = threading.Event()
    produced = 0

    def camera() -> None:
        nonlocal produced
        order = replay_order(len(images))
        period = 1.0 / camera_fps
        due = time.monotonic()
        while not stop.is_set():
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            slot.put(Frame(images[next(order)], produced, time.monotonic(), time.time()))
            produced += 1
            due += period

    thread = threading.Thread(target=camera, name="bench-camera", daemon=True)
    latencies: list[float] = []
    thread.start()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            frame = slot.take(timeout=1.0)
            if frame is None:
                continue
            step(frame)
            latencies.append((time.monotonic() - frame.monotonic) * 1000.0)
    finally:
        stop.set()
        thread.join()
    return LatencyResult(latencies, produced, slot.dropped, camera_fps)
