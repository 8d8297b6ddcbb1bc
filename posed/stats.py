"""Counters and rolling percentiles for the `stats` topic.

These are the values the daemon measures; the MQTT publisher adds its own
counters (reconnects, dropped messages) when it builds the stats payload.
A value that has not been measured yet (no frame, no full rate window, no CPU
baseline) is None, never a made-up 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from posed.cameras.status import CameraStatus


@dataclass(frozen=True, slots=True)
class Percentiles:
    p50: float
    p95: float


@dataclass(frozen=True, slots=True)
class CameraStats:
    camera: str
    status: CameraStatus
    camera_fps: float | None  # frames the camera delivered per second
    processed_fps: float | None  # frames looked at per second (estimated, or skipped by the gate)
    skipped_fps: float | None  # frames dropped by latest-frame-wins per second
    inference_ms: Percentiles | None
    latency_ms: Percentiles | None  # capture to publish
    reconnects: int
    stalls: int
    failed_inferences: int = 0  # the backend was unreachable (remote inference)
    gated_fps: float | None = None  # of processed_fps, frames the motion gate kept from the estimator
    gated_frames: int = 0  # since the worker started
    cpu_percent: float | None = None  # the camera's worker thread, % of one core


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    cameras: tuple[CameraStats, ...]
    backend: str
    devices: Mapping[str, str]  # model role -> device really in use
    cpu_percent: float | None
    rss_mb: float
    uptime_s: float


@dataclass(frozen=True, slots=True)
class MqttCounters:
    """The MQTT client's own counters, as the `stats` document reports them."""

    connected: bool
    reconnects: int  # successful connections after the first
    dropped: int  # pose messages lost: queue overflow while the broker was away, or refused
    queued: int  # pose messages waiting
    events_dropped: int = 0  # events lost: more than mqtt.event_queue_size waited, or refused
    events_queued: int = 0  # events waiting (they go out before any pose)


NO_MQTT = MqttCounters(connected=False, reconnects=0, dropped=0, queued=0)


class RollingWindow:
    """The last `size` samples in a preallocated ring, for cheap percentiles."""

    def __init__(self, size: int = 512) -> None:
        self._values = np.zeros(size, dtype=np.float64)
        self._count = 0

    def add(self, value: float) -> None:
        self._values[self._count % self._values.size] = value
        self._count += 1

    def __len__(self) -> int:
        return min(self._count, self._values.size)

    def percentiles(self) -> Percentiles | None:
        """None before the first sample."""
        n = len(self)
        if n == 0:
            return None
        p50, p95 = np.percentile(self._values[:n], [50, 95])
        return Percentiles(float(p50), float(p95))
