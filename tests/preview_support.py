"""Shared by the preview's daemon and browser tests: a config, a running `posed run`, its page URL."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from posed.keypoints import BLAZEPOSE_33
from posed.preview.tap import PreviewTap
from posed.types import Frame, Pose
from tests.conftest import CONFORMANCE
from tests.daemon_harness import Daemon

SQUATS = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"
EXPECTED = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.full.json"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
URL_LOGGED = re.compile(r"preview page on (http://\S+/)")


def preview_config(path: Path, *, broker_port: int, preview: str, camera: str = "") -> Path:
    path.write_text(
        "device_id: dev\n"
        "backend: {type: tflite, num_threads: 1}\n"
        "model: {name: blazepose-lite}\n"
        "cameras:\n"
        f"  squats: {{type: video, path: {SQUATS}, realtime: true, loop: true{camera}}}\n"
        f"mqtt: {{host: 127.0.0.1, port: {broker_port}, topic_prefix: preview}}\n"
        f"preview: {preview}\n"
    )
    return path


def page_url(daemon: Daemon, nth: int = 0, timeout: float = 60.0) -> str:
    """The URL the page's `nth` start (0: the first) logged; the port is any free one."""
    deadline = time.monotonic() + timeout
    while True:
        found = URL_LOGGED.findall(daemon.log_text())
        if len(found) > nth:
            return str(found[nth])
        if daemon.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"no preview URL #{nth} logged:\n{daemon.log_text()}")
        time.sleep(0.1)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium through chromium-driver (from .ci/setup): never a downloaded browser."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("chromium and chromium-driver are missing: run .ci/setup (apt)")
    from selenium import webdriver  # noqa: PLC0415 (test-only)
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415 (test-only)

    profile = tempfile.mkdtemp(prefix="posed-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def squat_frames(count: int = 10) -> list[tuple[Frame, Pose]]:
    capture = cv2.VideoCapture(str(SQUATS))
    expected = json.loads(EXPECTED.read_text())
    out = []
    for number in range(count):
        ok, bgr = capture.read()
        assert ok
        points = np.asarray(expected[number], dtype=np.float32)
        keypoints = np.column_stack([points[:, :2], np.ones(len(points), np.float32)])
        pose = Pose(0.9, keypoints, BLAZEPOSE_33, (0.0, 0.0, 1.0, 1.0), id=7)
        rgb = np.ascontiguousarray(bgr[:, :, ::-1], dtype=np.uint8)
        frame = Frame(rgb, number, time.monotonic(), time.time())
        out.append((frame, pose))
    capture.release()
    return out


class Feeder:
    """Plays the frames into the tap at `fps` from its own thread, as a worker would."""

    def __init__(
        self, tap: PreviewTap, frames: list[tuple[Frame, Pose]], fps: float, camera: str = "front"
    ) -> None:
        self._stop = threading.Event()
        self.sent = 0

        def run() -> None:
            while not self._stop.wait(1.0 / fps):
                frame, pose = frames[self.sent % len(frames)]
                tap.observe(camera, frame, [pose])
                self.sent += 1

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
