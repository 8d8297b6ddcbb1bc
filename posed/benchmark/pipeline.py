"""The whole per-frame path, and its throughput on frames held in memory.

One step is what the daemon does for each camera frame: estimate (pre-processing,
inference, decoding, tracking, smoothing) and then build the MQTT payload
(`Pose.to_dict` and `json.dumps`, as the publisher does). Only the network send
is left out, since it runs on the MQTT client's own thread.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from posed.benchmark.frames import replay_order
from posed.estimator import PoseEstimator
from posed.types import Frame, ImageArray

WARMUP_FRAMES = 5


class FrameStep:
    """Frame in, MQTT payload out, as the daemon's worker does it."""

    def __init__(self, estimator: PoseEstimator, device_id: str = "bench", camera: str = "bench") -> None:
        self._estimator = estimator
        self._device_id = device_id
        self._camera = camera

    def __call__(self, frame: Frame) -> str:
        poses = self._estimator.estimate(frame.image, frame.monotonic)
        return json.dumps(
            {
                "device": self._device_id,
                "camera": self._camera,
                "frame": frame.number,
                "timestamp": round(frame.wall, 3),
                "poses": [pose.to_dict() for pose in poses],
            }
        )


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
