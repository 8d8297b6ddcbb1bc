"""The whole per-frame path, and its throughput on frames held in memory.

One step is what the daemon's worker and publisher do for each camera frame:
estimate (pre-processing, inference, decoding, tracking, smoothing), then build
and encode the MQTT pose document with posed.mqtt.payloads, as the publisher
does. Only the hand-over to the outbox and the network send are left out: they
run on the MQTT client's own thread.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from posed.benchmark.frames import replay_order
from posed.estimator import PoseEstimator
from posed.mqtt import payloads
from posed.types import Frame, ImageArray

WARMUP_FRAMES = 5


class FrameStep:
    """Frame in, encoded MQTT payload out, as the daemon does it."""

    def __init__(
        self, estimator: PoseEstimator, backend: str, device_id: str = "bench", camera: str = "bench"
    ) -> None:
        self._estimator = estimator
        self._backend = backend
        self._device_id = device_id
        self._camera = camera
        self.people = 0  # poses found in the last frame

    def __call__(self, frame: Frame) -> bytes:
        started = time.monotonic()
        poses = self._estimator.estimate(frame.image, frame.monotonic)
        inference_ms = (time.monotonic() - started) * 1000.0
        self.people = len(poses)
        document = payloads.poses(
            device_id=self._device_id,
            camera=self._camera,
            frame_number=frame.number,
            captured_at=frame.wall,
            latency_ms=(time.time() - frame.wall) * 1000.0,
            inference_ms=inference_ms,
            model=self._estimator.model_name,
            backend=self._backend,
            width=frame.width,
            height=frame.height,
            people=poses,
        )
        return payloads.encode(document)


class PipelineTimer:
    """Feeds in-memory frames back to back through a step, in blocks, counting frames and time.

    Each frame is stamped when it is handed over, as a camera stamps its captures,
    so tracking and smoothing see real time.
    """

    def __init__(self, step: FrameStep, images: Sequence[ImageArray]) -> None:
        self._step = step
        self._images = images
        self._order = replay_order(len(images))
        self._number = 0
        self.frames = 0
        self.seconds = 0.0
        for _ in range(WARMUP_FRAMES):
            self._next()

    def _next(self) -> None:
        image = self._images[next(self._order)]
        self._step(Frame(image, self._number, time.monotonic(), time.time()))
        self._number += 1

    def run_for(self, seconds: float) -> None:
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            self._next()
            self.frames += 1
            now = time.perf_counter()
            if now >= deadline:
                self.seconds += now - start
                return

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0
