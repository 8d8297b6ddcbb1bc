"""Retained topics left behind by cameras that are no longer configured.

A retained message stays on the broker until someone replaces it. When a
camera is removed from the config (or renamed), its retained count, presence,
status, availability and diagnostics, and its Home Assistant discovery
configs, would stay for ever, and Home Assistant would keep showing entities
that nothing updates. So on every connect posed subscribes to its own retained
topics; the broker answers with what it holds, and each retained topic this
configuration no longer publishes is cleared with an empty retained message
(for discovery, Home Assistant's way to delete an entity).

Only what this instance published is touched: topics under its own
`{topic_prefix}/{device_id}/`, and discovery configs under its node id (or the
prefix-blind node id of earlier versions) whose availability topic is this
device's own, so a device with the same device_id under another topic_prefix
keeps its entities.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from posed.mqtt.connection import Connection
from posed.mqtt.topics import TopicKind, Topics

log = logging.getLogger("posed.mqtt.publisher")

RETAINED_CAMERA_KINDS: tuple[TopicKind, ...] = ("count", "presence", "status", "availability", "diagnostics")
# The event analyzers' retained state (posed.mqtt.events_topics): a removed zone or exercise
# must not leave an occupancy or a count behind that nothing updates.
_EVENT_STATE_LEVELS = ("fall", "zones/+/occupancy", "zones/+/count", "reps/+/count", "events/+/snapshot")
_EVENT_STATE_KINDS: tuple[TopicKind, ...] = ("fall", "zone_occupancy", "zone_count", "rep_count", "snapshot")
_CLEARABLE: frozenset[TopicKind | None] = frozenset(
    {*RETAINED_CAMERA_KINDS, *_EVENT_STATE_KINDS, "discovery"}
)


@dataclass(frozen=True, slots=True)
class RetainedCleanup:
    """Which of this device's retained topics are stale, given the ones it publishes now."""

    topics: Topics
    current: frozenset[str]  # the retained topics this configuration publishes
    homeassistant: bool

    def subscriptions(self) -> list[str]:
        wanted = [f"{self.topics.base}/+/{kind}" for kind in (*RETAINED_CAMERA_KINDS, *_EVENT_STATE_LEVELS)]
        if self.homeassistant:
            prefix = self.topics.discovery_prefix
            for node in (self.topics.ha_node_id, self.topics.legacy_ha_node_id):
                wanted.append(f"{prefix}/+/{node}/+/config")
        return wanted

    def is_stale(self, topic: str, payload: bytes, *, retained: bool) -> bool:
        """A retained message the broker holds for a topic this configuration no longer uses.

        Live messages (our own, echoed back) and empty payloads (already cleared) never are.
        """
        if not retained or not payload or topic in self.current:
            return False
        kind = self.topics.kind_of(topic)
        if kind == "discovery":
            return self.homeassistant and self._is_ours(payload)
        return kind in _CLEARABLE

    def _is_ours(self, payload: bytes) -> bool:
        """A discovery config whose entities follow this device's availability topic."""
        try:
            document = json.loads(payload)
        except (UnicodeDecodeError, ValueError):
            return False
        if not isinstance(document, dict):
            return False
        entries = document.get("availability")
        if not isinstance(entries, list):
            return False
        mine = self.topics.availability
        return any(isinstance(e, dict) and e.get("topic") == mine for e in entries)

    def attach(self, connection: Connection) -> None:
        """Ask for the retained topics on every connect, and clear the stale ones that come back."""
        for topic in self.subscriptions():  # QoS 0: the next connect asks again
            connection.subscribe(topic, 0)

        def clear_stale(topic: str, payload: bytes, retained: bool) -> None:
            if connection.outbox.state_payload(topic) == b"":
                return  # already being deleted (a reload removed its camera): nothing to say
            if self.is_stale(topic, payload, retained=retained):
                log.info("MQTT: clearing %s, retained from a camera or version no longer configured", topic)
                connection.clear_state(topic)
                connection.wake()

        connection.on_message(clear_stale)
