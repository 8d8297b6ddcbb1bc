"""SIGTERM while a large image is being decoded: posed stops cleanly (exit 0), never aborts (134)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.daemon_harness import Daemon, write_config
from tests.mosquitto import Mosquitto

SIDE = 7000  # 49 MP: just under the default max_pixels, so it is decoded, for about a second


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path_factory.mktemp("broker")) as broker:
        yield broker


@pytest.fixture(scope="module")
def big_images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    ramp = np.linspace(0, 255, SIDE, dtype=np.uint8)
    image = np.dstack(
        [np.tile(ramp, (SIDE, 1)), np.tile(ramp[:, None], (1, SIDE)), np.full((SIDE, SIDE), 90, np.uint8)]
    )
    for name in ("a.jpg", "b.jpg"):
        assert cv2.imwrite(str(folder / name), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    return folder


@pytest.mark.parametrize("attempt", range(2))
def test_sigterm_during_a_long_decode_exits_cleanly(
    attempt: int, tmp_path: Path, big_images: Path, broker: Mosquitto
) -> None:
    config = write_config(
        tmp_path / "posed.yaml",
        port=broker.port,
        cameras=f"  big: {{type: images, path: {big_images}, loop: true}}\n",
    )
    with Daemon(config, tmp_path / "posed.log") as daemon:
        daemon.wait_log("camera big: online", timeout=120)
        daemon.signal(signal.SIGTERM)  # the next image is being decoded by now, or soon
        code = daemon.process.wait(timeout=60)
        log = daemon.log_text()
    assert code == 0, log
    assert "terminate called" not in log and "Traceback" not in log
    assert "stopped in" in log
