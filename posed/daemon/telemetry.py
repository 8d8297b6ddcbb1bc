"""Rates and summaries from the workers' counters: the `stats` payload and systemd's STATUS= line."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from posed.daemon.worker import Worker
from posed.stats import CameraStats, Percentiles, StatsSnapshot

_NONE = Percentiles(0.0, 0.0)


class CountingCamera(Protocol):
    @property
    def status(self) -> str: ...

    def counters(self) -> Any: ...  # CameraCounters: captured, dropped, reconnects, stalls


@dataclass(slots=True)
class _Mark:
    when: float
    captured: int
    dropped: int
    processed: int


@dataclass(frozen=True, slots=True)
class Rates:
    camera_fps: float
    processed_fps: float
    skipped_fps: float


class Telemetry:
    """Turns cumulative counters into per-second rates between two calls."""

    def __init__(self) -> None:
        self._started = time.monotonic()
        self._marks: dict[str, _Mark] = {}
        self._rates: dict[str, Rates] = {}
        self._process: Any = None
        self._process_usage()  # primes cpu_percent, so the first `stats` covers the time since start

    def sample(self, workers: Mapping[str, Worker], cameras: Mapping[str, CountingCamera]) -> None:
        """Update the rates; call every few seconds."""
        now = time.monotonic()
        for name, camera in cameras.items():
            counters = camera.counters()
            worker = workers.get(name)
            processed = worker.processed if worker is not None else 0
            mark = _Mark(now, counters.captured, counters.dropped, processed)
            previous = self._marks.get(name)
            self._marks[name] = mark
            if previous is None or now <= previous.when:
                continue
            dt = now - previous.when
            self._rates[name] = Rates(
                camera_fps=max(mark.captured - previous.captured, 0) / dt,
                # A restarted worker counts from zero again.
                processed_fps=max(mark.processed - previous.processed, 0) / dt,
                skipped_fps=max(mark.dropped - previous.dropped, 0) / dt,
            )
        for gone in set(self._marks) - set(cameras):
            self._marks.pop(gone, None)
            self._rates.pop(gone, None)

    def rates(self, name: str) -> Rates:
        return self._rates.get(name, Rates(0.0, 0.0, 0.0))

    def status_line(self, workers: Mapping[str, Worker], cameras: Mapping[str, CountingCamera]) -> str:
        """One line for `systemctl status`: cameras, fps, people."""
        online = sum(1 for camera in cameras.values() if camera.status == "online")
        parts = [f"{online}/{len(cameras)} cameras online"]
        for name, camera in cameras.items():
            worker = workers.get(name)
            people = worker.people if worker is not None else 0
            fps = self.rates(name).processed_fps
            parts.append(f"{name}: {camera.status}, {fps:.1f} fps, {people} people")
        return "; ".join(parts)

    def snapshot(
        self,
        workers: Mapping[str, Worker],
        cameras: Mapping[str, CountingCamera],
        *,
        backend: str,
    ) -> StatsSnapshot:
        per_camera = []
        devices: dict[str, str] = {}
        for name, camera in cameras.items():
            counters = camera.counters()
            worker = workers.get(name)
            rates = self.rates(name)
            if worker is not None:
                devices.update(worker.estimator.devices)
            per_camera.append(
                CameraStats(
                    camera=name,
                    status=camera.status,
                    camera_fps=rates.camera_fps,
                    processed_fps=rates.processed_fps,
                    skipped_fps=rates.skipped_fps,
                    inference_ms=worker.inference_ms.percentiles() if worker else _NONE,
                    latency_ms=worker.latency_ms.percentiles() if worker else _NONE,
                    reconnects=counters.reconnects,
                    stalls=counters.stalls,
                )
            )
        cpu, rss = self._process_usage()
        return StatsSnapshot(
            cameras=tuple(per_camera),
            backend=backend,
            devices=devices,
            cpu_percent=cpu,
            rss_mb=rss,
            uptime_s=time.monotonic() - self._started,
        )

    def _process_usage(self) -> tuple[float, float]:
        import psutil  # deferred: not an import-time cost of `posed`

        if self._process is None:
            self._process = psutil.Process()
            self._process.cpu_percent(None)  # the first call only sets the baseline
        cpu = float(self._process.cpu_percent(None))
        rss = float(self._process.memory_info().rss) / (1024 * 1024)
        return cpu, rss
