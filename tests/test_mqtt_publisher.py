"""The Publisher against a private Mosquitto: the topic contract, schemas, HA discovery."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from posed.cameras.status import CameraStatus
from posed.errors import ClosedError, MqttError
from posed.mqtt.client import PAHO_LOGGER, build_client
from posed.mqtt.config import MqttConfig
from posed.mqtt.publisher import Publisher
from posed.stats import CameraStats, Percentiles, StatsSnapshot
from tests.mosquitto import Mosquitto, Received, Subscriber, free_port
from tests.mqtt_support import config, document, frames, people_in, poses_for, validate_all, wait

CAMERAS = ["front", "back-yard"]
DISCOVERY_CONFIGS = 5 + 9 * len(CAMERAS)  # host sensors, and nine entities per camera


def snapshot() -> StatsSnapshot:
    cams = tuple(
        CameraStats(
            name, CameraStatus.ONLINE, 30.0, 25.0, 5.0, Percentiles(31.0, 40.0), Percentiles(50.0, 70.0), 0, 0
        )
        for name in CAMERAS
    )
    return StatsSnapshot(cams, "tflite", {"detector": "CPU", "landmarks": "CPU"}, 120.0, 150.0, 12.0)


def _stream(pub: Publisher, camera: str, count: int, fps: float | None = None) -> None:
    for frame, _ in zip(frames(), range(count), strict=False):
        pub.publish_poses(
            camera, frame, poses_for(frame), inference_ms=25.0, width=frame.width, height=frame.height
        )
        if fps is not None:
            time.sleep(1.0 / fps)


def _changes(values: list[str], expected: list[str]) -> bool:
    """`values` are `expected` with some dropped (state is latest-wins), and end the same."""
    it = iter(expected)
    return bool(values) and values[-1] == expected[-1] and all(v in it for v in values)


def _is(topic: str, text: str | None = None) -> Callable[[Received], bool]:
    return lambda m: m.topic == topic and (text is None or m.text == text)


@pytest.mark.parametrize(("protocol", "compact"), [("3.1.1", False), ("5", True)])
def test_every_published_payload_follows_the_contract(tmp_path: Path, protocol: str, compact: bool) -> None:
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["posed/#", "homeassistant/#"]) as sub:
        cfg = config(
            broker, protocol=protocol, compact=compact, presence_hold=0.3, homeassistant={"enabled": True}
        )
        pub = Publisher(cfg, "test-dev", cameras=CAMERAS, model="blazepose-full", backend="tflite")
        topics = pub.topics
        with pub:
            pub.publish_camera_status(
                "front", CameraStatus.RECONNECTING
            )  # before start: kept, sent on connect
            pub.start()
            sub.wait_for(_is(topics.status("front"), "reconnecting"))
            pub.publish_camera_status("front", CameraStatus.ONLINE)
            _stream(pub, "front", 35, fps=30)  # people: 10 frames of 0, 10 of 1, 10 of 2, 5 of 0
            pub.publish_stats(snapshot())
            sub.wait_for(_is(topics.stats))
            sub.wait_for(lambda m: m.topic == topics.poses("front") and document(m)["frame"] == 34)

            # The last frames are empty: presence turns OFF once the hold (0.3 s) runs out.
            def turned_off(ms: list[Received]) -> bool:
                return [m.text for m in ms if m.topic == topics.presence("front")][-2:] == ["ON", "OFF"]

            sub.wait_until(turned_off, timeout=5)
        sub.wait_for(_is(topics.availability, "offline"))
        messages = sub.snapshot()

        # (6) every payload validates against the shipped schemas, and every kind was seen.
        kinds = validate_all(topics, messages)
        assert set(kinds) == {
            "availability", "poses", "count", "presence", "status", "stats", "discovery",
            "diagnostics", "host",
        }  # fmt: skip

        poses = [document(m) for m in messages if m.topic == topics.poses("front")]
        assert [p["frame"] for p in poses] == list(range(35))
        for doc in poses:
            assert doc["count"] == people_in(doc["frame"])
            assert doc["model"] == "blazepose-full" and doc["backend"] == "tflite"
            assert doc["format"] == ("compact" if compact else "full")
            assert 0 <= doc["latency_ms"] < 5000
        if not compact:
            frame = next(f for f in frames() if f.number == 15)
            assert poses[15]["poses"] == [p.to_dict() for p in poses_for(frame)]
        texts = [(m.topic.rsplit("/", 1)[1], m.text) for m in messages if m.topic.startswith(topics.base)]
        # At 30 fps every change goes out; state is latest-wins, so allow for a slow machine.
        counts = [t for k, t in texts if k == "count"]
        assert "2" in counts and _changes(counts, ["0", "1", "2", "0"]), counts
        presence = [t for k, t in texts if k == "presence"]
        assert "ON" in presence and _changes(presence, ["OFF", "ON", "OFF"]), presence
        assert [t for k, t in texts if k == "status"] == ["reconnecting", "online"]
        stats = document(next(m for m in messages if m.topic == topics.stats))
        assert stats["mqtt"] == {
            "connected": True,
            "reconnects": 0,
            "dropped": 0,
            "queued": 0,
            "events_dropped": 0,
            "events_queued": 0,
        }

        # Retained state, as a newcomer (Home Assistant after a restart) sees it.
        with Subscriber(broker, ["posed/#", "homeassistant/#"]) as late:
            # availability, host; per camera availability, diagnostics; front: count, presence, status
            late.wait_until(lambda ms: len(ms) >= 2 + 2 * 2 + 3 + DISCOVERY_CONFIGS, timeout=5)
            retained = {m.topic: m.text for m in late.snapshot() if m.retain}
        assert retained[topics.availability] == "offline"
        assert retained[topics.count("front")] == "0"
        assert retained[topics.presence("front")] == "OFF"
        assert retained[topics.status("front")] == "online"
        assert retained[topics.camera_availability("front")] == "offline"  # posed stopped: none follow
        assert sum(1 for t in retained if t.startswith("homeassistant/")) == DISCOVERY_CONFIGS
        assert topics.poses("front") not in retained and topics.stats not in retained


def test_discovery_is_resent_when_home_assistant_comes_online(tmp_path: Path) -> None:
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["posed/#", "ha/#"]) as sub:
        cfg = config(broker, homeassistant={"enabled": True, "discovery_prefix": "ha"})
        with Publisher(cfg, "dev", cameras=CAMERAS, model="posenet", backend="openvino") as pub:
            topics = pub.topics
            pub.start()
            sub.wait_until(lambda ms: len(configs(ms)) == DISCOVERY_CONFIGS)
            _stream(pub, "back-yard", 15)
            sub.wait_for(_is(topics.count("back-yard"), "1"))
            first = sub.snapshot()
            sub.clear()

            sub.publish(topics.ha_status, b"online")
            again = sub.wait_until(
                lambda ms: (
                    len(configs(ms)) == DISCOVERY_CONFIGS and any(m.topic == topics.availability for m in ms)
                )
            )
            sub.wait_for(_is(topics.count("back-yard"), "1"))
            sub.wait_for(_is(topics.presence("back-yard"), "ON"))
            again = sub.snapshot()
        validate_all(topics, first + again)
        assert configs(again) == configs(first)
        order = [m.topic for m in again]
        last_config = max(i for i, t in enumerate(order) if t.endswith("/config"))
        assert last_config < order.index(topics.availability), "discovery goes before `online`"
        payload = json.loads(next(m.payload for m in again if m.topic.endswith("back-yard_people/config")))
        assert payload["availability"] == [
            {"topic": topics.availability},
            {"topic": topics.camera_availability("back-yard")},
        ]


def test_a_clean_close_logs_no_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """paho's network thread logged "Client is not connected" at ERROR on most clean closes
    of a busy daemon; a thread contending for the GIL here makes that as busy."""
    stop = threading.Event()

    def contend() -> None:
        while not stop.is_set():
            sum(range(1000))

    busy = threading.Thread(target=contend, daemon=True)
    busy.start()
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["posed/dev/availability"]) as sub:
        for _ in range(20):
            sub.clear()
            with (
                caplog.at_level(logging.DEBUG),
                Publisher(config(broker), "dev", cameras=["front"], model="m", backend="b") as pub,
            ):
                pub.start()
                sub.wait_for(_is(pub.topics.availability, "online"))
                _stream(pub, "front", 3)
            sub.wait_for(_is(pub.topics.availability, "offline"))
    stop.set()
    busy.join()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


def test_an_unreachable_broker_neither_raises_nor_grows(caplog: pytest.LogCaptureFixture) -> None:
    cfg = MqttConfig(port=free_port(), queue_size=8, reconnect_min_delay=0.1, reconnect_max_delay=0.2)
    pub = Publisher(cfg, "dev", cameras=["front"], model="m", backend="b")
    with caplog.at_level(logging.INFO, logger="posed.mqtt"):
        pub.start()
        _stream(pub, "front", 30)
        wait(lambda: "cannot connect" in caplog.text, 10, "a log line about the connection")
        assert not pub.connected and pub.queued == 8 and pub.dropped == 22
        pub.close()
        pub.close()
    with pytest.raises(ClosedError):
        pub.start()
    with pytest.raises(ClosedError):
        _stream(pub, "front", 1)
    assert (
        sum("cannot connect" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING) == 1
    )
    # posed's one WARNING says it all: paho's own ERROR per failed attempt ("Client is not
    # connected") would fill the journal during an outage.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_broker_outage_is_told_by_posed_not_by_paho_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = Mosquitto(tmp_path)
    publisher = Publisher(config(broker), "dev", cameras=["front"], model="m", backend="b")
    # DEBUG: posed's repeats of its one warning are how the test counts the failed attempts.
    with broker, caplog.at_level(logging.DEBUG, logger="posed.mqtt"), publisher as pub:
        pub.start()
        wait(lambda: pub.connected, 10, "the first connection")
        broker.kill()
        wait(lambda: "cannot connect" in caplog.text, 10, "a failed reconnection")
        wait(lambda: "(attempt 3)" in caplog.text, 60, "several more attempts, with back-off")
        broker.start()
        wait(lambda: pub.connected, 10, "the reconnection")
    assert "lost" in caplog.text and "reconnected" in caplog.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_paho_connection_chatter_is_not_logged_as_error(caplog: pytest.LogCaptureFixture) -> None:
    build_client(MqttConfig(), client_id="x", will_topic="t", will_payload=b"")
    paho = logging.getLogger(PAHO_LOGGER)
    with caplog.at_level(logging.DEBUG, logger=PAHO_LOGGER):
        paho.error("Client is not connected. Socket: None). Last known Connection State: X")
        paho.error("failed to receive on socket: [Errno 104] Connection reset by peer")
        paho.error("some other failure")
    levels = [(r.getMessage()[:20], r.levelname) for r in caplog.records]
    assert levels == [("failed to receive on", "WARNING"), ("some other failure", "ERROR")]


def test_misuse_is_refused(tmp_path: Path) -> None:
    cfg = MqttConfig(port=free_port(), username="u", password_file=tmp_path / "no-such-file")
    with Publisher(cfg, "dev", cameras=["front"], model="m", backend="b") as pub:
        with pytest.raises(MqttError, match="no-such-file"):
            pub.start()
        with pytest.raises(ValueError, match="unknown camera"):
            pub.publish_camera_status("side", CameraStatus.ONLINE)
        with pytest.raises(ValueError, match="camera status"):
            pub.publish_camera_status("front", "stalled")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unique"):
        Publisher(MqttConfig(), "dev", cameras=["a", "a"], model="m", backend="b")
    with Publisher(MqttConfig(port=free_port()), "dev", cameras=["a"], model="m", backend="b") as pub:
        pub.start()
        with pytest.raises(MqttError, match="already started"):
            pub.start()


def configs(messages: list[Received]) -> set[str]:
    return {m.topic for m in messages if m.topic.endswith("/config")}
