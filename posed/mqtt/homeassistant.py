"""Publishing Home Assistant discovery: the retained config messages, and a replay when HA restarts.

What the entities are is built in posed.mqtt.discovery; this module only puts
those messages on the connection (ahead of any state, see RANK_DISCOVERY) and
listens for HA's birth message on `{discovery_prefix}/status`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from posed.mqtt import payloads
from posed.mqtt.connection import RANK_DISCOVERY, Connection
from posed.mqtt.discovery import DiscoveryMessage
from posed.mqtt.topics import Topics

log = logging.getLogger("posed.mqtt.publisher")


class HomeAssistant:
    def __init__(self, topics: Topics, connection: Connection, messages: Sequence[DiscoveryMessage]) -> None:
        self._topics = topics
        self._connection = connection
        self.messages = list(messages)
        for message in self.messages:
            connection.put_state(message.topic, payloads.encode(message.document), RANK_DISCOVERY)
        connection.subscribe(topics.ha_status, 1)
        connection.on_message(self._on_message)

    def retained_topics(self) -> list[str]:
        return [message.topic for message in self.messages]

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        # A retained birth message comes with every subscription, i.e. right
        # after a connect, when everything is being re-sent anyway.
        if topic == self._topics.ha_status and payload == b"online" and not retained:
            if self._connection.outbox.replay_state():
                log.info("MQTT: Home Assistant came online; re-sending discovery and state")
            else:
                log.debug("MQTT: Home Assistant came online again during a replay; one more follows it")
            self._connection.wake()
