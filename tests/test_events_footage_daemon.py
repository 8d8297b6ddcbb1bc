"""The daemon reports the falls `posed estimate --events` reports: one real footage clip through
`posed run` (a video camera, every frame, the file's own clock) and a real Mosquitto.

The clip (a person falls sideways and stays down; a second person sits still in the
background) is the shortest labelled fall whose `detected` comes before the file ends, so
no held frame is needed. A second camera loops over one grey image so the daemon keeps
running after the clip.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHARED
from tests.daemon_harness import Daemon
from tests.mosquitto import Mosquitto, Subscriber
from tests.test_events_estimate import estimate_events

FOOTAGE = SHARED / "footage"
CLIP = FOOTAGE / "fall_selfrec_02.mp4"
BASE = "ev/dev/hall"

pytestmark = pytest.mark.skipif(not CLIP.is_file(), reason=f"the labelled footage is absent: expected {CLIP}")


def write_config(tmp_path: Path, port: int) -> Path:
    import cv2

    empty = tmp_path / "empty"
    empty.mkdir()
    cv2.imwrite(str(empty / "grey.png"), np.full((240, 320, 3), 128, dtype=np.uint8))
    config = tmp_path / "posed.yaml"
    config.write_text(
        "device_id: dev\n"
        "backend: {type: tflite, num_threads: 1}\n"
        "model: {name: blazepose-full}\n"
        "cameras:\n"
        f"  hall: {{type: video, path: {CLIP}}}\n"
        f"  idle: {{type: images, path: {empty}, realtime: true, fps: 2, loop: true}}\n"
        f"mqtt: {{host: 127.0.0.1, port: {port}, topic_prefix: ev}}\n"
    )
    return config


def test_a_footage_fall_reaches_the_broker_as_estimate_events_reports_it(tmp_path: Path) -> None:
    expected = [
        (e["state"], e.get("reason"), e["person"]) for e in estimate_events(CLIP) if e["type"] == "fall"
    ]
    assert expected and expected[0][0] == "detected"  # the clip ends with the person still down
    with (
        Mosquitto(tmp_path) as broker,
        Subscriber(broker, ["ev/#"]) as sub,
        Daemon(write_config(tmp_path, broker.port), tmp_path / "posed.log") as daemon,
    ):
        sub.wait_for(lambda m: m.topic == f"{BASE}/fall" and m.text == "ON", timeout=600)
        daemon.wait_log("camera hall: end of stream", timeout=300)  # every frame analyzed
        sub.wait_for(lambda m: m.topic == f"{BASE}/events" and b'"detected"' in m.payload, timeout=30)
        published = [json.loads(m.payload) for m in sub.snapshot() if m.topic == f"{BASE}/events"]
    falls = [(e["state"], e.get("reason")) for e in published if e["type"] == "fall"]
    assert falls == [(state, reason) for state, reason, _ in expected]
    # ids are per process: the same count of people, not the same numbers
    assert len({e["person"] for e in published if e["type"] == "fall"}) == len({p for *_, p in expected})
