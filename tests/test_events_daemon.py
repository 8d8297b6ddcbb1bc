"""The daemon's event stage end to end: `posed run` on the squat clip, a real Mosquitto.

Events arrive on {camera}/events, the retained state topics follow, Home Assistant's
reset button zeroes the count over MQTT, and after a broker restart (which loses
every retained message) posed republishes its state and answers the button again.
A second camera loops over one empty image so the daemon keeps running after the clip.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from posed.mqtt.topics import Topics
from tests.conftest import CONFORMANCE
from tests.daemon_harness import Daemon
from tests.mosquitto import Mosquitto, Received, Subscriber
from tests.mqtt_support import validate

SQUATS = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"
TOPICS = Topics("ev", "dev")
BASE = "ev/dev/squats"


def write_config(tmp_path: Path, port: int) -> Path:
    import cv2  # noqa: PLC0415 (OpenCV loads on first frame)

    empty = tmp_path / "empty"
    empty.mkdir()
    cv2.imwrite(str(empty / "grey.png"), np.full((240, 320, 3), 128, dtype=np.uint8))
    config = tmp_path / "posed.yaml"
    config.write_text(
        "device_id: dev\n"
        "backend: {type: tflite, num_threads: 1}\n"
        "model: {name: blazepose-lite}\n"
        "cameras:\n"
        f"  squats:\n    type: video\n    path: {SQUATS}\n"
        "    zones:\n      mat: {points: [[0, 0], [1, 0], [1, 1], [0, 1]]}\n"
        f"  idle: {{type: images, path: {empty}, realtime: true, fps: 2, loop: true}}\n"
        f"mqtt: {{host: 127.0.0.1, port: {port}, topic_prefix: ev, homeassistant: {{enabled: true}}}}\n"
        "events:\n  reps: {exercises: [squat]}\n"
    )
    return config


def latest(sub: Subscriber, topic: str) -> str | None:
    found = [m for m in sub.snapshot() if m.topic == topic]
    return found[-1].text if found else None


def wait_state(sub: Subscriber, topic: str, value: str, timeout: float = 60.0) -> Received:
    return sub.wait_for(lambda m: m.topic == topic and m.text == value, timeout=timeout)


def test_events_state_topics_and_the_reset_button_over_mqtt(tmp_path: Path) -> None:
    with (
        Mosquitto(tmp_path) as broker,
        Subscriber(broker, ["ev/#", "homeassistant/#"]) as sub,
        Daemon(write_config(tmp_path, broker.port), tmp_path / "posed.log") as daemon,
    ):
        count = f"{BASE}/reps/squat/count"
        wait_state(sub, count, "2", timeout=120)
        # state goes out ahead of the event stream: wait for the second rep's event too
        sub.wait_for(lambda m: m.topic == f"{BASE}/events" and b'"count":2' in m.payload, timeout=30)
        events = [json.loads(m.payload) for m in sub.snapshot() if m.topic == f"{BASE}/events"]
        reps = [e for e in events if e["type"] == "rep"]
        assert [(e["exercise"], e["count"]) for e in reps] == [("squat", 1), ("squat", 2)]
        assert [e for e in events if e["type"] == "fall"] == []
        assert {"type": "zone", "zone": "mat", "state": "enter"}.items() <= events[0].items()
        # The squatter is one tracked person: every event carries the same id.
        assert len({e["person"] for e in events}) == 1 and isinstance(events[0]["person"], int)
        for message in sub.snapshot():
            if message.topic.startswith(("ev/", "homeassistant/")) and "/reset" not in message.topic:
                validate(TOPICS, message)  # every payload against its shipped schema
        events_qos = {m.qos for m in sub.snapshot() if m.topic == f"{BASE}/events"}
        assert events_qos == {1}
        assert latest(sub, f"{BASE}/fall") == "OFF"
        assert latest(sub, f"{BASE}/zones/mat/occupancy") == "ON"
        assert latest(sub, f"{BASE}/zones/mat/count") == "1"

        button = sub.wait_for(lambda m: m.topic.endswith("/squats_squat_reset/config"))
        assert button.topic == TOPICS.discovery_of("button", "squats_squat_reset")
        command = json.loads(button.payload)["command_topic"]
        sensor = sub.wait_for(lambda m: m.topic.endswith("/squats_squat_reps/config"))
        assert json.loads(sensor.payload)["state_class"] == "total_increasing"
        fall = sub.wait_for(lambda m: m.topic.endswith("/squats_fall/config"))
        assert json.loads(fall.payload)["device_class"] == "safety"
        trigger = sub.wait_for(lambda m: "device_automation" in m.topic and "hand_raised" in m.topic)
        assert json.loads(trigger.payload)["topic"] == f"{BASE}/events"
        gestures = sub.wait_for(lambda m: m.topic == TOPICS.discovery_of("event", "squats_gestures"))
        assert json.loads(gestures.payload)["event_types"] == [
            "hand_raised",
            "both_hands_up",
            "t_pose",
        ]

        # The broker restarts and forgets every retained message: posed republishes its
        # state (the count is still 2) and subscribes to the button's command topic again.
        sub.clear()
        broker.restart()
        wait_state(sub, count, "2", timeout=60)
        wait_state(sub, f"{BASE}/zones/mat/occupancy", "ON", timeout=60)
        wait_state(sub, f"{BASE}/fall", "OFF", timeout=60)
        sub.wait_for(lambda m: m.topic == button.topic, timeout=60)
        sub.clear()
        sub.publish(command, b"PRESS")
        wait_state(sub, count, "0", timeout=30)
        daemon.wait_log("MQTT: reset of squat reps on camera squats requested")
        # Home Assistant restarts: posed re-sends discovery and the state, count included.
        sub.clear()
        sub.publish("homeassistant/status", b"online")
        sub.wait_for(lambda m: m.topic == button.topic, timeout=30)
        wait_state(sub, count, "0", timeout=30)
