"""Shared by the preview's daemon and browser tests: a config, a running `posed run`, its page URL."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CONFORMANCE
from tests.daemon_harness import Daemon

SQUATS = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"
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
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

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
