"""The MQTT publisher: what the daemon publishes, for one device. A context manager.

It only wires the parts together, one concept per module:
- posed.mqtt.connection: the paho client, the Outbox, the sender thread, the
  device's availability (birth and last will);
- posed.mqtt.camera_state: the per-camera topics (poses, count, presence, status);
- posed.mqtt.stats_topic: the device's `stats` topic;
- posed.mqtt.homeassistant: HA discovery publishing (entities: posed.mqtt.discovery);
- posed.mqtt.cleanup: clears retained topics this configuration no longer publishes.

A new topic family is a new small module like camera_state: it takes the
Topics and the Connection, puts its messages with `put_state` (retained,
latest wins, re-sent on every connect) or `put_stream` (bounded FIFO), says
which retained topics it owns (`retained_topics()`, so the clean-up keeps
them), may add discovery messages, and gets one publish method here.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from posed import __version__
from posed.errors import ClosedError
from posed.mqtt.camera_state import CameraState
from posed.mqtt.cleanup import RetainedCleanup
from posed.mqtt.client import client_id_for
from posed.mqtt.config import MqttConfig
from posed.mqtt.connection import Connection
from posed.mqtt.discovery import discovery_messages
from posed.mqtt.homeassistant import HomeAssistant
from posed.mqtt.stats_topic import StatsTopic
from posed.mqtt.topics import Topics
from posed.stats import StatsSnapshot
from posed.types import Frame, Pose


class Publisher:
    """Publishes poses, state, stats and HA discovery for one device. A context manager."""

    def __init__(
        self, config: MqttConfig, device_id: str, *, cameras: Sequence[str], model: str, backend: str
    ) -> None:
        if len(set(cameras)) != len(cameras):
            raise ValueError(f"camera names must be unique: {list(cameras)}")
        self._closed = False
        self._topics = Topics(config.topic_prefix, device_id, config.homeassistant.discovery_prefix)
        self._connection = Connection(
            config, client_id=client_id_for(config, device_id), availability=self._topics.availability
        )
        self._cameras = CameraState(
            config,
            self._topics,
            self._connection,
            cameras=cameras,
            device_id=device_id,
            model=model,
            backend=backend,
        )
        self._stats = StatsTopic(self._topics, self._connection, device_id=device_id)
        retained = self._cameras.retained_topics()
        if config.homeassistant.enabled:
            messages = discovery_messages(
                config, self._topics, cameras=cameras, model=model, backend=backend, version=__version__
            )
            retained += HomeAssistant(self._topics, self._connection, messages).retained_topics()
        RetainedCleanup(self._topics, frozenset(retained), homeassistant=config.homeassistant.enabled).attach(
            self._connection
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
        self._connection.close()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

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
        self._cameras.publish_poses(
            camera, frame, poses, inference_ms=inference_ms, width=width, height=height
        )

    def publish_camera_status(self, camera: str, status: str) -> None:
        """The camera's state (online, offline, reconnecting), retained."""
        self._check_open()
        self._cameras.publish_status(camera, status)

    def publish_stats(self, stats: StatsSnapshot) -> None:
        """The daemon's stats plus MQTT reconnects and dropped messages; only the newest waits."""
        self._check_open()
        self._stats.publish(stats)

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

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError("the MQTT publisher is closed")
