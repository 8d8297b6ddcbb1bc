"""The live preview page for `posed demo`: the daemon's page (posed.preview) on the demo's one camera.

The page draws the poses itself (client-side, on a canvas); the demo only hands
it each processed frame through the preview's tap, and once a second the same
stats document the daemon's page shows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from posed.daemon.preview import stats_document
from posed.daemon.telemetry import Telemetry
from posed.errors import PreviewError
from posed.preview.config import PreviewConfig
from posed.preview.tap import CameraView, PreviewTap

if TYPE_CHECKING:
    from posed.cameras import Camera
    from posed.daemon.telemetry import Telemetry
    from posed.daemon.worker import Worker
    from posed.mqtt.publisher import Publisher
    from posed.preview.server import PreviewServer
    from posed.preview.tap import PreviewTap

log = logging.getLogger(__name__)


class DemoPreview:
    """The page's server and tap; `close()` stops the server."""

    def __init__(self, server: PreviewServer, tap: PreviewTap, camera: str) -> None:
        self.server = server
        self.tap = tap
        self.camera = camera
        self._telemetry: Telemetry | None = None

    @property
    def url(self) -> str:
        return f"{self.server.url}camera/{self.camera}"

    def refresh(
        self,
        workers: Mapping[str, Worker],
        cameras: Mapping[str, Camera],
        publisher: Publisher | None,
        *,
        device_id: str,
        backend: str,
    ) -> None:
        """The stats the page shows: what the daemon's `stats` topic would publish."""
        if self._telemetry is None:
            self._telemetry = Telemetry()
        self._telemetry.sample(workers, cameras)
        self.tap.set_stats(
            stats_document(
                self._telemetry,
                device_id=device_id,
                workers=workers,
                cameras=cameras,
                publisher=publisher,
                backend=backend,
            )
        )

    def close(self) -> None:
        self.server.close()


def start_preview(camera: str, port: int) -> tuple[DemoPreview | None, str]:
    """The page on 127.0.0.1:`port` (any free port if that one is taken), and what to tell the user."""
    try:
        from posed.preview.server import PreviewServer  # noqa: PLC0415 (imports aiohttp)
    except ImportError as exc:
        return None, f"no live preview page: it needs aiohttp ({exc}); pip install 'posed[preview]'"
    tap = PreviewTap()
    tap.set_cameras({camera: CameraView(zones={})})
    for attempt in dict.fromkeys((port, 0)):
        server = PreviewServer(PreviewConfig(enabled=True, host="127.0.0.1", port=attempt), tap)
        try:
            server.start()
        except PreviewError as exc:
            log.info("preview on port %d: %s", attempt, exc)
            continue
        preview = DemoPreview(server, tap, camera)
        taken = f" (port {port} is taken)" if attempt != port else ""
        return preview, f"live preview: {preview.url}{taken}"
    return None, f"no live preview page: cannot listen on 127.0.0.1:{port} or any other port"
