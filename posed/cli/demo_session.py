"""The running part of `posed demo`: camera -> daemon worker -> drawing, video file and MQTT.

It reuses the daemon's pieces (the camera with its capture thread, the Worker
with its overlapped estimation loop, the MQTT publisher), so what the demo
shows is what `posed run` does; only the sink is the demo's own: it draws each
frame into a video file, counts a one-line summary per second, and forwards
the poses to the broker when one answered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from posed.cli.annotate import VideoOut
from posed.draw import draw_poses
from posed.types import Frame, Pose

if TYPE_CHECKING:
    from posed.cameras import Camera
    from posed.daemon.worker import Worker
    from posed.mqtt.publisher import Publisher
    from posed.preview.tap import PreviewTap

SUMMARY_PERIOD = 1.0  # seconds between summary lines


@dataclass(slots=True)
class SecondCounts:
    frames: int = 0
    people: int = 0  # in the last frame
    latency_ms: list[float] = field(default_factory=list)
    inference_ms: list[float] = field(default_factory=list)


class DemoSink:
    """Receives every processed frame from the worker thread (a PoseSink)."""

    def __init__(
        self,
        out: VideoOut | None,
        publisher: Publisher | None,
        *,
        tap: PreviewTap | None = None,
        max_out: int | None = None,
    ) -> None:
        self._out = out
        self._publisher = publisher
        self._tap = tap
        self._max_out = max_out
        self._lock = threading.Lock()
        self._counts = SecondCounts()
        self.total_frames = 0
        self.frames_with_people = 0

    def publish_poses(
        self,
        camera: str,
        frame: Frame,
        poses: Sequence[Pose],
        *,
        inference_ms: float,
        width: int,
        height: int,
    ) -> None:
        latency = (time.monotonic() - frame.monotonic) * 1000.0
        if self._publisher is not None:
            self._publisher.publish_poses(
                camera, frame, poses, inference_ms=inference_ms, width=width, height=height
            )
        if self._tap is not None:
            self._tap.observe(camera, frame, poses)  # returns at once while nobody watches the page
        if self._out is not None and (self._max_out is None or self._out.frames < self._max_out):
            self._out.write(draw_poses(frame.image, poses))
        with self._lock:
            self._counts.frames += 1
            self._counts.people = len(poses)
            self._counts.latency_ms.append(latency)
            self._counts.inference_ms.append(inference_ms)
            self.total_frames += 1
            self.frames_with_people += bool(poses)

    def take(self) -> SecondCounts:
        """The counts since the last call, and start again."""
        with self._lock:
            counts, self._counts = self._counts, SecondCounts(people=self._counts.people)
        return counts


def summary_line(
    elapsed: float, counts: SecondCounts, period: float, mqtt: str, camera: str = "online"
) -> str:
    fps = counts.frames / period if period > 0 else 0.0
    people = f"{counts.people} {'person' if counts.people == 1 else 'people'}"
    if counts.latency_ms:
        latency = f"latency {sorted(counts.latency_ms)[len(counts.latency_ms) // 2]:.0f} ms"
        latency += f" (inference {sorted(counts.inference_ms)[len(counts.inference_ms) // 2]:.0f} ms)"
    else:
        latency = "no frame this second"
    state = "" if camera == "online" else f"  camera: {camera}"  # e.g. reconnecting to a USB camera
    return f"{elapsed:6.1f} s  {fps:5.1f} fps  {people:9}  {latency}  mqtt: {mqtt}{state}"


@dataclass(frozen=True, slots=True)
class Outcome:
    elapsed: float
    ended: str  # why it stopped: "end of the clip", "--seconds", "Ctrl-C", "error: ..."


def run_session(
    camera: Camera,
    worker: Worker,
    sink: DemoSink,
    *,
    seconds: float | None,
    mqtt_state: Callable[[], str],
    say: Callable[[str], None],
    stop_requested: Callable[[], bool],
    wait: Callable[[float], None],
    every_second: Callable[[], None] = lambda: None,
    clock: Callable[[], float] = time.monotonic,
) -> Outcome:
    """Run until the clip ends, `seconds` pass or a stop is requested (Ctrl-C); a summary line a second.

    The caller owns camera, worker and sink and closes them; this only starts and watches.
    `wait(timeout)` sleeps, returning early when a signal arrives.
    """
    camera.start()
    worker.start()
    started = last = clock()
    while True:
        now = clock()
        if stop_requested():
            return Outcome(now - started, "Ctrl-C")
        if seconds is not None and now - started >= seconds:
            return Outcome(now - started, f"--seconds {seconds:g}")
        if worker.finished:
            if worker.error is not None:
                return Outcome(now - started, f"error: {worker.error}")
            return Outcome(now - started, "end of the input")
        if now - last >= SUMMARY_PERIOD:
            say(summary_line(now - started, sink.take(), now - last, mqtt_state(), camera.status))
            every_second()
            last = now
        wake = min(last + SUMMARY_PERIOD, started + seconds if seconds is not None else float("inf"))
        wait(min(max(wake - clock(), 0.01), 0.1))
