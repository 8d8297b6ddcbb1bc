"""Where time is the subject of a camera: reconnect back-off and realtime pacing, on a fake clock.

Real sources (a missing file, real decoded video and JPEG files); only the clock the
capture thread reads and waits on is fake (tests/fake_clock.py), so the waits it asks
for are checked exactly, however loaded the machine is.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import cv2
import pytest

from posed.cameras import Camera, open_camera
from posed.errors import ClosedError
from tests.camera_helpers import camera_config
from tests.conftest import CONFORMANCE, MEDIA
from tests.fake_clock import FakeClock

VTEST = MEDIA / "vtest.avi"  # 10 fps
SQUATS = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"  # 5 fps, 65 frames


def _consume(cam: Camera) -> threading.Thread:
    """A consumer that takes every frame until the camera closes (lossless files wait for it)."""

    def run() -> None:
        try:
            while True:
                cam.latest(0.1)
        except ClosedError:
            return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_reconnect_back_off_doubles_up_to_its_maximum(tmp_path: Path) -> None:
    """Guards: a camera that cannot open is retried after reconnect_min_delay, doubling each time
    up to reconnect_max_delay (not hammering a device, not giving up)."""
    clock = FakeClock(park_after=7)
    config = camera_config(
        type="video", path=str(tmp_path / "absent.avi"), reconnect_min_delay=0.05, reconnect_max_delay=0.4
    )
    with open_camera("absent", config, clock=clock) as cam:
        cam.start()
        waits = clock.wait_for_waits(7)
        assert cam.status == "reconnecting"
    assert waits == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.4, 0.4, 0.4])


def test_back_off_starts_again_from_the_minimum_after_frames_flowed(tmp_path: Path) -> None:
    """Guards: once a camera delivered frames, its next failure is retried after
    reconnect_min_delay again, not after the long delay its earlier outage had reached."""
    path = tmp_path / "clip.mp4"

    def world(n: int) -> None:  # runs in the capture thread, at its n-th wait
        if n == 3:
            shutil.copy(SQUATS, path)  # the file appears: the next attempt opens it

    clock = FakeClock(park_after=7, on_wait=world)
    config = camera_config(
        type="video", path=str(path), loop=True, reconnect_min_delay=0.05, reconnect_max_delay=0.4
    )
    with open_camera("clip", config, clock=clock) as cam:
        cam.start()
        assert cam.latest(30.0) is not None
        path.unlink()  # the open file still reads to its end; the loop's reopen then fails
        consumer = _consume(cam)
        waits = clock.wait_for_waits(7)
    consumer.join(5)
    assert waits == pytest.approx([0.05, 0.1, 0.2, 0.05, 0.1, 0.2, 0.4])


@pytest.mark.parametrize(
    ("kind", "extra", "interval"),
    [
        ("video", {}, 0.1),  # vtest.avi's own rate, 10 fps
        ("video", {"fps": 25}, 0.04),  # `fps` overrides the file's rate
        ("images", {"fps": 20}, 0.05),
    ],
)
def test_realtime_sources_are_paced_at_their_rate(
    kind: str, extra: dict[str, float], interval: float, tmp_path: Path, shared: Path
) -> None:
    """Guards: a realtime file plays at its frame rate (or `fps`), as a camera would: one frame
    per interval, each stamped at its due time."""
    path = VTEST
    if kind == "images":
        capture = cv2.VideoCapture(str(VTEST), cv2.CAP_FFMPEG)
        for i in range(8):
            ok, bgr = capture.read()
            assert ok
            cv2.imwrite(str(tmp_path / f"frame_{i:03d}.jpg"), bgr)
        capture.release()
        path = tmp_path
    start = 1000.0
    clock = FakeClock(start, park_after=20)
    config = camera_config(type=kind, path=str(path), realtime=True, loop=True, **extra)
    with open_camera("paced", config, clock=clock) as cam:
        cam.start()
        waits = clock.wait_for_waits(21)  # the 21st parks the thread, after frame 20 was handed over
        frame = cam.latest(10.0)  # the newest, waiting in the slot
    assert waits == pytest.approx([interval] * 21)
    # Frame 0 went out at once, at `start`; frame n is stamped n intervals later.
    assert frame is not None and frame.number == 20
    assert frame.monotonic == pytest.approx(start + frame.number * interval)
