"""Snapshots and clips end to end: `posed run` on a real fall clip, a real Mosquitto, the page.

The fall in fall_selfrec_02.mp4 gives: an event naming its snapshot, the JPEG retained on
{camera}/events/fall/snapshot (the same bytes as on disk), the Home Assistant image entity's
discovery, an MP4 clip on disk, and a timeline entry the page serves.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np

from posed.mqtt.topics import Topics
from tests.daemon_harness import Daemon
from tests.evidence_support import fall_config
from tests.mosquitto import Mosquitto, Subscriber, free_port
from tests.mqtt_support import validate

TOPICS = Topics("ev", "dev")


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def wait_file(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.is_file():
        assert time.monotonic() < deadline, f"{path} not written within {timeout} s"
        time.sleep(0.2)


def test_a_real_fall_gives_a_retained_snapshot_a_clip_and_a_timeline_entry(tmp_path: Path) -> None:
    page = free_port()
    with Mosquitto(tmp_path) as broker:
        config = fall_config(tmp_path, port=broker.port, preview_port=page)
        with (
            Subscriber(broker, ["ev/#", "homeassistant/#"]) as sub,
            Daemon(config, tmp_path / "posed.log") as daemon,
        ):
            detected = sub.wait_for(
                lambda m: m.topic == TOPICS.events("hall") and b'"detected"' in m.payload, timeout=120
            )
            validate(TOPICS, detected)
            event = json.loads(detected.payload)
            reference = event["snapshot"]
            stored = Path(reference["path"])
            assert stored.parent == tmp_path / "evidence" and stored.name == reference["id"] + ".jpg"

            topic = TOPICS.snapshot("hall", "fall")
            live = sub.wait_for(lambda m: m.topic == topic, timeout=30)
            validate(TOPICS, live)
            wait_file(stored, 10)
            assert live.payload == stored.read_bytes()
            picture = cv2.imdecode(np.frombuffer(live.payload, np.uint8), cv2.IMREAD_COLOR)
            assert picture is not None and picture.shape[0] > 100
            # Retained: a subscriber that comes later gets it from the broker.
            with Subscriber(broker, [topic]) as late:
                again = late.wait_for(lambda m: m.topic == topic, timeout=10)
            assert again.retain and again.payload == live.payload

            image = sub.wait_for(lambda m: m.topic == TOPICS.discovery_of("image", "hall_fall_snapshot"))
            validate(TOPICS, image)
            entity = json.loads(image.payload)
            assert entity["image_topic"] == topic and entity["content_type"] == "image/jpeg"

            clip = Path(reference["clip"])
            wait_file(clip, 30)
            capture = cv2.VideoCapture(str(clip))
            frames = 0
            while capture.read()[0]:
                frames += 1
            capture.release()
            assert frames >= 5, frames  # 2 s before and up to 2 s after at 5 fps

            timeline = json.loads(get(f"http://127.0.0.1:{page}/api/timeline?camera=hall&kind=fall"))
            entry = next(e for e in timeline["events"] if e["id"] == reference["id"])
            assert entry["clip"] == f"/api/evidence/{reference['id']}.mp4"
            assert get(f"http://127.0.0.1:{page}{entry['snapshot']}") == stored.read_bytes()
            assert get(f"http://127.0.0.1:{page}{entry['clip']}") == clip.read_bytes()
            assert "fall clip" in daemon.log_text()
