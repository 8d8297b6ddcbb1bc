"""Per-camera availability, reloads on the live connection, measured values only,
and the warning for a broker that never answers CONNECT. Real Mosquitto."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from posed.mqtt.config import MqttConfig
from posed.mqtt.publisher import Publisher
from posed.stats import CameraStats, Percentiles, StatsSnapshot
from tests.mosquitto import Mosquitto, Received, Subscriber
from tests.mqtt_support import config, frames, poses_for, validate_all, wait

HA = {"homeassistant": {"enabled": True}}
EVERYTHING = ["posed/#", "homeassistant/#"]


def _is(topic: str, text: str | None = None) -> Callable[[Received], bool]:
    return lambda m: m.topic == topic and (text is None or m.text == text)


def _feed(pub: Publisher, camera: str, count: int, people: int = 1) -> None:
    for frame, _ in zip(frames(), range(count), strict=False):
        size = {"width": frame.width, "height": frame.height}
        pub.publish_poses(camera, frame, poses_for(frame, people), inference_ms=12.0, **size)


def _texts(messages: list[Received], topic: str) -> list[str]:
    return [m.text for m in messages if m.topic == topic]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path) as running:
        yield running


def test_a_dead_camera_is_unavailable_and_comes_back_with_fresh_states(broker: Mosquitto) -> None:
    with Subscriber(broker, EVERYTHING) as sub:
        pub = Publisher(config(broker, **HA), "dev", cameras=["front", "back"], model="m", backend="b")
        topics = pub.topics
        front = topics.camera_availability("front")
        with pub:
            pub.start()
            sub.wait_for(_is(topics.availability, "online"))
            # Before any frame a camera is not delivering: offline, sent before the device's online.
            order = [m.topic for m in sub.snapshot()]
            assert order.index(front) < order.index(topics.availability)
            assert _texts(sub.snapshot(), front) == ["offline"]

            pub.publish_camera_status("front", "online")
            _feed(pub, "front", 3, people=1)
            sub.wait_for(_is(front, "online"))
            ms = sub.snapshot()
            seq = [(m.topic, m.text) for m in ms]
            # Fresh count and presence go out before the camera's availability says online.
            assert seq.index((topics.count("front"), "1")) < seq.index((front, "online"))
            assert seq.index((topics.presence("front"), "ON")) < seq.index((front, "online"))

            # The camera dies: unavailable at once, even though its last state was a person.
            sub.clear()
            pub.publish_camera_status("front", "reconnecting")
            sub.wait_for(_is(front, "offline"))
            # A frame still in flight while reconnecting does not make it available again.
            _feed(pub, "front", 1, people=1)
            pub.publish_camera_status("back", "online")  # something to wait for after it
            sub.wait_for(_is(topics.status("back"), "online"))
            assert _texts(sub.snapshot(), front) == ["offline"]

            # Back: the first frame brings fresh states (even the same count) and then online.
            sub.clear()
            pub.publish_camera_status("front", "online")
            _feed(pub, "front", 1, people=1)
            sub.wait_for(_is(front, "online"))
            seq = [(m.topic, m.text) for m in sub.snapshot()]
            assert (topics.count("front"), "1") in seq and (topics.presence("front"), "ON") in seq
            assert seq.index((topics.count("front"), "1")) < seq.index((front, "online"))
            assert _texts(sub.snapshot(), topics.availability) == [], "the device never blinked"
        sub.wait_for(_is(topics.availability, "offline"))
        # A clean stop says no camera delivers any more, before the device's offline.
        ms = sub.snapshot()
        seq = [(m.topic, m.text) for m in ms]
        assert seq.index((front, "offline")) < seq.index((topics.availability, "offline"))
        validate_all(topics, ms)


def test_the_device_comes_online_only_after_stale_camera_availability_is_replaced(broker: Mosquitto) -> None:
    """A camera `online` retained from an earlier run must not show old values as current."""
    cfg = config(broker)
    with Subscriber(broker, ["posed/#"]) as killed:  # what a posed killed with SIGKILL leaves
        killed.publish("posed/dev/front/availability", b"online", retain=True)
        killed.publish("posed/dev/availability", b"offline", retain=True)
    second = Publisher(cfg, "dev", cameras=["front"], model="m", backend="b")
    with Subscriber(broker, ["posed/#"]) as sub, second:
        second.start()
        sub.wait_for(_is(second.topics.availability, "online"))
        live = [(m.topic, m.text) for m in sub.snapshot() if not m.retain]
        front = second.topics.camera_availability("front")
        assert live.index((front, "offline")) < live.index((second.topics.availability, "online"))


def _stats(camera: CameraStats, cpu: float | None = 50.0) -> StatsSnapshot:
    return StatsSnapshot((camera,), "tflite", {"main": "CPU"}, cpu, 120.0, 30.0)


def test_diagnostics_are_null_until_measured_and_retained(broker: Mosquitto) -> None:
    with Subscriber(broker, EVERYTHING) as sub:
        pub = Publisher(config(broker, **HA), "dev", cameras=["front"], model="m", backend="b")
        topics = pub.topics
        with pub:
            pub.start()
            sub.wait_for(_is(topics.availability, "online"))
            seq = [m.topic for m in sub.snapshot()]
            # Values of an earlier run are replaced by nulls before the device is online.
            assert seq.index(topics.diagnostics("front")) < seq.index(topics.availability)
            assert seq.index(topics.host) < seq.index(topics.availability)
            first = json.loads(
                next(m.payload for m in sub.snapshot() if m.topic == topics.diagnostics("front"))
            )
            assert first["processed_fps"] is None and first["inference_ms"] is None
            host = json.loads(next(m.payload for m in sub.snapshot() if m.topic == topics.host))
            assert host["cpu_percent"] is None and host["rss_mb"] is None

            sub.clear()
            unmeasured = CameraStats("front", "online", None, None, None, Percentiles(21.5, 30.0), None, 0, 0)
            pub.publish_stats(_stats(unmeasured, cpu=None))
            message = sub.wait_for(_is(topics.diagnostics("front")))
            doc = json.loads(message.payload)
            assert doc["inference_ms"] == 21.5 and doc["processed_fps"] is None
            stats = json.loads(sub.wait_for(_is(topics.stats)).payload)
            assert stats["cameras"]["front"]["processed_fps"] is None and stats["cpu_percent"] is None

            sub.clear()
            measured = CameraStats("front", "online", 30.0, 24.0, 6.0, Percentiles(21.5, 30.0), None, 1, 0)
            pub.publish_stats(_stats(measured))
            doc = json.loads(sub.wait_for(_is(topics.diagnostics("front"))).payload)
            assert doc["processed_fps"] == 24.0 and doc["camera_fps"] == 30.0 and doc["reconnects"] == 1
            assert json.loads(sub.wait_for(_is(topics.host)).payload)["cpu_percent"] == 50.0
        with Subscriber(broker, [topics.diagnostics("front")]) as late:
            kept = late.wait_for(lambda m: m.retain)
        assert json.loads(kept.payload)["processed_fps"] == 24.0
        validate_all(topics, sub.snapshot())


def test_a_reload_that_changes_cameras_keeps_the_connection(broker: Mosquitto) -> None:
    with Subscriber(broker, EVERYTHING) as sub:
        cfg = config(broker, **HA)
        pub = Publisher(cfg, "dev", cameras=["front", "back"], model="m", backend="b")
        topics = pub.topics
        with pub:
            pub.start()
            sub.wait_for(_is(topics.availability, "online"))  # ranks after cameras' availability
            for camera in ("front", "back"):
                pub.publish_camera_status(camera, "online")
                _feed(pub, camera, 2)
            sub.wait_for(_is(topics.camera_availability("back"), "online"))
            sub.wait_for(_is(topics.camera_availability("front"), "online"))
            connects = pub.reconnects
            sub.clear()

            changed = MqttConfig.model_validate({**cfg.model_dump(), "qos": 1, "presence_hold": 1.0})
            assert pub.can_reconfigure(changed, "dev")
            pub.reconfigure(changed, cameras=["front", "side"], model="m2", backend="b")
            node = topics.ha_node_id
            sub.wait_for(_is(f"homeassistant/sensor/{node}/side_people/config"))
            sub.wait_for(_is(f"homeassistant/sensor/{node}/back_people/config", ""))
            sub.wait_for(_is(topics.count("back"), ""))
            sub.wait_for(_is(topics.camera_availability("back"), ""))
            pub.publish_camera_status("side", "online")
            _feed(pub, "side", 1)
            _feed(pub, "front", 1)
            sub.wait_for(_is(topics.camera_availability("side"), "online"))
            ms = sub.snapshot()
            assert _texts(ms, topics.availability) == [], (pub.reconnects, connects, ms)
            assert _texts(ms, topics.camera_availability("front")) == [], "a kept camera did not blink"
            assert pub.reconnects == connects
            host = json.loads(sub.wait_for(_is(f"homeassistant/sensor/{node}/cpu/config")).payload)
            assert host["device"]["model"] == "m2 on b"
            sub.wait_for(
                lambda m: m.topic == topics.poses("front") and json.loads(m.payload)["model"] == "m2"
            )
            with pytest.raises(ValueError, match="unknown camera"):
                pub.publish_camera_status("back", "online")

            # What needs a new client: where and how to connect, the topics.
            for key, value in (("port", 1), ("topic_prefix", "x"), ("keepalive", 60), ("username", "u")):
                other = MqttConfig.model_validate({**cfg.model_dump(), key: value})
                assert not pub.can_reconfigure(other, "dev"), key
            assert not pub.can_reconfigure(cfg, "other-device")

            # A broker that lost everything (restarted without persistence): what posed sends on
            # reconnecting is this configuration's state only, the removed camera's is gone.
            broker.kill()
            broker.start()
            with Subscriber(broker, EVERYTHING) as after:
                wait(lambda: pub.reconnects == connects + 1 and pub.connected, 15, "the reconnection")
                after.wait_for(_is(topics.availability, "online"))
                after.wait_for(_is(f"homeassistant/sensor/{node}/side_people/config"))
                resent = [m.topic for m in after.snapshot() if "back" in m.topic and m.payload]
            assert resent == [], resent


class SilentBroker:
    """Accepts TCP connections and never answers: a wrong port, a hung or overloaded broker."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._held.append(conn)

    def __enter__(self) -> SilentBroker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.close()
        for conn in self._held:
            conn.close()


def test_a_broker_that_never_sends_connack_is_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    with SilentBroker() as silent, caplog.at_level(logging.DEBUG, logger="posed.mqtt"):
        cfg = MqttConfig(port=silent.port, keepalive=5, reconnect_min_delay=0.2, reconnect_max_delay=0.5)
        with Publisher(cfg, "dev", cameras=["front"], model="m", backend="b") as pub:
            pub.start()

            def attempts() -> int:
                return sum("no CONNACK" in r.getMessage() for r in caplog.records)

            wait(lambda: attempts() >= 2, 30, "two attempts without a CONNACK")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("no CONNACK" in w for w in warnings) == 1, warnings
    assert any("keepalive = 5 s" in w for w in warnings)


def test_a_reload_while_disconnected_replaces_removed_cameras_state_with_deletions() -> None:
    """Not left to the clean-up subscription: a broker that never got the old state, or lost it,
    would otherwise be sent the removed camera's entities on the next connect."""
    cfg = MqttConfig.model_validate(HA)
    pub = Publisher(cfg, "dev", cameras=["front", "back"], model="m", backend="b")
    outbox = pub._connection.outbox  # what will be sent on the next connect
    topics = pub.topics
    back = [topics.count("back"), topics.camera_availability("back"), topics.diagnostics("back")]
    back.append(topics.discovery("sensor", "back_people"))
    assert all(outbox.state_payload(t) for t in back[1:])
    pub.reconfigure(cfg, cameras=["front"], model="m", backend="b")
    assert [outbox.state_payload(t) for t in back] == [b""] * len(back)
    assert outbox.state_payload(topics.camera_availability("front")) == b"offline"
