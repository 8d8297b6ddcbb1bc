"""Telemetry reports only measurements: no rate before a whole window online, none for a dead
camera, no CPU figure without a baseline, and it says when a first measurement exists."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field

from posed.cameras.status import CameraStatus
from posed.daemon.outage import Outage
from posed.daemon.telemetry import RATE_FIRST_WINDOW, RATE_WINDOW, Telemetry
from posed.stats import RollingWindow


@dataclass
class Counters:
    captured: int = 0
    dropped: int = 0
    reconnects: int = 0
    stalls: int = 0


@dataclass
class Camera:
    status: CameraStatus = CameraStatus.OFFLINE
    totals: Counters = field(default_factory=Counters)
    problem: str | None = None

    def counters(self) -> Counters:
        return self.totals


@dataclass
class Estimator:
    devices: dict[str, str] = field(default_factory=lambda: {"main": "CPU"})


@dataclass
class Worker:
    processed: int = 0
    people: int = 0
    inference_ms: RollingWindow = field(default_factory=RollingWindow)
    latency_ms: RollingWindow = field(default_factory=RollingWindow)
    estimator: Estimator = field(default_factory=Estimator)
    outage: Outage = field(default_factory=lambda: Outage("front"))
    gated: int = 0
    cpu_seconds: float = 0.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rates_only_after_a_whole_window_online() -> None:
    clock = Clock()
    telemetry = Telemetry(clock)
    camera, worker = Camera(), Worker()
    cameras, workers = {"front": camera}, {"front": worker}
    assert telemetry.sample(workers, cameras), "the first sample is news"
    snap = telemetry.snapshot(workers, cameras, backend="b").cameras[0]
    assert snap.processed_fps is None and snap.camera_fps is None and snap.inference_ms is None
    assert not telemetry.sample(workers, cameras), "nothing new"

    camera.status = CameraStatus.ONLINE
    assert telemetry.sample(workers, cameras), "a status change is news"
    clock.now += RATE_FIRST_WINDOW / 2
    camera.totals.captured, worker.processed = 15, 12
    assert not telemetry.sample(workers, cameras)
    assert telemetry.rates("front") is None, "half a window is not a measurement"
    worker.inference_ms.add(20.0)
    assert telemetry.sample(workers, cameras), "the first inference time is news"
    assert telemetry.snapshot(workers, cameras, backend="b").cameras[0].inference_ms is not None

    clock.now += RATE_FIRST_WINDOW / 2
    camera.totals.captured, worker.processed = 30, 24
    assert telemetry.sample(workers, cameras), "the first rates are news"
    rates = telemetry.rates("front")
    assert rates is not None and rates.camera_fps == 30.0 and rates.processed_fps == 24.0

    # Later windows are RATE_WINDOW long; a rate stays until then.
    clock.now += RATE_WINDOW / 2
    camera.totals.captured = 1000
    telemetry.sample(workers, cameras)
    assert telemetry.rates("front") == rates
    clock.now += RATE_WINDOW / 2
    telemetry.sample(workers, cameras)
    assert telemetry.rates("front") != rates

    # A camera that goes down has no rates until it has been back for a whole window.
    camera.status = CameraStatus.RECONNECTING
    assert telemetry.sample(workers, cameras)
    assert telemetry.snapshot(workers, cameras, backend="b").cameras[0].processed_fps is None
    camera.status = CameraStatus.ONLINE
    telemetry.sample(workers, cameras)
    assert telemetry.rates("front") is None
    assert "front: online, - fps" in telemetry.status_line(workers, cameras)


def test_cpu_is_measured_from_construction_and_memory_always() -> None:
    telemetry = Telemetry()
    first = telemetry.snapshot({}, {}, backend="b")
    assert first.cpu_percent is not None and first.rss_mb > 0
    assert telemetry.snapshot({}, {}, backend="b").cpu_percent is not None


def test_gated_frames_count_as_looked_at_and_their_rate_and_the_worker_cpu_are_reported() -> None:
    clock = Clock()
    telemetry = Telemetry(clock)
    camera, worker = Camera(), Worker()
    camera.status = CameraStatus.ONLINE
    cameras, workers = {"front": camera}, {"front": worker}
    telemetry.sample(workers, cameras)
    clock.now += RATE_FIRST_WINDOW
    # 10 frames looked at, 8 of them kept from the estimator; 0.05 s of worker CPU in 1 s.
    camera.totals.captured, worker.processed, worker.gated, worker.cpu_seconds = 10, 10, 8, 0.05
    telemetry.sample(workers, cameras)
    snap = telemetry.snapshot(workers, cameras, backend="b").cameras[0]
    assert snap.processed_fps == 10.0, "gated frames were looked at: the fps sensor counts them"
    assert snap.gated_fps == 8.0 and snap.gated_frames == 8
    assert snap.cpu_percent is not None and abs(snap.cpu_percent - 5.0) < 1e-9
    assert snap.status == "online", "a gated camera stays online"


def test_the_module_loads_numpy_ma_itself_so_a_first_percentile_opens_no_file() -> None:
    # np.percentile imports numpy.ma on its first call; a flood of connections that takes every
    # descriptor before the first stats round must not leave that import for then.
    code = "import sys, posed.daemon.telemetry\nprint('numpy.ma' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"
