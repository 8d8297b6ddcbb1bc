"""The MQTT publisher: what the daemon publishes, for one device. A context manager.

It only wires the parts together, one concept per module:
- posed.mqtt.connection: the paho client, the Outbox, the sender thread, the
  device's availability (birth and last will);
- posed.mqtt.camera_state: the per-camera topics (poses, count, presence, status,
  the camera's availability);
- posed.mqtt.diagnostics: the retained measurements HA's diagnostic sensors read;
- posed.mqtt.stats_topic: the device's `stats` topic;
- posed.mqtt.homeassistant: HA discovery publishing (entities: posed.mqtt.discovery);
- posed.mqtt.cleanup: clears retained topics this configuration no longer publishes;
- posed.mqtt.events_topics: the event analyzers' events, state and reset commands
  (their HA entities: posed.mqtt.events_discovery).

A new topic family is a new small module like camera_state: it takes the
Topics and the Connection, puts its messages with `put_state` (retained,
latest wins, re-sent on every connect) or `put_stream` (bounded FIFO), says
which retained topics it owns (`retained_topics()`, so the clean-up keeps
them), may add discovery messages, is built in `_Families`, and gets one
publish method here.

`reconfigure()` applies a reload that keeps the connection settings on the
same connection: the device's availability never blinks, cameras that stay
keep their state, and the retained topics of removed cameras are deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from posed import __version__
from posed.errors import ClosedError
from posed.mqtt.camera_state import CameraState
from posed.mqtt.cleanup import RetainedCleanup
from posed.mqtt.client import client_id_for
from posed.mqtt.config import MqttConfig
from posed.mqtt.connection import Connection
from posed.mqtt.diagnostics import Diagnostics
from posed.mqtt.discovery import discovery_messages
from posed.mqtt.events_discovery import CameraEvents, events_discovery
from posed.mqtt.events_topics import EventStateView, EventTopics, ResetHandler
from posed.mqtt.homeassistant import HomeAssistant
from posed.mqtt.snapshot_topics import SnapshotTopics, snapshot_discovery
from posed.mqtt.stats_topic import StatsTopic
from posed.mqtt.topics import Topics
from posed.stats import MqttCounters, StatsSnapshot
from posed.types import Frame, Pose


@dataclass(frozen=True, slots=True)
class Identity:
    """What the publisher announces besides the cameras."""

    model: str
    backend: str
    configuration_url: str | None = None  # the preview page, for HA's "Visit" link
    events: Mapping[str, CameraEvents] | None = None  # what each camera's analyzers publish
    on_reset: ResetHandler | None = None  # the HA reset button's handler


def connection_settings(config: MqttConfig, device_id: str) -> tuple[object, ...]:
    """What only a new client can change: where and how to connect, the topics (the will's
    among them), the Outbox's bounds. `reconfigure()` applies everything else live."""
    live = {"qos", "max_rate_hz", "only_when_people", "compact", "presence_hold", "stats_interval"}
    return (
        device_id,
        config.homeassistant.discovery_prefix,
        config.model_dump(exclude=live | {"homeassistant"}),
    )


class _Families:
    """The topic families of one configuration, on one connection."""

    cameras: CameraState
    diagnostics: Diagnostics
    stats: StatsTopic
    events: EventTopics
    snapshots: SnapshotTopics
    retained: frozenset[str]

    def __init__(
        self,
        config: MqttConfig,
        topics: Topics,
        connection: Connection,
        *,
        cameras: Sequence[str],
        identity: Identity,
        previous: _Families | None,
    ) -> None:
        device_id = topics.device_id
        self.cameras = CameraState(
            config,
            topics,
            connection,
            cameras=cameras,
            device_id=device_id,
            model=identity.model,
            backend=identity.backend,
            previous=previous.cameras if previous is not None else None,
        )
        self.diagnostics = Diagnostics(
            topics,
            connection,
            cameras=cameras,
            previous=previous.diagnostics if previous is not None else None,
        )
        self.stats = StatsTopic(topics, connection, device_id=device_id)
        events = identity.events or {}
        self.events = EventTopics(
            topics,
            connection,
            events,
            identity.on_reset,
            previous=previous.events if previous is not None else None,
        )
        self.snapshots = SnapshotTopics(topics, connection, events)
        retained = [
            topics.availability,
            *self.cameras.retained_topics(),
            *self.diagnostics.retained_topics(),
            *self.events.retained_topics(),
            *self.snapshots.retained_topics(),
        ]
        if config.homeassistant.enabled:
            messages = discovery_messages(
                config,
                topics,
                cameras=cameras,
                model=identity.model,
                backend=identity.backend,
                version=__version__,
                configuration_url=identity.configuration_url,
            )
            messages += events_discovery(topics, events, messages)
            messages += snapshot_discovery(topics, events, messages)
            retained += HomeAssistant(topics, connection, messages).retained_topics()
        self.retained = frozenset(retained)
        RetainedCleanup(topics, self.retained, homeassistant=config.homeassistant.enabled).attach(connection)


class Publisher:
    """Publishes poses, state, stats and HA discovery for one device. A context manager."""

    def __init__(
        self,
        config: MqttConfig,
        device_id: str,
        *,
        cameras: Sequence[str],
        model: str,
        backend: str,
        configuration_url: str | None = None,
        events: Mapping[str, CameraEvents] | None = None,
        on_reset: ResetHandler | None = None,
    ) -> None:
        _check_unique(cameras)
        self._closed = False
        self._config = config
        self._device_id = device_id
        self._topics = Topics(config.topic_prefix, device_id, config.homeassistant.discovery_prefix)
        self._connection = Connection(
            config, client_id=client_id_for(config, device_id), availability=self._topics.availability
        )
        identity = Identity(model, backend, configuration_url, events, on_reset)
        self._families = _Families(
            config, self._topics, self._connection, cameras=cameras, identity=identity, previous=None
        )

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Start connecting in the background and return at once.

        An unreachable broker is retried with back-off; bad local settings
        (password file, TLS files) raise MqttError.
        """
        self._check_open()
        self._connection.start()

    def close(self) -> None:
        """Publish a retained `offline`, wait briefly for it, disconnect. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._connection.started:
            self._families.cameras.all_unavailable()
        self._connection.close()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def can_reconfigure(self, config: MqttConfig, device_id: str) -> bool:
        """True when `reconfigure` can apply `config` without a new client."""
        return connection_settings(config, device_id) == connection_settings(self._config, self._device_id)

    def reconfigure(
        self,
        config: MqttConfig,
        *,
        cameras: Sequence[str],
        model: str,
        backend: str,
        configuration_url: str | None = None,
        events: Mapping[str, CameraEvents] | None = None,
        on_reset: ResetHandler | None = None,
    ) -> None:
        """Apply a reload on the live connection (see the module's docstring).

        The caller serialises this with the publish calls (posed.daemon.publishing.PublisherSlot).
        """
        self._check_open()
        if not self.can_reconfigure(config, self._device_id):
            raise ValueError("the connection settings changed: this needs a new Publisher")
        _check_unique(cameras)
        old = self._families
        self._connection.reset_listeners()
        self._config = config
        self._families = _Families(
            config,
            self._topics,
            self._connection,
            cameras=cameras,
            identity=Identity(model, backend, configuration_url, events, on_reset),
            previous=old,
        )
        for topic in sorted(old.retained - self._families.retained):
            self._connection.clear_state(topic)
        self._connection.subscribe_now()
        self._connection.wake()

    # -- what the daemon publishes ----------------------------------------------

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
        """Hand over one processed frame; never blocks on the network."""
        self._check_open()
        self._families.cameras.publish_poses(
            camera, frame, poses, inference_ms=inference_ms, width=width, height=height
        )

    def publish_camera_status(self, camera: str, status: str) -> None:
        """The camera's state (online, offline, reconnecting), retained."""
        self._check_open()
        self._families.cameras.publish_status(camera, status)

    def publish_events(self, camera: str, events: Sequence[Mapping[str, Any]], state: EventStateView) -> None:
        """One frame's events (JSON-ready) and the camera's event state; never blocks on the network."""
        self._check_open()
        self._families.events.publish(camera, events, state)

    def publish_snapshot(self, camera: str, kind: str, jpeg: bytes) -> None:
        """An event's snapshot, retained on {camera}/events/{kind}/snapshot; never blocks."""
        self._check_open()
        self._families.snapshots.publish(camera, kind, jpeg)

    def publish_stats(self, stats: StatsSnapshot) -> None:
        """The daemon's stats plus MQTT reconnects and dropped messages; only the newest waits.
        The measurements HA shows go to the retained diagnostics topics too."""
        self._check_open()
        self._families.stats.publish(stats)
        self._families.diagnostics.publish(stats)

    # -- counters --------------------------------------------------------------

    @property
    def topics(self) -> Topics:
        return self._topics

    @property
    def connected(self) -> bool:
        return self._connection.connected

    @property
    def reconnects(self) -> int:
        """Successful connections after the first."""
        return self._connection.reconnects

    @property
    def dropped(self) -> int:
        """Pose messages dropped: queue overflow while the broker was away, or refused."""
        return self._connection.outbox.dropped

    @property
    def queued(self) -> int:
        """Pose messages waiting in the bounded queue."""
        return self._connection.outbox.queued

    def counters(self) -> MqttCounters:
        """Everything the `stats` document says of the MQTT client."""
        return self._connection.counters()

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError("the MQTT publisher is closed")


def _check_unique(cameras: Sequence[str]) -> None:
    if len(set(cameras)) != len(cameras):
        raise ValueError(f"camera names must be unique: {list(cameras)}")
