"""The preview page as one of the daemon's parts.

The tap always exists and every worker feeds it (for free while nobody watches);
the web server runs only with `preview.enabled`. A reload that changes `preview:`
restarts the server alone: the workers keep their tap.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posed.config.loader import LoadedConfig
from posed.daemon.telemetry import CountingCamera, Telemetry
from posed.daemon.worker import Worker
from posed.errors import PreviewError
from posed.preview.config import PreviewConfig
from posed.preview.tap import CameraView, PreviewTap

if TYPE_CHECKING:
    from posed.mqtt.publisher import Publisher
    from posed.preview.server import PreviewServer

log = logging.getLogger(__name__)

STATS_PERIOD = 2.0  # seconds between refreshes of the page's stats while it is served


def camera_views(loaded: LoadedConfig) -> dict[str, CameraView]:
    views = {}
    for name, camera in loaded.config.cameras.items():
        views[name] = CameraView(
            zones={
                zone: tuple((float(x), float(y)) for x, y in z.points) for zone, z in camera.zones.items()
            },
            privacy=camera.privacy,
        )
    return views


def request_reload() -> None:
    """A saved zone is applied as a user's `systemctl reload posed` would: a SIGHUP to ourselves."""
    os.kill(os.getpid(), signal.SIGHUP)


def open_server(config: PreviewConfig, tap: PreviewTap, editing: LoadedConfig | None = None,
                model_dir: Path | None = None) -> PreviewServer:  # fmt: skip
    """The page's server; with `editing` (the daemon's config) and `allow_edit`, zones can be saved."""
    try:
        from posed.preview.server import PreviewServer
        from posed.preview.zone_edit import ZoneEditor
    except ImportError as exc:
        raise PreviewError(
            f"preview.enabled needs aiohttp, which is not installed ({exc}): pip install 'posed[preview]'"
        ) from exc
    editor = None
    if editing is not None and config.allow_edit:
        from posed.config.zone_write import ZoneWriter

        editor = ZoneEditor(ZoneWriter(editing.path, cli_model_dir=model_dir), request_reload)
    server = PreviewServer(config, tap, editor)
    server.start()
    return server


class PreviewPart:
    def __init__(self, model_dir: Path | None = None) -> None:
        self.model_dir = model_dir  # the daemon's --model-dir, for validating a saved zone
        self.tap = PreviewTap()
        self.server: PreviewServer | None = None
        # Its own rates and CPU baseline, so the page's refreshes leave the MQTT stats' alone.
        self._telemetry = Telemetry()
        self._next_stats = 0.0

    def follow(self, loaded: LoadedConfig) -> None:
        """The cameras (and their zones) the page shows."""
        self.tap.set_cameras(camera_views(loaded))

    def start(self, loaded: LoadedConfig) -> None:
        self.follow(loaded)
        if loaded.config.preview.enabled:
            self.server = open_server(loaded.config.preview, self.tap, loaded, self.model_dir)

    def apply(self, old: LoadedConfig, new: LoadedConfig) -> None:
        """Follow a reload: the camera list always, the server only if `preview:` changed."""
        if old.config.preview != new.config.preview:
            self.close()
            try:
                self.start(new)
            except PreviewError:
                log.error("the new preview settings failed; restarting the page with the previous ones")
                self.start(old)
                raise
            log.info("preview: restarted with the new settings")
        self.follow(new)

    def tick(
        self,
        now: float,
        loaded: LoadedConfig,
        *,
        workers: Mapping[str, Worker],
        cameras: Mapping[str, CountingCamera],
        publisher: Publisher | None,
        backend: str,
    ) -> None:
        """Refresh the stats the page shows; called from the daemon's supervision loop."""
        if self.server is None or now < self._next_stats:
            return
        self._next_stats = now + STATS_PERIOD
        self._telemetry.sample(workers, cameras)
        self.tap.set_stats(
            stats_document(
                self._telemetry,
                device_id=loaded.config.device_id,
                workers=workers,
                cameras=cameras,
                publisher=publisher,
                backend=backend,
            )
        )

    def close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.close()


def stats_document(
    telemetry: Telemetry,
    *,
    device_id: str,
    workers: Mapping[str, Worker],
    cameras: Mapping[str, CountingCamera],
    publisher: Publisher | None,
    backend: str,
) -> dict[str, Any]:
    """What the `stats` topic publishes, plus each camera's current people count.

    Shared by the daemon's page and `posed demo --preview`, so both show the same document.
    """
    from posed.mqtt import payloads
    from posed.stats import NO_MQTT

    document = payloads.stats(
        telemetry.snapshot(workers, cameras, backend=backend),
        device_id=device_id,
        timestamp=time.time(),
        mqtt=publisher.counters() if publisher is not None else NO_MQTT,
    )
    for name, entry in document["cameras"].items():
        worker = workers.get(name)
        entry["people"] = worker.people if worker is not None else 0
    return document
