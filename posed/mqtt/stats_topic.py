"""The device's `stats` topic: the daemon's measurements plus the connection's own counters."""

from __future__ import annotations

import time

from posed.mqtt import payloads
from posed.mqtt.connection import Connection
from posed.mqtt.topics import Topics
from posed.stats import StatsSnapshot


class StatsTopic:
    def __init__(self, topics: Topics, connection: Connection, *, device_id: str) -> None:
        self._topics = topics
        self._connection = connection
        self._device_id = device_id

    def publish(self, stats: StatsSnapshot) -> None:
        """Only the newest stats wait while disconnected (latest-wins, QoS 0)."""
        connection = self._connection
        document = payloads.stats(
            stats,
            device_id=self._device_id,
            timestamp=time.time(),
            mqtt=connection.counters(),
        )
        connection.put_latest(self._topics.stats, payloads.encode(document))
        connection.wake()
