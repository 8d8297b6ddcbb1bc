"""Rates and summaries from the workers' counters: the `stats` payload and systemd's STATUS= line.

Only measurements: a camera's rates exist once it has been online for a whole
window (the first one after RATE_FIRST_WINDOW, then every RATE_WINDOW), and
are forgotten when it goes down, so a dead or new camera reports None, not 0.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# np.percentile imports numpy.ma on its first call: import it with this module, while descriptors
# are free, so the stats still work when a flood of connections has taken them all.
import numpy.ma  # noqa: F401
import psutil

from posed.cameras.status import CameraStatus
from posed.daemon.outage import Outage
from posed.stats import CameraStats, RollingWindow, StatsSnapshot

log = logging.getLogger(__name__)

RATE_FIRST_WINDOW = 1.0  # seconds online before a camera's first rates
RATE_WINDOW = 5.0  # seconds over which rates are measured after that


class _Devices(Protocol):
    @property
    def devices(self) -> Mapping[str, str]: ...


class CountingWorker(Protocol):
    """What telemetry reads of a posed.daemon.worker.Worker."""

    @property
    def processed(self) -> int: ...

    @property
    def people(self) -> int: ...

    @property
    def inference_ms(self) -> RollingWindow: ...

    @property
    def latency_ms(self) -> RollingWindow: ...

    @property
    def estimator(self) -> _Devices: ...

    @property
    def outage(self) -> Outage: ...

    @property
    def gated(self) -> int: ...

    @property
    def cpu_seconds(self) -> float: ...


class CountingCamera(Protocol):
    @property
    def status(self) -> CameraStatus: ...

    @property
    def problem(self) -> str | None: ...

    def counters(self) -> Any: ...  # CameraCounters: captured, dropped, reconnects, stalls


@dataclass(slots=True)
class _Mark:
    when: float
    captured: int
    dropped: int
    processed: int
    gated: int = 0
    cpu_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Rates:
    camera_fps: float
    processed_fps: float
    skipped_fps: float
    gated_fps: float = 0.0
    cpu_percent: float = 0.0


def camera_status(camera: CountingCamera, worker: CountingWorker | None) -> CameraStatus:
    """The camera's own status, or `degraded` while it delivers frames that cannot be inferred."""
    status = camera.status
    if status == CameraStatus.ONLINE and worker is not None and worker.outage.active:
        return CameraStatus.DEGRADED
    return status


class Telemetry:
    """Turns cumulative counters into per-second rates; `clock` is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()
        self._marks: dict[str, _Mark] = {}
        self._rates: dict[str, Rates] = {}
        self._measured: dict[str, tuple[str, bool, bool]] = {}
        self._process: Any = None
        self._usage = (0.0, 0.0)
        # psutil's first cpu_percent() only sets a baseline: take it now, so the first
        # `stats` already has a measured CPU figure, covering the time since start.
        self._process_usage()

    def sample(self, workers: Mapping[str, CountingWorker], cameras: Mapping[str, CountingCamera]) -> bool:
        """Update the rates; cheap, call as often as you like.

        True when a camera's status changed or it has a first measurement since the
        last call, i.e. when the stats are worth publishing now rather than later.
        """
        now = self._clock()
        news = False
        for name, camera in cameras.items():
            worker = workers.get(name)
            if camera.status != CameraStatus.ONLINE:
                self._marks.pop(name, None)
                self._rates.pop(name, None)
            else:
                self._update_rates(name, camera, worker, now)
            measured = (
                camera.status,
                name in self._rates,
                worker is not None and len(worker.inference_ms) > 0,
            )
            news = news or self._measured.get(name) != measured
            self._measured[name] = measured
        for gone in set(self._measured) - set(cameras):
            self._marks.pop(gone, None)
            self._rates.pop(gone, None)
            self._measured.pop(gone, None)
        return news

    def _update_rates(
        self, name: str, camera: CountingCamera, worker: CountingWorker | None, now: float
    ) -> None:
        counters = camera.counters()
        processed = worker.processed if worker is not None else 0
        gated = worker.gated if worker is not None else 0
        cpu = worker.cpu_seconds if worker is not None else 0.0
        mark = _Mark(now, counters.captured, counters.dropped, processed, gated, cpu)
        previous = self._marks.get(name)
        if previous is None:
            self._marks[name] = mark
            return
        dt = now - previous.when
        if dt < (RATE_WINDOW if name in self._rates else RATE_FIRST_WINDOW):
            return
        self._marks[name] = mark
        self._rates[name] = Rates(
            camera_fps=max(mark.captured - previous.captured, 0) / dt,
            # A restarted worker counts from zero again.
            processed_fps=max(mark.processed - previous.processed, 0) / dt,
            skipped_fps=max(mark.dropped - previous.dropped, 0) / dt,
            gated_fps=max(mark.gated - previous.gated, 0) / dt,
            cpu_percent=max(mark.cpu_seconds - previous.cpu_seconds, 0.0) / dt * 100.0,
        )

    def rates(self, name: str) -> Rates | None:
        """None until measured (see the module's docstring)."""
        return self._rates.get(name)

    def status_line(
        self, workers: Mapping[str, CountingWorker], cameras: Mapping[str, CountingCamera]
    ) -> str:
        """One line for `systemctl status`: cameras, fps, people."""
        statuses = {name: camera_status(camera, workers.get(name)) for name, camera in cameras.items()}
        online = sum(1 for status in statuses.values() if status == CameraStatus.ONLINE)
        parts = [f"{online}/{len(cameras)} cameras online"]
        for name in cameras:
            worker = workers.get(name)
            people = worker.people if worker is not None else 0
            rates = self.rates(name)
            fps = "- fps" if rates is None else f"{rates.processed_fps:.1f} fps"
            persons = "1 person" if people == 1 else f"{people} people"
            # A camera that never came up says why on every line, not only in the log's one warning.
            problem = cameras[name].problem if statuses[name] != CameraStatus.ONLINE else None
            status = f"{statuses[name]} ({problem})" if problem else statuses[name]
            parts.append(f"{name}: {status}, {fps}, {persons}")
        return "; ".join(parts)

    def snapshot(
        self,
        workers: Mapping[str, CountingWorker],
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
                    status=camera_status(camera, worker),
                    camera_fps=None if rates is None else rates.camera_fps,
                    processed_fps=None if rates is None else rates.processed_fps,
                    skipped_fps=None if rates is None else rates.skipped_fps,
                    inference_ms=worker.inference_ms.percentiles() if worker else None,
                    latency_ms=worker.latency_ms.percentiles() if worker else None,
                    reconnects=counters.reconnects,
                    stalls=counters.stalls,
                    failed_inferences=worker.outage.failed_inferences if worker else 0,
                    gated_fps=None if rates is None else rates.gated_fps,
                    gated_frames=worker.gated if worker else 0,
                    cpu_percent=None if rates is None else rates.cpu_percent,
                )
            )
        cpu, rss = self._process_usage()
        return StatsSnapshot(
            cameras=tuple(per_camera),
            backend=backend,
            devices=devices,
            cpu_percent=cpu,
            rss_mb=rss,
            uptime_s=self._clock() - self._started,
        )

    def _process_handle(self) -> Any:
        if self._process is None:
            self._process = psutil.Process()
        return self._process

    def _process_usage(self) -> tuple[float, float]:
        """CPU % and RSS in MB from /proc; the last figures when it cannot be read now.

        Reading /proc needs a file descriptor: a process that has run out of them (a flood
        of connections) must keep running and publishing, with the figures of a moment ago.
        """
        try:
            process = self._process_handle()
            self._usage = float(process.cpu_percent(None)), float(process.memory_info().rss) / (1024 * 1024)
        except OSError as exc:
            log.warning("cannot read this process's CPU and memory use now: %s", exc)
        return self._usage
