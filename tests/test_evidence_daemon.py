"""Snapshots and clips end to end: `posed run` on a real fall clip, a real Mosquitto, the page.

The fall in fall_selfrec_02.mp4 gives: an event naming its snapshot, the JPEG retained on
{camera}/events/fall/snapshot (the same bytes as on disk), the Home Assistant image entity's
discovery, an MP4 clip on disk, and a timeline entry that a real browser opens.
One daemon run serves both tests (module fixture).
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from posed.mqtt.topics import Topics
from tests.daemon_harness import Daemon
from tests.evidence_support import fall_config
from tests.mosquitto import Mosquitto, Received, Subscriber, free_port
from tests.mqtt_support import validate
from tests.preview_support import chromium

TOPICS = Topics("ev", "dev")


@dataclass
class FallRun:
    broker: Mosquitto
    sub: Subscriber
    daemon: Daemon
    page: str
    evidence: Path
    detected: Received


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def wait_file(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.is_file():
        assert time.monotonic() < deadline, f"{path} not written within {timeout} s"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FallRun]:
    tmp = tmp_path_factory.mktemp("fall")
    page = free_port()
    with Mosquitto(tmp) as broker:
        config = fall_config(tmp, port=broker.port, preview_port=page)
        with (
            Subscriber(broker, ["ev/#", "homeassistant/#"]) as sub,
            Daemon(config, tmp / "posed.log") as daemon,
        ):
            detected = sub.wait_for(
                lambda m: m.topic == TOPICS.events("hall") and b'"detected"' in m.payload, timeout=120
            )
            yield FallRun(broker, sub, daemon, f"http://127.0.0.1:{page}", tmp / "evidence", detected)


def test_a_real_fall_gives_a_retained_snapshot_a_clip_and_a_timeline_entry(run: FallRun) -> None:
    validate(TOPICS, run.detected)
    reference = json.loads(run.detected.payload)["snapshot"]
    stored = Path(reference["path"])
    assert stored.parent == run.evidence and stored.name == reference["id"] + ".jpg"

    topic = TOPICS.snapshot("hall", "fall")
    live = run.sub.wait_for(lambda m: m.topic == topic, timeout=30)
    validate(TOPICS, live)
    wait_file(stored, 10)
    assert live.payload == stored.read_bytes()
    picture = cv2.imdecode(np.frombuffer(live.payload, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape[0] > 100
    # Retained: a subscriber that comes later gets it from the broker.
    with Subscriber(run.broker, [topic]) as late:
        again = late.wait_for(lambda m: m.topic == topic, timeout=10)
    assert again.retain and again.payload == live.payload

    image = run.sub.wait_for(lambda m: m.topic == TOPICS.discovery_of("image", "hall_fall_snapshot"))
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

    timeline = json.loads(get(f"{run.page}/api/timeline?camera=hall&kind=fall"))
    entry = next(e for e in timeline["events"] if e["id"] == reference["id"])
    assert entry["clip"] == f"/api/evidence/{reference['id']}.mp4"
    assert get(f"{run.page}{entry['snapshot']}") == stored.read_bytes()
    thumb = cv2.imdecode(np.frombuffer(get(f"{run.page}{entry['thumbnail']}"), np.uint8), cv2.IMREAD_COLOR)
    assert thumb is not None and thumb.shape[1] == 192 and thumb.shape[1] < picture.shape[1]
    assert get(f"{run.page}{entry['clip']}") == clip.read_bytes()
    assert json.loads(get(f"{run.page}/api/timeline?camera=hall&kind=gesture"))["events"] == []
    assert "fall clip" in run.daemon.log_text()


def test_the_timeline_on_the_page_opens_the_fall_snapshot_and_clip(run: FallRun) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    reference = json.loads(run.detected.payload)["snapshot"]
    wait_file(Path(reference["clip"]), 30)
    with chromium() as browser:
        browser.get(f"{run.page}/camera/hall")
        wait: Any = WebDriverWait(browser, 30)
        selector = f"#timeline li[data-id='{reference['id']}']"
        item = wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, selector) or None)[0]
        thumb = item.find_element(By.TAG_NAME, "img")
        wait.until(lambda b: b.execute_script("return arguments[0].naturalWidth", thumb) > 0)
        assert "clip" in item.text
        # The kind filter: no gesture here, the fall back with "falls".
        Select(browser.find_element(By.ID, "timeline-kind")).select_by_value("gesture")
        wait.until(lambda b: not b.find_elements(By.CSS_SELECTOR, selector))
        Select(browser.find_element(By.ID, "timeline-kind")).select_by_value("fall")
        item = wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, selector) or None)[0]
        item.click()
        assert browser.find_element(By.ID, "viewer").get_attribute("open") is not None
        snapshot = browser.find_element(By.ID, "viewer-snapshot")
        wait.until(lambda b: b.execute_script("return arguments[0].naturalWidth", snapshot) > 0)
        video = browser.find_element(By.ID, "viewer-clip")
        # The browser decoded the clip: its size and length are known (HAVE_METADATA or more).
        wait.until(lambda b: b.execute_script("return arguments[0].readyState", video) >= 1)
        size = browser.execute_script("return [arguments[0].videoWidth, arguments[0].duration]", video)
        assert size[0] > 100 and size[1] > 0.5, size
        assert browser.execute_script("return arguments[0].error", video) is None
