"""What the publisher logs about its broker connection: each problem once, never a flood.

A broker that stays down, a wrong password or a topic the broker's ACL
refuses would otherwise repeat the same warning on every retry or message;
the first occurrence is a WARNING and repeats go to DEBUG until the
connection comes back or the reason changes.
"""

from __future__ import annotations

import logging

from posed.mqtt.config import MqttConfig

log = logging.getLogger("posed.mqtt.publisher")

_AUTH_REASONS = (134, 135)  # MQTT 5 codes; paho maps 3.1.1's CONNACK 4 and 5 onto them


class ConnectionReport:
    def __init__(self, config: MqttConfig, client_id: str) -> None:
        self._config = config
        self._client_id = client_id
        self._failures = 0
        self._last_failure: str | None = None
        self._warned: set[str] = set()

    @property
    def _where(self) -> str:
        return f"{self._config.host}:{self._config.port}"

    def connecting(self) -> None:
        cfg = self._config
        tls = ", TLS" if cfg.tls is not None else ""
        log.info("MQTT: connecting to %s as %s (MQTT %s%s)", self._where, self._client_id, cfg.protocol, tls)

    def refused(self, reason_name: str, reason_value: int) -> None:
        hint = ""
        if reason_value in _AUTH_REASONS:
            hint = "; check mqtt.username and the password (mqtt.password_file or mqtt.password_env)"
        self._failed(f"the broker refused the connection: {reason_name}{hint}")

    def unreachable(self, err: BaseException | None) -> None:
        self._failed(f"cannot connect: {err or 'unknown error'}")

    def no_connack(self, reason: object) -> None:
        """The broker accepted the connection but never answered CONNECT."""
        self._failed(
            f"the broker accepted the connection but no CONNACK came ({reason}; posed waits "
            f"mqtt.keepalive = {self._config.keepalive} s): is this an MQTT broker, is it overloaded?"
        )

    def _failed(self, why: str) -> None:
        self._failures += 1
        cfg = self._config
        line = (
            f"MQTT: {self._where}: {why}; retrying with back-off "
            f"({cfg.reconnect_min_delay:g}-{cfg.reconnect_max_delay:g} s)"
        )
        if line != self._last_failure:
            log.warning("%s", line)
            self._last_failure = line
        else:
            log.debug("%s (attempt %d)", line, self._failures)

    def connected(self, *, first: bool, dropped_meanwhile: int, events_lost_meanwhile: int = 0) -> None:
        after = f" after {self._failures} failed attempts" if self._failures else ""
        if first:
            log.info("MQTT: connected to %s%s", self._where, after)
        else:
            log.info(
                "MQTT: reconnected to %s%s; %d pose messages dropped meanwhile",
                self._where,
                after,
                dropped_meanwhile,
            )
        if events_lost_meanwhile:
            # Unlike poses, every event counts: losing one is worth a warning.
            log.warning(
                "MQTT: %d events lost while disconnected (more than mqtt.event_queue_size = %d waited)",
                events_lost_meanwhile,
                self._config.event_queue_size,
            )
        self._failures = 0
        self._last_failure = None
        self._warned.clear()

    def lost(self, reason: object) -> None:
        log.warning(
            "MQTT: connection to %s lost (%s); queueing up to %d pose messages and %d events, "
            "and reconnecting",
            self._where,
            reason,
            self._config.queue_size,
            self._config.event_queue_size,
        )

    def message_failed(self, topic: str, why: str) -> None:
        """A message the client or the broker refused (queue full, ACL)."""
        key = f"{topic}: {why}"
        if key in self._warned:
            log.debug("MQTT: %s refused again: %s", topic, why)
            return
        self._warned.add(key)
        log.warning(
            "MQTT: a message to %s was refused: %s (further ones are logged at debug level)", topic, why
        )
