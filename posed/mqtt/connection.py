"""The broker connection: one paho client, the Outbox, and the thread that feeds one into the other.

Threads: the callers (the inference loops) only put messages in the Outbox;
paho's network thread (loop_start) runs the callbacks; a sender thread moves
messages from the Outbox into paho while connected. So a publish call never
waits for the network, and a broker outage costs bounded memory.

Lock order, to stay deadlock-free: `_send_lock` is taken before paho's own
locks and never while holding the Outbox's lock; paho's callbacks, which run
under paho's locks, only touch the Outbox, Events and the listeners below
(which must do the same).

The topic families (posed.mqtt.camera_state, stats_topic, homeassistant) know
nothing of paho: they put messages here, and may ask for subscriptions, a
callback per received message and one per sender round (`tick`).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from posed.errors import MqttError
from posed.mqtt import payloads
from posed.mqtt.client import build_client, connect_properties
from posed.mqtt.config import MqttConfig
from posed.mqtt.credentials import RedactFilter
from posed.mqtt.outbox import Lane, Message, Outbox
from posed.mqtt.report import ConnectionReport
from posed.stats import MqttCounters

log = logging.getLogger("posed.mqtt.publisher")

# Order in which state topics go out after a (re)connect: HA must know an
# entity before its state arrives, a camera's availability follows its fresh
# state, and the device's `online` last says all is current (so a camera's
# `online` retained from an earlier run is replaced before the device is back).
RANK_DISCOVERY, RANK_STATE, RANK_CAMERA_AVAILABILITY, RANK_AVAILABILITY = 0, 1, 2, 3
STATE_QOS = 1
_TICK_S = 0.5  # how often the tick listeners run without anything to send
_CLOSE_DRAIN_S = 1.0  # close(): time to flush what is queued
_CLOSE_ACK_S = 2.0  # close(): time to wait for the broker to confirm `offline`

# A received message: topic, payload, retained flag. Runs on paho's thread; must not block.
MessageListener = Callable[[str, bytes, bool], None]
TickListener = Callable[[float], None]  # time.monotonic(); runs on the sender thread


class Connection:
    """Owns the paho client and the Outbox; `availability` is the device's birth/will topic."""

    def __init__(self, config: MqttConfig, *, client_id: str, availability: str) -> None:
        self._config = config
        self._client_id = client_id
        self._availability = availability
        self.outbox = Outbox(
            queue_size=config.queue_size,
            max_inflight=config.max_inflight,
            event_queue_size=config.event_queue_size,
        )
        self._send_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._client: Any = None
        self._redact: RedactFilter | None = None
        self._sender: threading.Thread | None = None
        self._connected = False
        self._connects = 0
        self._dropped_at_disconnect = 0
        self._events_dropped_at_disconnect = 0
        self._started = False
        self._closing = False
        self._connack_seen = False  # in the current connection attempt
        self._subscriptions: list[tuple[str, int]] = []
        self._message_listeners: list[MessageListener] = []
        self._tick_listeners: list[TickListener] = []
        self._report = ConnectionReport(config, client_id)
        self.put_state(availability, payloads.availability(True), RANK_AVAILABILITY)

    # -- set up before start() --------------------------------------------------

    def subscribe(self, topic: str, qos: int) -> None:
        """Subscribe on every connect (QoS 0 ones are asked again on the next connect)."""
        self._subscriptions = [*self._subscriptions, (topic, qos)]

    def on_message(self, listener: MessageListener) -> None:
        self._message_listeners = [*self._message_listeners, listener]

    def on_tick(self, listener: TickListener) -> None:
        self._tick_listeners = [*self._tick_listeners, listener]

    def reset_listeners(self) -> None:
        """Forget every subscription and listener: a reconfigured publisher registers its own.

        Lists are replaced, never changed in place, so paho's and the sender's threads
        can iterate over them without a lock. Topics already subscribed stay so until
        the next connect; the new listeners ignore what they do not know.
        """
        self._subscriptions = []
        self._message_listeners = []
        self._tick_listeners = []

    def subscribe_now(self) -> None:
        """Send the current subscriptions at once (after reset_listeners on a live connection)."""
        client = self._client
        if client is not None and self._connected:
            for topic, qos in self._subscriptions:
                client.subscribe(topic, qos=qos)

    # -- producers (any thread) -------------------------------------------------

    def put_state(self, topic: str, payload: bytes, rank: int = RANK_STATE) -> None:
        """A retained state topic: the newest payload wins and is re-sent on every connect."""
        self.outbox.put_state(Message(topic, payload, STATE_QOS, retain=True, lane=Lane.STATE, rank=rank))

    def clear_state(self, topic: str) -> None:
        """Delete a retained topic on the broker (an empty retained message), once: it is not
        re-sent on later connects, unless the connection drops before it goes out."""
        self.outbox.put_state(
            Message(topic, b"", STATE_QOS, retain=True, lane=Lane.STATE, rank=RANK_STATE, forget=True)
        )

    def put_stream(self, topic: str, payload: bytes, qos: int) -> None:
        """A non-retained message of a stream (bounded; the oldest is dropped when full)."""
        self.outbox.put_stream(Message(topic, payload, qos, retain=False, lane=Lane.STREAM))

    def put_event(self, topic: str, payload: bytes, qos: int) -> None:
        """An event: sent before any pose, in its own bounded queue that poses cannot overflow."""
        self.outbox.put_event(Message(topic, payload, qos, retain=False, lane=Lane.EVENT))

    def put_latest(self, topic: str, payload: bytes) -> None:
        """The single latest-wins slot (stats), QoS 0, not retained."""
        self.outbox.put_latest(Message(topic, payload, 0, retain=False, lane=Lane.LATEST))

    def wake(self) -> None:
        self._wake.set()

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> None:
        """Start connecting in the background and return at once.

        An unreachable broker is retried with back-off; bad local settings
        (password file, TLS files) raise MqttError.
        """
        if self._started:
            raise MqttError("the MQTT publisher is already started")
        client, self._redact = build_client(
            self._config,
            client_id=self._client_id,
            will_topic=self._availability,
            will_payload=payloads.availability(False),
        )
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        cfg = self._config
        extra: dict[str, Any] = {}
        if cfg.protocol == "5":
            extra = {"clean_start": True, "properties": connect_properties(cfg)}
        client.connect_async(cfg.host, cfg.port, cfg.keepalive, **extra)
        self._client = client
        self._started = True
        self._report.connecting()
        client.loop_start()
        self._sender = threading.Thread(target=self._run_sender, name="posed-mqtt-sender", daemon=True)
        self._sender.start()

    @property
    def started(self) -> bool:
        return self._started

    def close(self) -> None:
        """Publish a retained `offline`, wait briefly for it, disconnect. Call once."""
        if not self._started:
            return
        deadline = time.monotonic() + _CLOSE_DRAIN_S
        while self._connected and not self.outbox.idle() and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.02)
        self._stop.set()
        self._wake.set()
        if self._sender is not None:
            self._sender.join()
        self._closing = True
        client = self._client
        info = None
        with self._send_lock:
            if self._connected:
                info = client.publish(
                    self._availability, payloads.availability(False), qos=STATE_QOS, retain=True
                )
        if info is not None and info.rc == 0:
            info.wait_for_publish(_CLOSE_ACK_S)
            if not info.is_published():
                log.warning("MQTT: the broker did not confirm `offline` within %.0f s", _CLOSE_ACK_S)
        # paho's "Client is not connected" ERROR after this is dropped by posed.mqtt.client's filter.
        client.disconnect()
        client.loop_stop()
        if self._redact is not None:
            logging.getLogger("posed.mqtt.paho").removeFilter(self._redact)
        log.info(
            "MQTT: closed (%d pose messages and %d events dropped in all)",
            self.outbox.dropped,
            self.outbox.events_dropped,
        )

    # -- counters -----------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def reconnects(self) -> int:
        """Successful connections after the first."""
        return max(self._connects - 1, 0)

    def counters(self) -> MqttCounters:
        outbox = self.outbox
        return MqttCounters(
            connected=self._connected,
            reconnects=self.reconnects,
            dropped=outbox.dropped,
            queued=outbox.queued,
            events_dropped=outbox.events_dropped,
            events_queued=outbox.events_queued,
        )

    # -- the sender thread ----------------------------------------------------------

    def _run_sender(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(_TICK_S)
            self._wake.clear()
            try:
                now = time.monotonic()
                for listener in self._tick_listeners:
                    listener(now)
                self._send_pending()
            except Exception:
                # The sender must outlive any bug in one message, or nothing is published again.
                log.exception("MQTT: unexpected error in the sender thread")

    def _send_pending(self) -> None:
        from paho.mqtt.client import MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, error_string

        while self._connected:
            with self._send_lock:
                if not self._connected:
                    return
                message = self.outbox.take()
                if message is None:
                    return
                info = self._client.publish(message.topic, message.payload, message.qos, message.retain)
                if info.rc == MQTT_ERR_SUCCESS:
                    self.outbox.handed(info.mid, message)
                elif info.rc == MQTT_ERR_NO_CONN:
                    self.outbox.give_back(message)
                    return
                else:
                    self.outbox.drop(message)
                    self._report.message_failed(message.topic, error_string(info.rc))

    # -- paho callbacks: they run on paho's thread and never raise --------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        try:
            self._connack_seen = True
            if reason.is_failure:
                self._report.refused(reason.getName(), reason.value)
                return
            with self._send_lock:
                # paho would re-send its unconfirmed messages after this callback,
                # behind the newer state we are about to send; the Outbox has them
                # all and re-sends them in the right order instead.
                client.drop_out_messages()
                self.outbox.reset()
                self._connects += 1
                self._connected = True
            for topic, qos in self._subscriptions:
                client.subscribe(topic, qos=qos)
            self._report.connected(
                first=self._connects == 1,
                dropped_meanwhile=self.outbox.dropped - self._dropped_at_disconnect,
                events_lost_meanwhile=self.outbox.events_dropped - self._events_dropped_at_disconnect,
                now=time.monotonic(),
            )
            self._wake.set()
        except Exception:
            log.exception("MQTT: error in on_connect")

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        try:
            # paho calls this from inside its `except OSError`, so the error is current.
            self._report.unreachable(sys.exc_info()[1])
        except Exception:
            log.exception("MQTT: error in on_connect_fail")

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        try:
            was_connected = self._connected
            self._connected = False
            if self._closing:
                log.debug("MQTT: disconnected (%s)", reason)
                return
            if not was_connected:
                if not self._connack_seen:
                    # The TCP (and TLS) connection was up but no CONNACK came (paho waits
                    # mqtt.keepalive seconds) and gives up silently: say so, once.
                    self._report.no_connack(reason)
                self._connack_seen = False
                return
            self._connack_seen = False
            self._dropped_at_disconnect = self.outbox.dropped
            self._events_dropped_at_disconnect = self.outbox.events_dropped
            self._report.lost(reason, now=time.monotonic())
        except Exception:
            log.exception("MQTT: error in on_disconnect")

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        try:
            message = self.outbox.confirmed(mid)
            if message is not None and reason.is_failure:
                self.outbox.drop(message)
                self._report.message_failed(message.topic, str(reason))
            self._wake.set()
        except Exception:
            log.exception("MQTT: error in on_publish")

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        try:
            for listener in self._message_listeners:
                listener(message.topic, bytes(message.payload), bool(message.retain))
        except Exception:
            log.exception("MQTT: error in on_message")
