"""Event snapshots over MQTT: `{camera}/events/{kind}/snapshot` (JPEG bytes, retained) and the
Home Assistant `image` entity that shows each one.

The newest snapshot of each kind stays on the broker, so Home Assistant shows the last
fall after a restart of either side. The entity lists only the device's availability:
a fall's picture stays worth seeing while its camera is down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posed.mqtt.connection import Connection
from posed.mqtt.discovery import DiscoveryMessage
from posed.mqtt.events_discovery import CameraEvents
from posed.mqtt.topics import Topics

CONTENT_TYPE = "image/jpeg"
KIND_NAMES = {"fall": "Fall", "gesture": "Gesture", "zone": "Zone", "rep": "Set"}
# Copied from the camera's own discovery messages, so the two cannot drift apart.
SHARED_KEYS = ("device", "origin", "has_entity_name", "payload_available", "payload_not_available", "qos")


@dataclass(frozen=True, slots=True)
class SnapshotImage:
    """The typed description of one `image` entity: a camera's newest snapshot of one kind."""

    camera: str
    kind: str

    @property
    def key(self) -> str:
        return f"{self.camera}_{self.kind}_snapshot"

    def document(self, topics: Topics, shared: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "unique_id": f"{topics.ha_node_id}_{self.key}",
            "object_id": f"posed_{topics.device_id}_{self.key}",
            "name": f"{KIND_NAMES.get(self.kind, self.kind)} snapshot",
            "image_topic": topics.snapshot(self.camera, self.kind),
            "content_type": CONTENT_TYPE,
            "icon": "mdi:image-outline",
            "availability": [{"topic": topics.availability}],
            **shared,
        }


def snapshot_images(cameras: Mapping[str, CameraEvents]) -> list[SnapshotImage]:
    return [SnapshotImage(camera, kind) for camera, setup in cameras.items() for kind in setup.snapshots]


def snapshot_discovery(
    topics: Topics, cameras: Mapping[str, CameraEvents], shared_from: Sequence[DiscoveryMessage]
) -> list[DiscoveryMessage]:
    """One `image` entity per camera and snapshot kind, on the camera's device."""
    messages = []
    for image in snapshot_images(cameras):
        device_id = f"{topics.ha_node_id}_{image.camera}"
        source = next(
            (
                m.document
                for m in shared_from
                if m.document.get("device", {}).get("identifiers") == [device_id]
            ),
            None,
        )
        if source is None:
            continue
        shared = {key: source[key] for key in SHARED_KEYS if key in source}
        messages.append(
            DiscoveryMessage(topics.discovery_of("image", image.key), image.document(topics, shared))
        )
    return messages


class SnapshotTopics:
    """Puts each snapshot as the retained state of its topic (the newest wins, even while offline)."""

    def __init__(self, topics: Topics, connection: Connection, cameras: Mapping[str, CameraEvents]) -> None:
        self._topics = topics
        self._connection = connection
        self._kinds = {camera: frozenset(setup.snapshots) for camera, setup in cameras.items()}

    def retained_topics(self) -> list[str]:
        """Every configured camera and kind, published yet or not: the clean-up keeps them."""
        return [self._topics.snapshot(c, k) for c, kinds in self._kinds.items() for k in sorted(kinds)]

    def publish(self, camera: str, kind: str, jpeg: bytes) -> None:
        if kind not in self._kinds.get(camera, frozenset()):
            return  # the kind or camera went away in a reload while the picture was made
        self._connection.put_state(self._topics.snapshot(camera, kind), jpeg)
        self._connection.wake()
