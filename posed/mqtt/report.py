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
_SESSION_TAKEN_OVER = 142  # MQTT 5: another client connected with this client id
# MQTT 3.1.1 brokers drop the older of two clients with one id without saying why; the two then
# take turns knocking each other off, every reconnect delay. This many connections in a row
# that each end within SHORT_LIVED_S of their CONNACK are taken for that.
SHORT_LIVED_S = 5.0
SHORT_LIVED_IN_A_ROW = 3


class ConnectionReport:
    def __init__(self, config: MqttConfig, client_id: str) -> None:
        self._config = config
        self._client_id = client_id
        self._failures = 0
        self._last_failure: str | None = None
        self._warned: set[str] = set()
        self._connected_at: float | None = None
        self._short_lived = 0
        self._duplicate_said = False

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

    def connected(
        self, *, first: bool, dropped_meanwhile: int, events_lost_meanwhile: int = 0, now: float = 0.0
    ) -> None:
        """`now`: time.monotonic() of the CONNACK, to tell a connection that lasted from one that did not."""
        self._connected_at = now
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

    def lost(self, reason: object, now: float = 0.0) -> None:
        """The connection dropped without posed asking; `now` is time.monotonic()."""
        lasted = None if self._connected_at is None else now - self._connected_at
        self._short_lived = self._short_lived + 1 if lasted is not None and lasted < SHORT_LIVED_S else 0
        if getattr(reason, "value", None) == _SESSION_TAKEN_OVER or self._short_lived >= SHORT_LIVED_IN_A_ROW:
            self._duplicate_client_id()
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

    def _duplicate_client_id(self) -> None:
        if self._duplicate_said:
            log.debug("MQTT: client id %s still in use by another client", self._client_id)
            return
        self._duplicate_said = True
        log.error(
            "MQTT: the broker keeps dropping posed's connection right after accepting it: another "
            "client is most likely using the same client id %r (two posed with the same device_id "
            "on one broker, e.g. `posed demo` and a config with `device_id: demo`). The two knock "
            "each other off every few seconds and overwrite each other's retained state. Give each "
            "its own device_id (or mqtt.client_id)",
            self._client_id,
        )
