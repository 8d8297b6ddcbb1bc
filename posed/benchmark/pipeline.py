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
from dataclasses import dataclass

import numpy as np

from posed.backend import InferenceSession
from posed.benchmark.frames import replay_order
from posed.benchmark.inference import RawTimer
from posed.estimator_contract import PoseEstimator
from posed.gate.config import MotionGateConfig
from posed.gate.loop import GatedEstimation
from posed.gate.stage import MotionGate
from posed.mqtt import payloads
from posed.overlap import Estimated
from posed.types import Frame, ImageArray

WARMUP_FRAMES = 5


class FrameStep:
    """Frames in, encoded MQTT payloads out, through the daemon's own gate and EstimationLoop.

    With an estimator that overlaps (PoseNet on OpenVINO), a pushed frame may come
    back only with the next push or a flush(), as in the daemon's worker. `gate`:
    the motion gate's settings (None: off, every frame to the estimator).
    """

    def __init__(
        self,
        estimator: PoseEstimator,
        backend: str,
        device_id: str = "bench",
        camera: str = "bench",
        *,
        overlap: bool = True,
        gate: MotionGateConfig | None = None,
    ) -> None:
        settings = gate if gate is not None else MotionGateConfig(enabled=False)
        self._loop = GatedEstimation(estimator, MotionGate(settings), overlap=overlap)
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

    @property
    def gated(self) -> int:
        """Frames the motion gate kept from the estimator so far."""
        return self._loop.counters().gated

    @property
    def looked(self) -> int:
        """Frames pushed so far."""
        return self._loop.counters().looked

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

    Each frame is stamped when it is handed over, as a camera stamps its captures;
    with `clip_fps`, its media time rises by 1/clip_fps per frame, so tracking,
    smoothing and the motion gate's keep-alive see the clip's own clock, as for a
    camera at that rate (or a file read with `realtime: false`). The process's CPU time (user and
    system, every thread: the backend's own worker threads included) is summed
    over the same blocks, for `cpu_ms_per_frame`.
    """

    def __init__(self, step: FrameStep, images: Sequence[ImageArray], clip_fps: float | None = None) -> None:
        self._step = step
        self._frame_time = None if clip_fps is None else 1.0 / clip_fps
        self._images = images
        self._order = replay_order(len(images))
        self._number = 0
        self.frames = 0
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.gated = 0  # of `frames`, those the motion gate kept from the estimator
        for _ in range(WARMUP_FRAMES):
            self._next()
        self._step.flush()

    def _next(self) -> int:
        image = self._images[next(self._order)]
        media = None if self._frame_time is None else self._number * self._frame_time
        finished = self._step.push(Frame(image, self._number, time.monotonic(), time.time(), media))
        self._number += 1
        return len(finished)

    def run_for(self, seconds: float) -> None:
        """Feed frames for `seconds`, then finish those in flight; only finished frames count."""
        cpu_start = process_cpu_seconds()
        gated_start = self._step.gated
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            self.frames += self._next()
            now = time.perf_counter()
            if now >= deadline:
                self.frames += len(self._step.flush())
                self.seconds += time.perf_counter() - start
                self.cpu_seconds += process_cpu_seconds() - cpu_start
                self.gated += self._step.gated - gated_start
                return

    def run_frames(self, count: int) -> None:
        """Feed `count` frames and finish them, untimed (the caller measures a group of steps)."""
        for _ in range(count):
            self._next()
        self._step.flush()

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def gated_fraction(self) -> float:
        return self.gated / self.frames if self.frames > 0 else 0.0

    @property
    def cpu_ms_per_frame(self) -> float:
        return self.cpu_seconds * 1000.0 / self.frames if self.frames > 0 else 0.0


def process_cpu_seconds() -> float:
    """User + system CPU time of this whole process (all threads), in seconds."""
    times = os.times()
    return times.user + times.system


@dataclass(frozen=True)
class OverlapFigures:
    raw_p50_ms: float  # one inference alone, the session's round trip
    overlapping: bool  # whether the daemon path could overlap on this estimator
    overlapped_fps: float  # the daemon path, overlapped where it can
    sequential_fps: float  # the daemon path, one frame at a time


def measure_overlap(
    estimator: PoseEstimator,
    backend: str,
    session: InferenceSession,
    images: Sequence[ImageArray],
    seconds: float,
    *,
    block_seconds: float = 0.5,
) -> OverlapFigures:
    """The raw round trip and the daemon path with and without overlap.

    The three run in interleaved blocks, so that the machine's load changes
    touch all three alike and their ratios hold on a busy machine.
    """
    overlapped_step = FrameStep(estimator, backend)
    overlapped = PipelineTimer(overlapped_step, images)
    sequential = PipelineTimer(FrameStep(estimator, backend, overlap=False), images)
    raw = RawTimer(session)
    for _ in range(max(1, round(seconds / block_seconds))):
        raw.run_for(block_seconds)
        overlapped.run_for(block_seconds)
        sequential.run_for(block_seconds)
    return OverlapFigures(
        raw_p50_ms=float(np.percentile(raw.samples_ms, 50)),
        overlapping=overlapped_step.overlapping,
        overlapped_fps=overlapped.fps,
        sequential_fps=sequential.fps,
    )
