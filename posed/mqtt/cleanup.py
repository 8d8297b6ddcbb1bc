"""Retained topics left behind by cameras that are no longer configured.

A retained message stays on the broker until someone replaces it. When a
camera is removed from the config (or renamed), its retained count, presence
and status, and its Home Assistant discovery configs, would stay for ever, and
Home Assistant would keep showing entities that nothing updates. So on every
connect posed subscribes to its own retained topics; the broker answers with
what it holds, and each retained topic this configuration no longer publishes
is cleared with an empty retained message (for discovery, Home Assistant's way
to delete an entity). Only topics under this device's own prefix and HA node id
are touched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from posed.mqtt.connection import Connection
from posed.mqtt.topics import TopicKind, Topics

log = logging.getLogger("posed.mqtt.publisher")

RETAINED_CAMERA_KINDS: tuple[TopicKind, ...] = ("count", "presence", "status")
_CLEARABLE: frozenset[TopicKind | None] = frozenset({*RETAINED_CAMERA_KINDS, "discovery"})


@dataclass(frozen=True, slots=True)
class RetainedCleanup:
    """Which of this device's retained topics are stale, given the ones it publishes now."""

    topics: Topics
    current: frozenset[str]  # the retained topics this configuration publishes
    homeassistant: bool

    def subscriptions(self) -> list[str]:
        wanted = [f"{self.topics.base}/+/{kind}" for kind in RETAINED_CAMERA_KINDS]
        if self.homeassistant:
            wanted.append(f"{self.topics.discovery_prefix}/+/{self.topics.ha_node_id}/+/config")
        return wanted

    def is_stale(self, topic: str, payload: bytes, *, retained: bool) -> bool:
        """A retained message the broker holds for a topic this configuration no longer uses.

        Live messages (our own, echoed back) and empty payloads (already cleared) never are.
        """
        if not retained or not payload or topic in self.current:
            return False
        kind = self.topics.kind_of(topic)
        if kind == "discovery" and not self.homeassistant:
            return False
        return kind in _CLEARABLE

    def attach(self, connection: Connection) -> None:
        """Ask for the retained topics on every connect, and clear the stale ones that come back."""
        for topic in self.subscriptions():  # QoS 0: the next connect asks again
            connection.subscribe(topic, 0)

        def clear_stale(topic: str, payload: bytes, retained: bool) -> None:
            if self.is_stale(topic, payload, retained=retained):
                log.info("MQTT: clearing %s, retained from a camera no longer configured", topic)
                connection.put_state(topic, b"")
                connection.wake()

        connection.on_message(clear_stale)
