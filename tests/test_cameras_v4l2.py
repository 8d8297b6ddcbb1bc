"""V4L2: clear errors for a missing, wrong or busy device, and reconnecting at run time.

No camera is attached here, so these tests cover what a device path can go
wrong with; the capture path itself is shared with the stream and file sources.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from posed.cameras import open_camera
from posed.cameras.devices import describe_holders, holders
from posed.cameras.probe import probe_camera
from posed.cameras.sources import v4l2
from posed.cameras.status import CameraStatus
from posed.errors import CameraError
from tests.camera_helpers import StatusLog, camera_config, wait_until


def free_video_device() -> str:
    n = 99
    while Path(f"/dev/video{n}").exists():
        n += 1
    return f"/dev/video{n}"


@pytest.mark.parametrize("by_index", [False, True])
def test_probe_of_a_missing_device(by_index: bool) -> None:
    path = free_video_device()
    device: int | str = int(path.removeprefix("/dev/video")) if by_index else path
    with pytest.raises(CameraError) as info:
        probe_camera("usb", camera_config(type="v4l2", device=device))
    message = str(info.value)
    assert f"camera 'usb': {path}" in message and "no such device" in message


def test_probe_of_something_that_is_not_a_camera() -> None:
    with pytest.raises(CameraError, match="/dev/null cannot be opened: not a V4L2 device"):
        probe_camera("usb", camera_config(type="v4l2", device="/dev/null"))


def test_missing_device_at_run_time_reconnects_without_raising() -> None:
    statuses = StatusLog()
    config = camera_config(
        type="v4l2", device=free_video_device(), reconnect_min_delay=0.02, reconnect_max_delay=0.05
    )
    cam = open_camera("usb", config, on_status=statuses)
    cam.start()
    statuses.wait_for(CameraStatus.RECONNECTING)
    wait_until(lambda: cam.counters().reconnects >= 5, what="repeated reopen attempts")
    assert cam.latest(0.1) is None
    assert cam.status == "reconnecting"
    cam.close()
    assert statuses.statuses == ["reconnecting", "offline"]
    counters = cam.counters()
    assert counters.captured == 0 and counters.stalls == 0


def test_busy_device_names_the_process_holding_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What "device busy" after a crash looks like: another process still has the node open.

    A real V4L2 node cannot be opened here (no driver), so a plain file stands in for
    it; the /proc scan that finds the holder is the real one.
    """
    node = tmp_path / "video7"
    node.write_bytes(b"")
    with node.open("rb") as held:
        proc = subprocess.Popen(["sleep", "30"], stdin=held)
    try:
        deadline = time.monotonic() + 5
        while not holders(node) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (proc.pid, "sleep") in holders(node)
        monkeypatch.setattr(v4l2, "is_v4l2_node", lambda path: path == str(node))
        message = v4l2.explain(str(node), "cannot be opened")
        assert "device busy" in message and f"pid {proc.pid} (sleep)" in message
    finally:
        proc.kill()
        proc.wait()
    assert describe_holders(node) is None
    assert "driver refused" in v4l2.explain(str(node), "cannot be opened")
