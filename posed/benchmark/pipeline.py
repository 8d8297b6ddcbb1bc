"""The whole per-frame path, and its throughput on frames held in memory.

One step is what the daemon's worker and publisher do for each camera frame:
estimate through the worker's EstimationLoop (pre-processing, inference,
decoding, tracking, smoothing; overlapped where the backend can), then build
and encode the MQTT pose document with posed.mqtt.payloads, as the publisher
does. Only the hand-over to the outbox and the network send are left out: they
run on the MQTT client's own thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from posed.benchmark.frames import replay_order
from posed.estimator import PoseEstimator
from posed.mqtt import payloads
from posed.overlap import Estimated, EstimationLoop
from posed.types import Frame, ImageArray

WARMUP_FRAMES = 5


class FrameStep:
    """Frames in, encoded MQTT payloads out, through the daemon's own EstimationLoop.

    With an estimator that overlaps (PoseNet on OpenVINO), a pushed frame may come
    back only with the next push or a flush(), as in the daemon's worker.
    """

    def __init__(
        self,
        estimator: PoseEstimator,
        backend: str,
        device_id: str = "bench",
        camera: str = "bench",
        *,
        overlap: bool = True,
    ) -> None:
        self._loop = EstimationLoop(estimator, overlap=overlap)
        self._model = estimator.model_name
        self._backend = backend
        self._device_id = device_id
        self._camera = camera
        self.people = 0  # poses found in the last finished frame

    @property
    def pending(self) -> int:
        return self._loop.pending

    @property
    def overlapping(self) -> bool:
        return self._loop.overlapping

    def push(self, frame: Frame) -> list[tuple[Frame, bytes]]:
        """Hand a frame over; the frames finished meanwhile, each with its payload."""
        return [self._encode(item) for item in self._loop.push(frame)]

    def flush(self) -> list[tuple[Frame, bytes]]:
        return [self._encode(item) for item in self._loop.flush()]

    def __call__(self, frame: Frame) -> bytes:
        """One frame from start to finish."""
        finished = self.push(frame) + self.flush()
        return finished[-1][1]

    def _encode(self, item: Estimated) -> tuple[Frame, bytes]:
        frame = item.frame
        self.people = len(item.poses)
        document = payloads.poses(
            device_id=self._device_id,
            camera=self._camera,
            frame_number=frame.number,
            captured_at=frame.wall,
            latency_ms=(time.time() - frame.wall) * 1000.0,
            inference_ms=item.estimate_ms,
            model=self._model,
            backend=self._backend,
            width=frame.width,
            height=frame.height,
            people=item.poses,
        )
        return frame, payloads.encode(document)


class PipelineTimer:
    """Feeds in-memory frames back to back through a step, in blocks, counting frames and time.

    Each frame is stamped when it is handed over, as a camera stamps its captures,
    so tracking and smoothing see real time. The process's CPU time (user and
    system, every thread: the backend's own worker threads included) is summed
    over the same blocks, for `cpu_ms_per_frame`.
    """

    def __init__(self, step: FrameStep, images: Sequence[ImageArray]) -> None:
        self._step = step
        self._images = images
        self._order = replay_order(len(images))
        self._number = 0
        self.frames = 0
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        for _ in range(WARMUP_FRAMES):
            self._next()
        self._step.flush()

    def _next(self) -> int:
        image = self._images[next(self._order)]
        finished = self._step.push(Frame(image, self._number, time.monotonic(), time.time()))
        self._number += 1
        return len(finished)

    def run_for(self, seconds: float) -> None:
        """Feed frames for `seconds`, then finish those in flight; only finished frames count."""
        cpu_start = process_cpu_seconds()
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            self.frames += self._next()
            now = time.perf_counter()
            if now >= deadline:
                self.frames += len(self._step.flush())
                self.seconds += time.perf_counter() - start
                self.cpu_seconds += process_cpu_seconds() - cpu_start
                return

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms_per_frame(self) -> float:
        return self.cpu_seconds * 1000.0 / self.frames if self.frames > 0 else 0.0


def process_cpu_seconds() -> float:
    """User + system CPU time of this whole process (all threads), in seconds."""
    times = os.times()
    return times.user + times.system
