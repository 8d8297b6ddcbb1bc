"""The running parts built from a config: backend, publisher, cameras, and one worker per camera.

The daemon owns one `Parts`. It builds them in dependency order (backend, the
estimators, the publisher, the cameras, the workers) and closes them in the
reverse order. A reload builds the new pieces first and swaps them in only
when all of them could be built, so a failed reload leaves the old ones running.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from posed.backend import Backend
from posed.cameras import open_camera
from posed.cameras.status import CameraStatus
from posed.config.loader import LoadedConfig
from posed.daemon.evidence import EvidencePart
from posed.daemon.preview import PreviewPart
from posed.daemon.publishing import PublisherSlot, camera_events
from posed.daemon.reload import ReloadPlan, configuration_url
from posed.daemon.worker import Worker
from posed.errors import BackendUnavailableError
from posed.estimator import open_estimator
from posed.estimator_contract import PoseEstimator
from posed.events.stage import EventStage
from posed.gate.config import MotionGateConfig
from posed.models.resolve import model_search_path
from posed.mqtt.publisher import Publisher
from posed.people.stage import PeopleStage
from posed.plugins import load_backend

if TYPE_CHECKING:
    from posed.cameras import Camera
    from posed.mqtt.publisher import Publisher

log = logging.getLogger(__name__)

StatusCallback = Callable[[str, CameraStatus], None]
CAMERA_OPEN_WAIT = 15.0  # seconds; a stream's open_timeout is 10 s by default
CAMERA_CLOSE_SHARE = 1.0  # seconds a camera may take to close after the workers' deadline


@dataclass
class Parts:
    model_dir: Path | None
    on_status: StatusCallback
    stop_requested: Callable[[], bool]
    backend: Backend | None = None
    backend_name: str = ""
    publisher: PublisherSlot = field(default_factory=PublisherSlot)
    cameras: dict[str, Camera] = field(default_factory=dict)
    workers: dict[str, Worker] = field(default_factory=dict)
    preview: PreviewPart = field(default_factory=PreviewPart)
    no_gate: bool = False  # `--no-gate`: every frame runs, whatever the config says
    events: EventStage = field(init=False)
    # The motion gate's settings for new workers: the config's, disabled by `--no-gate`.
    gate: MotionGateConfig = field(default_factory=MotionGateConfig)
    people: PeopleStage = field(default_factory=PeopleStage)
    evidence: EvidencePart = field(init=False)

    def __post_init__(self) -> None:
        self.preview.model_dir = self.model_dir
        self.events = EventStage(self.publisher, self.preview.tap)
        self.evidence = EvidencePart(self.publisher, self.events, self.preview.tap)

    # -- building ------------------------------------------------------------------------------

    def open_backend(self, loaded: LoadedConfig) -> Backend:
        backend = load_backend(loaded.backend.type)
        status = backend.probe()
        if not status.runnable:
            fix = f"; fix: {status.fix}" if status.fix else ""
            raise BackendUnavailableError(f"backend {backend.name!r} cannot run here: {status.detail}{fix}")
        log.info("backend %s: %s", backend.name, status.detail)
        return backend

    def open_estimator(self, loaded: LoadedConfig, backend: Backend) -> PoseEstimator:
        dirs = model_search_path(cli_dir=self.model_dir, config_dir=loaded.config.model_dir)
        started = time.monotonic()
        estimator = open_estimator(loaded.config.model, backend, loaded.backend, model_dirs=dirs)
        log.info(
            "model %s loaded in %.2f s on %s",
            estimator.model_name,
            time.monotonic() - started,
            ", ".join(f"{role}={device}" for role, device in estimator.devices.items()) or "?",
        )
        return estimator

    def open_estimators(
        self, loaded: LoadedConfig, backend: Backend, names: Sequence[str]
    ) -> dict[str, PoseEstimator]:
        """One estimator per camera (tracking state is per stream); all or none."""
        opened: dict[str, PoseEstimator] = {}
        try:
            for name in names:
                opened[name] = self.open_estimator(loaded, backend)
        except BaseException:
            for estimator in opened.values():
                estimator.close()
            raise
        return opened

    def new_publisher(self, loaded: LoadedConfig, backend_name: str, model_name: str) -> Publisher:
        cfg = loaded.config
        return Publisher(
            cfg.mqtt,
            cfg.device_id,
            cameras=list(cfg.cameras),
            model=model_name,
            backend=backend_name,
            configuration_url=configuration_url(loaded),
            events=camera_events(loaded),
            on_reset=self.events.reset_reps,
        )

    def configure_events(self, loaded: LoadedConfig) -> None:
        cfg = loaded.config
        self.people.configure(cfg.people, cfg.cameras)
        self.events.configure(cfg.events, {name: camera.zones for name, camera in cfg.cameras.items()})
        gate = cfg.motion_gate
        self.gate = gate.model_copy(update={"enabled": False}) if self.no_gate else gate

    def open_camera(self, loaded: LoadedConfig, name: str) -> Camera:
        camera = open_camera(
            name, loaded.config.cameras[name], on_status=self.on_status, previews=self.gate.enabled
        )
        try:
            camera.start()
        except BaseException:
            camera.close()
            raise
        return camera

    def wait_for_cameras(self, names: Sequence[str]) -> None:
        """Wait until each camera's first open attempt is over, so READY=1 means "opened".

        Bounded: a camera that is down keeps reconnecting on its own, and the daemon
        runs (and reports ready) without it rather than failing its start.
        """
        deadline = time.monotonic() + CAMERA_OPEN_WAIT
        pending = [n for n in names if self.cameras[n].status == CameraStatus.OFFLINE]
        while pending and time.monotonic() < deadline and not self.stop_requested():
            time.sleep(0.05)
            pending = [n for n in pending if self.cameras[n].status == CameraStatus.OFFLINE]
        for name in pending:
            log.warning("camera %s: not open after %.0f s; starting without it", name, CAMERA_OPEN_WAIT)

    def start_worker(self, name: str, estimator: PoseEstimator) -> Worker:
        worker = Worker(
            self.cameras[name],
            estimator,
            self.publisher,
            self.preview.tap,
            events=self.events,
            people=self.people,
            on_status=self.publisher.publish_camera_status,
            gate=self.gate,
            in_progress=functools.partial(self.events.watching, name),
        )
        self.workers[name] = worker
        worker.start()
        return worker

    def start(self, loaded: LoadedConfig) -> None:
        """Build everything; on failure what was built stays here for `close()` to undo."""
        names = list(loaded.config.cameras)
        self.backend = self.open_backend(loaded)
        self.backend_name = self.backend.name
        estimators = self.open_estimators(loaded, self.backend, names)
        try:
            model = next(iter(estimators.values())).model_name
            self.configure_events(loaded)
            self.evidence.start(loaded)
            self.publisher.replace(self.new_publisher(loaded, self.backend_name, model), names)
            for name in names:
                if self.stop_requested():
                    return
                self.cameras[name] = self.open_camera(loaded, name)
            self.wait_for_cameras(names)
            for name in names:
                self.start_worker(name, estimators.pop(name))
            self.preview.start(loaded)
        finally:
            for estimator in estimators.values():
                estimator.close()

    def _swap_publisher(self, publisher: Publisher, old: LoadedConfig, new: LoadedConfig) -> None:
        try:
            self.publisher.replace(publisher, list(new.config.cameras))
        except BaseException:
            # The old client is closed by now and cannot restart: connect again as before.
            log.error("the new MQTT settings failed; reconnecting with the previous ones")
            model = _model_name({}, self.workers)
            self.publisher.replace(
                self.new_publisher(old, self.backend_name, model), list(old.config.cameras)
            )
            raise

    def replace_worker(self, loaded: LoadedConfig, name: str) -> Worker:
        """Give up on a worker (hung or crashed) and run a fresh estimator on its camera."""
        self.abandon_worker(name)
        assert self.backend is not None
        return self.start_worker(name, self.open_estimator(loaded, self.backend))

    def abandon_worker(self, name: str) -> None:
        """Drop a hung worker without waiting for it; its thread closes the estimator if it returns."""
        worker = self.workers.pop(name, None)
        if worker is not None:
            worker.stop()
            worker.close()

    def tick_preview(self, now: float, loaded: LoadedConfig) -> None:
        self.preview.tick(
            now,
            loaded,
            workers=self.workers,
            cameras=self.cameras,
            publisher=self.publisher.current,
            backend=self.backend_name,
        )

    # -- stopping ------------------------------------------------------------------------------

    def stop_worker(self, name: str, deadline: float) -> None:
        worker = self.workers.pop(name, None)
        if worker is None:
            return
        worker.stop()
        if not worker.join(deadline - time.monotonic()):
            log.warning("camera %s: the frame in flight did not finish in time; leaving it", name)
        worker.close()

    def close_camera(self, name: str, timeout: float = 3.0) -> None:
        camera = self.cameras.pop(name, None)
        if camera is not None:
            camera.close(max(timeout, 0.1))

    def close(self, deadline: float) -> None:
        """Reverse order of `start`: the page (its streams end now), workers (each finishes its frame),
        cameras, publisher."""
        self.preview.close()
        for worker in self.workers.values():
            worker.stop()  # all at once, so they finish their frames in parallel
        for name in list(self.workers):
            self.stop_worker(name, deadline)
        for name in reversed(list(self.cameras)):
            try:
                self.close_camera(name, deadline - time.monotonic() + CAMERA_CLOSE_SHARE)
            except Exception as exc:  # keep closing the rest; the process is ending anyway
                log.error("camera %s: close failed: %s", name, exc)
        self.evidence.close()  # after the workers: the last snapshots still reach the publisher
        self.publisher.replace(None)

    # -- reloading -----------------------------------------------------------------------------

    def apply(self, plan: ReloadPlan, old: LoadedConfig, new: LoadedConfig, deadline: float) -> None:
        """Restart what `plan` says changed. Raises, leaving the old parts, if a new one fails."""
        names = list(new.config.cameras)
        backend = self.open_backend(new) if plan.estimators else self.backend
        assert backend is not None
        fresh = set(names) if plan.estimators else {*plan.cameras_added, *plan.cameras_changed}
        estimators = self.open_estimators(new, backend, [n for n in names if n in fresh])
        try:
            publisher = None
            model = _model_name(estimators, self.workers)
            if plan.mqtt_restart:
                publisher = self.new_publisher(new, backend.name, model)
            if plan.preview:  # can fail (port taken); before anything else is touched
                self.preview.apply(old, new)
            # The publisher first: its start is the last step that can fail on bad settings
            # (password or TLS files), and until it succeeds nothing else has been touched.
            self.configure_events(new)
            self.evidence.apply(old, new)
            if publisher is not None:
                self._swap_publisher(publisher, old, new)
                self.events.republish()
            elif plan.publisher:
                # Same connection settings: same client, so the device never goes `offline`.
                self.publisher.reconfigure(
                    new, model=model, backend=backend.name, on_reset=self.events.reset_reps
                )
                self.events.republish()
            for name in [*plan.cameras_removed, *plan.cameras_changed]:
                self.stop_worker(name, deadline)
                self.close_camera(name)
            if plan.estimators:
                for name in list(self.workers):
                    self.stop_worker(name, deadline)
            self.backend, self.backend_name = backend, backend.name
            for name in [*plan.cameras_added, *plan.cameras_changed]:
                self.cameras[name] = self.open_camera(new, name)
            self.wait_for_cameras([*plan.cameras_added, *plan.cameras_changed])
            for name in names:
                if name not in self.workers and name in estimators:
                    self.start_worker(name, estimators.pop(name))
            self.preview.follow(new)  # the camera list and zones
        finally:
            for estimator in estimators.values():
                estimator.close()


def _model_name(estimators: Mapping[str, PoseEstimator], workers: Mapping[str, Worker]) -> str:
    for estimator in estimators.values():
        return estimator.model_name
    for worker in workers.values():
        return worker.estimator.model_name
    return "unknown"
