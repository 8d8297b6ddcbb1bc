"""Capture-to-publish latency with latest-frame-wins, at a camera rate below capacity.

The camera is posed's own capture machinery (posed.cameras.capture.Camera: its
thread, pacing and one-frame slot) reading a source that replays the in-memory
frames at a fixed rate. This thread plays the daemon's worker: it takes the
newest frame, runs the per-frame step and records the time from capture to the
finished payload. Below capacity the latency is about one step; near or above
it, latest-frame-wins keeps it bounded and the slot counts the drops.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from posed.benchmark.frames import replay_order
from posed.benchmark.pipeline import FrameStep
from posed.cameras.capture import Camera
from posed.cameras.config import CameraCommon
from posed.types import ImageArray


class ReplaySource:
    """A camera source replaying frames held in memory at `fps`.

    The frames are handed out without a copy: nothing in the pipeline writes to
    its input, and a copy would add work no real camera driver does twice.
    """

    lossless = False

    def __init__(self, images: Sequence[ImageArray], fps: float) -> None:
        self._images = images
        self._interval = 1.0 / fps
        self._order: Iterator[int] = replay_order(len(images))

    @property
    def description(self) -> str:
        return f"{len(self._images)} in-memory frames at {1.0 / self._interval:.1f} fps"

    @property
    def interval(self) -> float:
        return self._interval

    def open(self) -> None:
        self._order = replay_order(len(self._images))

    def read(self) -> ImageArray:
        return self._images[next(self._order)]

    def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class LatencyResult:
    latencies_ms: list[float]
    captured: int
    dropped: int
    camera_fps: float


def measure_latency(
    step: FrameStep, images: Sequence[ImageArray], camera_fps: float, seconds: float
) -> LatencyResult:
    """Run the step on the newest frames of a camera at `camera_fps` for `seconds`."""
    latencies: list[float] = []
    with Camera("bench", ReplaySource(images, camera_fps), CameraCommon()) as camera:
        camera.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            # As the daemon's worker: with a frame in flight, only a waiting frame overlaps.
            frame = camera.latest(timeout=0.0 if step.pending else 1.0)
            finished = step.flush() if frame is None else step.push(frame)
            done = time.monotonic()
            latencies.extend((done - item.monotonic) * 1000.0 for item, _ in finished)
        for item, _ in step.flush():
            latencies.append((time.monotonic() - item.monotonic) * 1000.0)
        counters = camera.counters()
    return LatencyResult(latencies, counters.captured, counters.dropped, camera_fps)
