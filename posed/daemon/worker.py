"""One camera's processing loop: newest frame -> estimator -> people -> publisher, in its own thread.

The thread can hang inside a model run (a wedged accelerator, a driver bug),
and Python cannot kill a thread. So the worker exposes how long the current
inference has been running, the supervisor gives up on it after hang_timeout,
and the estimator passes to the hung thread, which closes it if it ever returns.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from posed.cameras import EndOfStream
from posed.cameras.status import CameraStatus
from posed.daemon.outage import Outage
from posed.errors import BackendUnreachableError, InferenceFailedError
from posed.estimator_contract import PoseEstimator
from posed.gate.config import MotionGateConfig
from posed.gate.loop import GatedEstimation
from posed.gate.stage import MotionGate
from posed.overlap import Estimated
from posed.stats import RollingWindow
from posed.types import Frame, Pose

log = logging.getLogger(__name__)

FRAME_WAIT = 0.25  # seconds; bounds how long a stop request waits on an idle camera


class FrameSource(Protocol):
    @property
    def name(self) -> str: ...

    def latest(self, timeout: float) -> Frame | None: ...


class PoseSink(Protocol):
    def publish_poses(
        self,
        camera: str,
        frame: Frame,
        poses: Sequence[Pose],
        *,
        inference_ms: float,
        width: int,
        height: int,
    ) -> None: ...


class PeopleFilter(Protocol):
    """Which of a frame's poses are people (posed.people.stage); runs before anything reports them."""

    def people(self, camera: str, frame: Frame, poses: Sequence[Pose]) -> list[Pose]: ...


class FrameObserver(Protocol):
    """Sees every processed frame after it is published (the preview's tap); must return at once."""

    def observe(self, camera: str, frame: Frame, poses: Sequence[Pose]) -> None: ...


class Worker:
    """Owns an estimator and the thread that runs it on one camera's frames.

    The camera and the sink belong to the caller. `close()` after `stop()`:
    it closes the estimator, or hands it to the thread if that is stuck.
    """

    def __init__(
        self,
        camera: FrameSource,
        estimator: PoseEstimator,
        sink: PoseSink,
        observer: FrameObserver | None = None,
        *,
        events: FrameObserver | None = None,
        people: PeopleFilter | None = None,
        on_status: Callable[[str, CameraStatus], None] | None = None,
        gate: MotionGateConfig | None = None,
        in_progress: Callable[[], bool] | None = None,
    ) -> None:
        """`on_status(camera, status)` hears `degraded` when the backend stops answering and
        `online` when it answers again (the camera's own states come from the camera).

        `gate`: the motion gate's settings (None: every frame runs); `in_progress()` says
        whether the event analyzers watch over someone (a fall), which keeps the gate open."""
        self.camera = camera
        self.name = camera.name
        self.estimator = estimator
        self._sink = sink
        self._observer = observer
        self._events = events  # the event analyzers (posed.events.stage), after the poses
        self._people = people  # drops phantoms before the poses go anywhere (posed.people.stage)
        self._on_status = on_status
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._done = True  # until the thread runs: nothing to hand over
        self._orphaned = False
        self._closed = False
        self._reset_requested = False
        self._busy_since: float | None = None
        self._cpu_start = 0.0
        self._thread = threading.Thread(target=self._run, name=f"worker-{self.name}", daemon=True)
        self.last_beat = time.monotonic()
        self.end_of_stream = False
        self.error: BaseException | None = None
        self.processed = 0
        self.people = 0
        self.inference_ms = RollingWindow()
        self.latency_ms = RollingWindow()
        self.outage = Outage(self.name)
        config = gate if gate is not None else MotionGateConfig(enabled=False)
        self.gate = MotionGate.for_camera(config, self.name)
        self._in_progress = in_progress
        self.gated = 0  # frames the gate kept from the estimator
        self.cpu_seconds = 0.0  # CPU time of this worker's thread (gate, estimator, publishing)

    def start(self) -> None:
        with self._lock:
            self._done = False
        self.last_beat = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to end after the frame in flight is published."""
        self._stop.set()

    def join(self, timeout: float) -> bool:
        self._thread.join(max(timeout, 0.0))
        return not self._thread.is_alive()

    @property
    def finished(self) -> bool:
        with self._lock:
            return self._done

    def busy_for(self, now: float) -> float | None:
        """Seconds the inference in progress has run, or None between inferences."""
        since = self._busy_since
        return None if since is None else now - since

    def request_reset(self) -> None:
        """Forget tracking before the next frame (the camera reconnected)."""
        self._reset_requested = True

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if not self._done:
                # The thread is still inside the estimator; closing it under its feet could
                # crash the runtime. The thread closes it when (if) it returns.
                self._orphaned = True
                return
        self.estimator.close()

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # reported to the supervisor, which restarts or exits
            self.error = exc
            log.error("camera %s: processing failed: %s", self.name, exc, exc_info=exc)
        finally:
            self._busy_since = None
            with self._lock:
                self._done = True
                orphaned = self._orphaned
            if orphaned:
                log.warning("camera %s: a hung inference returned; closing its estimator", self.name)
                self.estimator.close()

    def _loop(self) -> None:
        frames = GatedEstimation(self.estimator, self.gate, in_progress=self._in_progress or (lambda: False))
        self._cpu_start = time.thread_time()
        # Orphaned: the supervisor gave up on this thread and a new worker owns the camera.
        while not self._stop.is_set() and not self._orphaned:
            try:
                if not self._round(frames):
                    return
            except InferenceFailedError as exc:
                # A remote backend is away or answered nonsense: drop what is in flight, wait,
                # and try the next frame. Tracking restarts afterwards: the frames in between
                # are gone. Never a worker failure: that would spend the restart budget.
                starting = not self.outage.active
                unreachable = isinstance(exc, BackendUnreachableError)
                delay = self.outage.failed(str(exc), frames.abandon(), unreachable=unreachable)
                if starting and self._on_status is not None:
                    self._on_status(self.name, CameraStatus.DEGRADED)
                self._pause(delay)
                self._reset_requested = True
        if not self._orphaned:
            self._publish(self._timed(frames.flush))

    def _pause(self, seconds: float) -> None:
        """Wait, still beating for the watchdog, unless asked to stop."""
        until = time.monotonic() + seconds
        while not self._stop.is_set() and (left := until - time.monotonic()) > 0:
            self.last_beat = time.monotonic()
            self._stop.wait(min(left, FRAME_WAIT))

    def _round(self, frames: GatedEstimation) -> bool:
        """One frame (or none) through the estimator; False at the end of the stream."""
        clock = time.monotonic
        self.last_beat = clock()
        try:
            # With a frame in flight, only a frame already waiting is worth overlapping.
            frame = self.camera.latest(0.0 if frames.pending else FRAME_WAIT)
        except EndOfStream:
            self._publish(self._timed(frames.flush))
            log.info("camera %s: end of stream", self.name)
            self.end_of_stream = True
            return False
        if frame is None:
            if frames.pending:
                self._publish(self._timed(frames.flush))
            return True
        if self._reset_requested:
            self._reset_requested = False
            self._publish(self._timed(frames.flush))
            self.estimator.reset()
            frames.reset()
        self._publish(self._timed(functools.partial(frames.push, frame)))
        return True

    def _timed(self, work: Callable[[], list[Estimated]]) -> list[Estimated]:
        """Run estimator work, exposing how long it has been running to the hang watchdog."""
        self._busy_since = time.monotonic()
        try:
            return work()
        finally:
            self._busy_since = None

    def _publish(self, done: list[Estimated]) -> None:
        clock = time.monotonic
        for item in done:
            if self._orphaned:
                return
            frame = item.frame
            poses = item.poses if self._people is None else self._people.people(self.name, frame, item.poses)
            self._sink.publish_poses(
                self.name,
                frame,
                poses,
                inference_ms=item.estimate_ms,
                width=frame.width,
                height=frame.height,
            )
            if self._events is not None:
                self._events.observe(self.name, frame, poses)
            if self._observer is not None:
                self._observer.observe(self.name, frame, poses)
            self.latency_ms.add((clock() - frame.monotonic) * 1000.0)
            if item.gated:
                self.gated += 1
            else:
                self.inference_ms.add(item.estimate_ms)
            self.people = len(poses)
            self.processed += 1  # frames looked at, gated or not
            self.cpu_seconds = time.thread_time() - self._cpu_start
            self.last_beat = clock()
            if self.outage.active:
                self.outage.recovered()
                if self._on_status is not None:
                    self._on_status(self.name, CameraStatus.ONLINE)
