"""The picamera2 adapter, through a stand-in that follows picamera2's documented API.

picamera2 (and libcamera) cannot be installed here; tests/fake_picamera2.py
stands in for the module, injected through sys.modules.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from posed.cameras import open_camera
from posed.cameras.config import CameraConfig
from posed.cameras.probe import probe_camera
from posed.cameras.sources import picamera2 as picamera2_source
from posed.cameras.status import CameraStatus
from posed.errors import CameraError
from tests import fake_picamera2
from tests.camera_helpers import StatusLog, camera_config, wait_until


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch) -> fake_picamera2.Rig:
    return fake_picamera2.install(monkeypatch)


def pi_camera(**values: Any) -> CameraConfig:
    return camera_config(type="picamera2", reconnect_min_delay=0.02, reconnect_max_delay=0.05, **values)


def assert_red_left_blue_right(image: np.ndarray, tolerance: int = 0) -> None:
    height, width, _ = image.shape
    left = image[height // 2, width // 4].astype(int)
    right = image[height // 2, 3 * width // 4].astype(int)
    assert np.abs(left - (255, 0, 0)).max() <= tolerance, left
    assert np.abs(right - (0, 0, 255)).max() <= tolerance, right


@pytest.mark.parametrize("fmt", ["RGB888", "BGR888", "XRGB8888", "XBGR8888"])
def test_main_stream_frames_are_rgb(rig: fake_picamera2.Rig, fmt: str) -> None:
    config = pi_camera(width=640, height=480, fps=15, format=fmt, buffer_count=3)
    with open_camera("pi", config) as cam:
        cam.start()
        frames = [cam.latest(5.0) for _ in range(3)]
    for frame in frames:
        assert frame is not None
        assert frame.image.shape == (480, 640, 3) and frame.image.dtype == np.uint8
        assert frame.image.flags.c_contiguous
        assert_red_left_blue_right(frame.image)
    (video,) = rig.configs
    assert video["main"] == {"format": fmt, "size": (640, 480)}
    assert video["lores"] is None
    assert video["buffer_count"] == 3
    assert video["controls"]["FrameDurationLimits"] == (66667, 66667)
    assert video["queue"] is False
    assert rig.open_cameras == 0, "close() was not called"
    assert rig.requests_out == 0 and rig.requests_made >= 3, "a request was never released"


def test_lores_stream_sized_for_the_model(rig: fake_picamera2.Rig) -> None:
    # 300 px of YUV420 pads each row to 320 bytes: the adapter must strip the padding.
    config = pi_camera(width=1280, height=720, lores=True, lores_width=300, lores_height=200)
    with open_camera("pi", config) as cam:
        cam.start()
        frame = cam.latest(5.0)
    assert frame is not None
    assert frame.image.shape == (200, 300, 3)
    assert_red_left_blue_right(frame.image, tolerance=12)  # through YUV 4:2:0 and back
    assert rig.configs[0]["lores"] == {"size": (300, 200), "format": "YUV420"}
    assert rig.requests_out == 0


def test_default_lores_keeps_the_main_aspect(rig: fake_picamera2.Rig) -> None:
    with open_camera("pi", pi_camera(width=1920, height=1080, lores=True)) as cam:
        cam.start()
        frame = cam.latest(5.0)
    assert frame is not None and frame.image.shape == (360, 640, 3)


def test_camera_in_use_gives_a_clear_message(rig: fake_picamera2.Rig) -> None:
    rig.busy = True
    with pytest.raises(CameraError) as info:
        probe_camera("pi", pi_camera())
    message = str(info.value)
    assert "in use by another process" in message and "camera 'pi'" in message


def test_busy_message_names_the_holder(tmp_path: Path) -> None:
    """With the camera's media node held by another process, the message names that process."""
    node = tmp_path / "media0"
    node.write_bytes(b"")
    with node.open("rb") as held:
        proc = subprocess.Popen(["sleep", "30"], stdin=held)
    try:
        error = RuntimeError("Failed to acquire camera: Device or resource busy")
        wait_until(lambda: "sleep" in picamera2_source.explain(0, error, [str(node)]), what="the holder")
        message = picamera2_source.explain(0, error, [str(node)])
        assert f"could not be acquired: in use by pid {proc.pid} (sleep)" in message
    finally:
        proc.kill()
        proc.wait()
    assert "most likely it is in use by another process" in picamera2_source.explain(0, error, [str(node)])


def test_busy_camera_retries_until_it_is_free(rig: fake_picamera2.Rig) -> None:
    rig.busy = True
    statuses = StatusLog()
    with open_camera("pi", pi_camera(), on_status=statuses) as cam:
        cam.start()
        statuses.wait_for(CameraStatus.RECONNECTING)
        wait_until(lambda: cam.counters().reconnects >= 2, what="reopen attempts")
        rig.busy = False
        statuses.wait_for(CameraStatus.ONLINE)
        assert cam.latest(5.0) is not None
    assert statuses.statuses == ["reconnecting", "online", "offline"]
    assert rig.open_cameras == 0


def test_failed_configure_still_closes_the_camera(rig: fake_picamera2.Rig) -> None:
    rig.fail_configure = True
    with pytest.raises(CameraError, match="Failed to configure"):
        probe_camera("pi", pi_camera())
    assert len(rig.opened) == 1 and rig.open_cameras == 0


def test_capture_timeout_reopens_the_camera(rig: fake_picamera2.Rig) -> None:
    """picamera2 "stopping after hours": capture_request times out; the camera is closed and reopened."""
    statuses = StatusLog()
    with open_camera("pi", pi_camera(stall_timeout=0.5), on_status=statuses) as cam:
        cam.start()
        assert cam.latest(5.0) is not None
        rig.hang = True
        statuses.wait_for(CameraStatus.RECONNECTING)
        assert len(rig.opened) >= 1
        rig.hang = False
        statuses.wait_for(CameraStatus.ONLINE, count=2)
        assert cam.latest(5.0) is not None
        counters = cam.counters()
    assert counters.stalls == 1 and counters.reconnects >= 1
    assert len(rig.opened) >= 2 and rig.open_cameras == 0
    assert rig.requests_out == 0


def test_buffer_failure_releases_the_request(rig: fake_picamera2.Rig) -> None:
    statuses = StatusLog()
    with open_camera("pi", pi_camera(), on_status=statuses) as cam:
        cam.start()
        assert cam.latest(5.0) is not None
        rig.broken_buffer = True
        statuses.wait_for(CameraStatus.RECONNECTING)
        assert rig.requests_out == 0
        rig.broken_buffer = False
        statuses.wait_for(CameraStatus.ONLINE, count=2)
    assert rig.requests_out == 0 and rig.open_cameras == 0


def test_missing_camera_number(rig: fake_picamera2.Rig) -> None:
    with pytest.raises(CameraError, match="camera 3 not found: libcamera sees 1"):
        probe_camera("pi", pi_camera(camera_num=3))


def test_picamera2_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # makes `import picamera2` fail
    with pytest.raises(CameraError, match="apt install python3-picamera2"):
        probe_camera("pi", pi_camera())
