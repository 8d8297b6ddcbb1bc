"""The MQTT publisher: the one owner of the broker connection.

Threads: the caller's (the inference loop) only builds payloads and puts them
in the Outbox; paho's network thread (loop_start) runs the callbacks; a sender
thread moves messages from the Outbox into paho while connected. So a publish
call never waits for the network, and a broker outage costs bounded memory.

Lock order, to stay deadlock-free: `_send_lock` is taken before paho's own
locks and never while holding the Outbox's lock; paho's callbacks, which run
under paho's locks, only touch the Outbox and Events.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from posed import __version__
from posed.errors import ClosedError, MqttError
from posed.mqtt import payloads
from posed.mqtt.cleanup import RETAINED_CAMERA_KINDS, RetainedCleanup
from posed.mqtt.client import build_client, client_id_for, connect_properties
from posed.mqtt.config import MqttConfig
from posed.mqtt.credentials import RedactFilter
from posed.mqtt.discovery import discovery_messages
from posed.mqtt.gate import CameraGate
from posed.mqtt.outbox import Lane, Message, Outbox
from posed.mqtt.report import ConnectionReport
from posed.mqtt.topics import Topics
from posed.stats import StatsSnapshot
from posed.types import Frame, Pose

log = logging.getLogger(__name__)

# Order in which state topics go out after a (re)connect: HA must know an
# entity before its state arrives, and `online` last says all is current.
RANK_DISCOVERY, RANK_STATE, RANK_AVAILABILITY = 0, 1, 2
STATE_QOS = 1
_TICK_S = 0.5  # how often presence hold times are checked without frames
_CLOSE_DRAIN_S = 1.0  # close(): time to flush what is queued
_CLOSE_ACK_S = 2.0  # close(): time to wait for the broker to confirm `offline`


class Publisher:
    """Publishes poses, state, stats and HA discovery for one device. A context manager."""

    def __init__(
        self, config: MqttConfig, device_id: str, *, cameras: Sequence[str], model: str, backend: str
    ) -> None:
        if len(set(cameras)) != len(cameras):
            raise ValueError(f"camera names must be unique: {list(cameras)}")
        self._config = config
        self._device_id = device_id
        self._model = model
        self._backend = backend
        self._topics = Topics(config.topic_prefix, device_id, config.homeassistant.discovery_prefix)
        self._outbox = Outbox(queue_size=config.queue_size, max_inflight=config.max_inflight)
        self._gates = {
            camera: CameraGate(
                max_rate_hz=config.max_rate_hz,
                only_when_people=config.only_when_people,
                presence_hold=config.presence_hold,
            )
            for camera in cameras
        }
        self._gate_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._client: Any = None
        self._redact: RedactFilter | None = None
        self._sender: threading.Thread | None = None
        self._connected = False
        self._connects = 0
        self._dropped_at_disconnect = 0
        self._started = False
        self._closing = False
        self._closed = False
        self._client_id = client_id_for(config, device_id)
        self._report = ConnectionReport(config, self._client_id)
        self._put_state(self._topics.availability, payloads.availability(True), RANK_AVAILABILITY)
        discovery = []
        if config.homeassistant.enabled:
            discovery = discovery_messages(
                config, self._topics, cameras=cameras, model=model, backend=backend, version=__version__
            )
            for message in discovery:
                self._put_state(message.topic, payloads.encode(message.document), RANK_DISCOVERY)
        retained = [self._topics.camera(c, kind) for c in cameras for kind in RETAINED_CAMERA_KINDS]
        self._cleanup = RetainedCleanup(
            self._topics,
            frozenset([m.topic for m in discovery] + retained),
            homeassistant=config.homeassistant.enabled,
        )

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Start connecting in the background and return at once.

        An unreachable broker is retried with back-off; bad local settings
        (password file, TLS files) raise MqttError.
        """
        if self._closed:
            raise ClosedError("the MQTT publisher is closed")
        if self._started:
            raise MqttError("the MQTT publisher is already started")
        client, self._redact = build_client(
            self._config,
            client_id=self._client_id,
            will_topic=self._topics.availability,
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

    def close(self) -> None:
        """Publish a retained `offline`, wait briefly for it, disconnect. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if not self._started:
            return
        deadline = time.monotonic() + _CLOSE_DRAIN_S
        while self._connected and not self._outbox.idle() and time.monotonic() < deadline:
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
                    self._topics.availability, payloads.availability(False), qos=STATE_QOS, retain=True
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
        log.info("MQTT: closed (%d pose messages dropped in all)", self._outbox.dropped)

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
        gate = self._gate(camera)
        with self._gate_lock:
            decision = gate.on_frame(len(poses), time.monotonic())
        if decision.count is not None:
            self._put_state(self._topics.count(camera), payloads.count(decision.count), RANK_STATE)
        if decision.presence is not None:
            self._put_state(self._topics.presence(camera), payloads.presence(decision.presence), RANK_STATE)
        if decision.publish:
            document = payloads.poses(
                device_id=self._device_id,
                camera=camera,
                frame_number=frame.number,
                captured_at=frame.wall,
                latency_ms=(time.time() - frame.wall) * 1000.0,
                inference_ms=inference_ms,
                model=self._model,
                backend=self._backend,
                width=width,
                height=height,
                people=poses,
                fmt="compact" if self._config.compact else "full",
            )
            self._outbox.put_stream(
                Message(
                    self._topics.poses(camera),
                    payloads.encode(document),
                    self._config.qos,
                    retain=False,
                    lane=Lane.STREAM,
                )
            )
        self._wake.set()

    def publish_camera_status(self, camera: str, status: str) -> None:
        """The camera's state (online, offline, reconnecting), retained."""
        self._check_open()
        self._gate(camera)
        self._put_state(self._topics.status(camera), payloads.camera_status(status), RANK_STATE)
        self._wake.set()

    def publish_stats(self, stats: StatsSnapshot) -> None:
        """The daemon's stats plus MQTT reconnects and dropped messages; only the newest waits."""
        self._check_open()
        document = payloads.stats(
            stats,
            device_id=self._device_id,
            timestamp=time.time(),
            reconnects=self.reconnects,
            dropped=self.dropped,
            queued=self._outbox.queued,
            connected=self._connected,
        )
        self._outbox.put_latest(
            Message(self._topics.stats, payloads.encode(document), 0, retain=False, lane=Lane.LATEST)
        )
        self._wake.set()

    @property
    def topics(self) -> Topics:
        return self._topics

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def reconnects(self) -> int:
        """Successful connections after the first."""
        return max(self._connects - 1, 0)

    @property
    def dropped(self) -> int:
        """Pose messages dropped: queue overflow while the broker was away, or refused."""
        return self._outbox.dropped

    @property
    def queued(self) -> int:
        """Pose messages waiting in the bounded queue."""
        return self._outbox.queued

    # -- internals ------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError("the MQTT publisher is closed")

    def _gate(self, camera: str) -> CameraGate:
        gate = self._gates.get(camera)
        if gate is None:
            raise ValueError(f"unknown camera {camera!r}; the publisher knows {', '.join(self._gates)}")
        return gate

    def _put_state(self, topic: str, payload: bytes, rank: int) -> None:
        self._outbox.put_state(Message(topic, payload, STATE_QOS, retain=True, lane=Lane.STATE, rank=rank))

    def _run_sender(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(_TICK_S)
            self._wake.clear()
            try:
                self._expire_presence()
                self._send_pending()
            except Exception:
                # The sender must outlive any bug in one message, or nothing is published again.
                log.exception("MQTT: unexpected error in the sender thread")

    def _expire_presence(self) -> None:
        now = time.monotonic()
        with self._gate_lock:
            changes = [(camera, gate.on_tick(now)) for camera, gate in self._gates.items()]
        for camera, present in changes:
            if present is not None:
                self._put_state(self._topics.presence(camera), payloads.presence(present), RANK_STATE)

    def _send_pending(self) -> None:
        from paho.mqtt.client import MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, error_string

        while self._connected:
            with self._send_lock:
                if not self._connected:
                    return
                message = self._outbox.take()
                if message is None:
                    return
                info = self._client.publish(message.topic, message.payload, message.qos, message.retain)
                if info.rc == MQTT_ERR_SUCCESS:
                    self._outbox.handed(info.mid, message)
                elif info.rc == MQTT_ERR_NO_CONN:
                    self._outbox.give_back(message)
                    return
                else:
                    self._outbox.drop(message)
                    self._report.message_failed(message.topic, error_string(info.rc))

    # -- paho callbacks: they run on paho's thread and never raise --------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        try:
            if reason.is_failure:
                self._report.refused(reason.getName(), reason.value)
                return
            with self._send_lock:
                # paho would re-send its unconfirmed messages after this callback,
                # behind the newer state we are about to send; the Outbox has them
                # all and re-sends them in the right order instead.
                client.drop_out_messages()
                self._outbox.reset()
                self._connects += 1
                self._connected = True
            if self._config.homeassistant.enabled:
                client.subscribe(self._topics.ha_status, qos=1)
            for topic in self._cleanup.subscriptions():  # QoS 0: the next connect asks again
                client.subscribe(topic, qos=0)
            lost = self._outbox.dropped - self._dropped_at_disconnect
            self._report.connected(first=self._connects == 1, dropped_meanwhile=lost)
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
            if self._closing or not was_connected:
                log.debug("MQTT: disconnected (%s)", reason)
                return
            self._dropped_at_disconnect = self._outbox.dropped
            self._report.lost(reason)
        except Exception:
            log.exception("MQTT: error in on_disconnect")

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        try:
            message = self._outbox.confirmed(mid)
            if message is not None and reason.is_failure:
                self._outbox.drop(message)
                self._report.message_failed(message.topic, str(reason))
            self._wake.set()
        except Exception:
            log.exception("MQTT: error in on_publish")

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        try:
            # A retained birth message comes with every subscription, i.e. right
            # after a connect, when everything is being re-sent anyway.
            if self._cleanup.is_stale(message.topic, message.payload, retained=bool(message.retain)):
                log.info("MQTT: clearing %s, retained from a camera no longer configured", message.topic)
                self._put_state(message.topic, b"", RANK_STATE)
                self._wake.set()
                return
            birth = message.topic == self._topics.ha_status and message.payload == b"online"
            if birth and not message.retain:
                log.info("MQTT: Home Assistant came online; re-sending discovery and state")
                self._outbox.replay_state()
                self._wake.set()
        except Exception:
            log.exception("MQTT: error in on_message")
