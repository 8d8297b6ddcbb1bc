"""The daemon's side of publishing: the current publisher, swapped on reload, and what each
camera's analyzers publish (the Home Assistant entities the publisher announces)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from posed.config.loader import LoadedConfig
from posed.daemon.reload import configuration_url
from posed.events.engine import EventState
from posed.stats import StatsSnapshot
from posed.types import Frame, Pose

if TYPE_CHECKING:
    from posed.events.config import EventsConfig
    from posed.evidence.config import SnapshotsConfig
    from posed.mqtt.events_discovery import CameraEvents
    from posed.mqtt.events_topics import ResetHandler
    from posed.mqtt.publisher import Publisher


def camera_events(loaded: LoadedConfig) -> dict[str, CameraEvents]:
    """What each camera's analyzers publish: its zones, falls, exercises and gestures."""
    cfg = loaded.config
    return {
        name: events_published(cfg.events, camera.zones, cfg.snapshots)
        for name, camera in cfg.cameras.items()
    }


def events_published(
    events: EventsConfig, zones: Iterable[str], snapshots: SnapshotsConfig | None = None
) -> CameraEvents:
    """What one camera's analyzers publish with these settings and zones (also `posed demo`'s)."""
    from posed.mqtt.events_discovery import CameraEvents

    zones = tuple(zones)
    setup = CameraEvents(
        zones=zones,
        falls=events.falls.enabled,
        exercises=tuple(events.reps.exercises),
        gestures=tuple(events.gestures.definitions()),
    )
    if snapshots is None or not snapshots.enabled:
        return setup
    # Only the kinds this camera's analyzers can raise get an image entity.
    possible = {"fall": setup.falls, "gesture": bool(setup.gestures), "zone": bool(zones),
                "rep": bool(setup.exercises)}  # fmt: skip
    kinds = tuple(kind for kind in snapshots.kinds if possible[kind])
    return CameraEvents(setup.zones, setup.falls, setup.exercises, setup.gestures, kinds)


class PublisherSlot:
    """The current publisher, swapped on reload while the workers keep publishing.

    The lock makes a swap atomic for the workers: none of them can publish to a
    publisher that is being closed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._publisher: Publisher | None = None
        self._cameras: frozenset[str] = frozenset()
        self._statuses: dict[str, str] = {}

    @property
    def current(self) -> Publisher | None:
        return self._publisher

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
        with self._lock:
            # A camera the new publisher does not know is being removed by the same reload.
            if self._publisher is not None and camera in self._cameras:
                self._publisher.publish_poses(
                    camera, frame, poses, inference_ms=inference_ms, width=width, height=height
                )

    def publish_camera_status(self, camera: str, status: str) -> None:
        with self._lock:
            if camera in self._cameras:
                self._statuses[camera] = status
                if self._publisher is not None:
                    self._publisher.publish_camera_status(camera, status)

    def publish_events(self, camera: str, events: Sequence[Mapping[str, Any]], state: EventState) -> None:
        with self._lock:
            if self._publisher is not None and camera in self._cameras:
                self._publisher.publish_events(camera, events, state)

    def publish_snapshot(self, camera: str, kind: str, jpeg: bytes) -> None:
        with self._lock:
            if self._publisher is not None and camera in self._cameras:
                self._publisher.publish_snapshot(camera, kind, jpeg)

    def publish_stats(self, stats: StatsSnapshot) -> None:
        with self._lock:
            if self._publisher is not None:
                self._publisher.publish_stats(stats)

    def reconfigure(
        self, loaded: LoadedConfig, *, model: str, backend: str, on_reset: ResetHandler | None = None
    ) -> None:
        """Apply a reload on the running publisher's connection: no `offline` blink."""
        cfg = loaded.config
        cameras = list(cfg.cameras)
        with self._lock:
            if self._publisher is None:
                return
            self._publisher.reconfigure(
                cfg.mqtt,
                cameras=cameras,
                model=model,
                backend=backend,
                configuration_url=configuration_url(loaded),
                events=camera_events(loaded),
                on_reset=on_reset,
            )
            self._cameras = frozenset(cameras)
            self._statuses = {name: s for name, s in self._statuses.items() if name in cameras}

    def replace(self, new: Publisher | None, cameras: Sequence[str] = ()) -> None:
        """Close the old publisher (it publishes `offline`), then start the new one.

        In this order, so that the old client's `offline` cannot land after the new
        one's `online` on the same availability topic.
        """
        with self._lock:
            old, self._publisher = self._publisher, None
            if old is not None:
                old.close()
            if new is None:
                return
            new.start()
            self._publisher = new
            self._cameras = frozenset(cameras)
            self._statuses = {name: s for name, s in self._statuses.items() if name in cameras}
            for name, status in self._statuses.items():
                new.publish_camera_status(name, status)
