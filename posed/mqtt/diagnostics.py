"""The retained measurement topics Home Assistant's diagnostic sensors read:
`{camera}/diagnostics` per camera and `host` for the device.

Retained, and in the state lane: a newcomer (HA after a restart) gets the
current values at once, and after a (re)connect they go out before the
availability that makes the entities available. Before the first stats of
this publisher every value is null (HA: `unknown`), so a value from an earlier
run is never shown as if it were current.
"""

from __future__ import annotations

from collections.abc import Sequence

from posed.mqtt import payloads
from posed.mqtt.connection import Connection
from posed.mqtt.topics import Topics
from posed.stats import StatsSnapshot


class Diagnostics:
    def __init__(
        self,
        topics: Topics,
        connection: Connection,
        *,
        cameras: Sequence[str],
        previous: Diagnostics | None = None,
    ) -> None:
        """`previous`: the one this replaces on the same connection; what it published stands."""
        self._topics = topics
        self._connection = connection
        self._cameras = list(cameras)
        kept = set(previous._cameras) if previous is not None else set()
        if previous is None:
            self._put_host(None)
        for camera in self._cameras:
            if camera not in kept:
                document = payloads.camera_diagnostics(None)
                connection.put_state(topics.diagnostics(camera), payloads.encode(document))

    def retained_topics(self) -> list[str]:
        return [self._topics.host]  # the per-camera ones are CameraState's RETAINED_CAMERA_KINDS

    def publish(self, stats: StatsSnapshot) -> None:
        by_name = {cam.camera: cam for cam in stats.cameras}
        for camera in self._cameras:
            cam = by_name.get(camera)
            if cam is not None:
                document = payloads.camera_diagnostics(cam)
                self._connection.put_state(self._topics.diagnostics(camera), payloads.encode(document))
        self._put_host(stats)
        self._connection.wake()

    def _put_host(self, stats: StatsSnapshot | None) -> None:
        connection = self._connection
        document = payloads.host(stats, reconnects=connection.reconnects, dropped=connection.outbox.dropped)
        connection.put_state(self._topics.host, payloads.encode(document))
