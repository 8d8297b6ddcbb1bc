"""The event analyzers' topics: `{camera}/events` (a QoS 1 stream, not retained), and retained state.

Events wait in the Outbox's own event queue, never behind or among the pose
messages, so an outage that overflows the pose queue loses no fall or rep.

State: `{camera}/fall` (ON/OFF), `{camera}/zones/{zone}/occupancy` (ON/OFF) and
`.../count`, `{camera}/reps/{exercise}/count`. Each is put only when it changes,
and the Connection re-sends all of them on every (re)connect and when Home
Assistant comes back. Posed keeps no counts across restarts, so at start every
state says what posed knows then: nobody in the zones, no fall, no reps.

Commands: `{camera}/reps/{exercise}/reset` (the HA button's command topic),
subscribed on every connect; any non-empty message zeroes that count (a retained
one is ignored when the broker replays it on a reconnect).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from posed.mqtt import payloads
from posed.mqtt.connection import Connection
from posed.mqtt.events_discovery import CameraEvents
from posed.mqtt.topics import Topics

log = logging.getLogger("posed.mqtt.publisher")

EVENTS_QOS = 1
ResetHandler = Callable[[str, str], None]  # (camera, exercise); runs on paho's thread


class EventStateView(Protocol):
    """What the retained state topics say (posed.events.engine.EventState)."""

    @property
    def zones(self) -> Mapping[str, int]: ...

    @property
    def fallen(self) -> bool | None: ...

    @property
    def reps(self) -> Mapping[str, int]: ...


class EventTopics:
    """Thread-safe: each camera's worker publishes on its own thread, resets come on paho's."""

    def __init__(
        self,
        topics: Topics,
        connection: Connection,
        cameras: Mapping[str, CameraEvents],
        on_reset: ResetHandler | None,
        *,
        previous: EventTopics | None = None,
    ) -> None:
        """`previous`: the same connection's family before a reload; its state stays as sent
        (the analyzers republish theirs), instead of blinking back to the start values."""
        self._topics = topics
        self._connection = connection
        self._cameras = dict(cameras)
        self._on_reset = on_reset
        self._lock = threading.Lock()
        self._sent: dict[str, bytes] = {}
        self._previous = {} if previous is None else dict(previous._sent)
        self._commands = {
            topics.rep_reset(camera, exercise): (camera, exercise)
            for camera, setup in cameras.items()
            for exercise in setup.exercises
        }
        for camera, setup in cameras.items():
            for zone in setup.zones:
                self._start(topics.zone_occupancy(camera, zone), payloads.presence(False))
                self._start(topics.zone_count(camera, zone), payloads.count(0))
            if setup.falls:
                self._start(topics.fall(camera), payloads.presence(False))
            for exercise in setup.exercises:
                self._start(topics.rep_count(camera, exercise), payloads.count(0))
        for topic in self._commands:
            connection.subscribe(topic, 1)
        connection.on_message(self._on_message)

    def retained_topics(self) -> list[str]:
        return list(self._sent)

    def publish(self, camera: str, events: Sequence[Mapping[str, Any]], state: EventStateView) -> None:
        """One frame's events (JSON-ready) and the camera's state after it; never blocks."""
        setup = self._cameras.get(camera)
        if setup is None:
            raise ValueError(f"unknown camera {camera!r} for events")
        topics = self._topics
        for event in events:
            self._connection.put_event(topics.events(camera), payloads.encode(event), EVENTS_QOS)
        for zone in setup.zones:
            people = state.zones.get(zone, 0)
            self._put(topics.zone_occupancy(camera, zone), payloads.presence(people > 0))
            self._put(topics.zone_count(camera, zone), payloads.count(people))
        if setup.falls and state.fallen is not None:
            self._put(topics.fall(camera), payloads.presence(state.fallen))
        for exercise in setup.exercises:
            self._put(topics.rep_count(camera, exercise), payloads.count(state.reps.get(exercise, 0)))
        self._connection.wake()

    def _start(self, topic: str, payload: bytes) -> None:
        if topic in self._previous:
            self._sent[topic] = self._previous[topic]
        else:
            self._put(topic, payload)

    def _put(self, topic: str, payload: bytes) -> None:
        with self._lock:
            if self._sent.get(topic) == payload:
                return
            self._sent[topic] = payload
        self._connection.put_state(topic, payload)

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        target = self._commands.get(topic)
        if target is None or not payload:
            return  # not ours, or someone clearing a retained press
        if retained:
            # A retained press would reset the count on every reconnect; HA's buttons do not retain.
            log.warning("MQTT: ignoring a retained message on %s (a reset must not be retained)", topic)
            return
        camera, exercise = target
        log.info("MQTT: reset of %s reps on camera %s requested", exercise, camera)
        if self._on_reset is not None:
            self._on_reset(camera, exercise)
