"""`video` and `images` sources on real decoded video: order, loop, pacing, drops, self-healing."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from posed.cameras import Camera, EndOfStream, open_camera
from posed.cameras.media_files import video_frames
from posed.cameras.probe import probe_camera
from posed.cameras.status import CameraStatus
from posed.errors import CameraError, ClosedError
from posed.types import Frame
from tests.camera_helpers import StatusLog, camera_config, wait_until
from tests.conftest import CONFORMANCE, MEDIA

VTEST = MEDIA / "vtest.avi"  # 768x576, 10 fps, 795 frames
SQUATS = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"  # 720x1280, 5 fps, 65 frames
SQUATS_FRAMES = 65


def decode_rgb(path: Path, count: int) -> list[np.ndarray]:
    """The first `count` frames decoded directly with OpenCV, as RGB."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames: list[np.ndarray] = []
    while len(frames) < count:
        ok, bgr = cap.read()
        assert ok, f"{path} has fewer than {count} frames"
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


@pytest.fixture(scope="module")
def vtest_jpgs(tmp_path_factory: pytest.TempPathFactory, shared: Path) -> Path:
    """Twelve frames of vtest.avi written as JPEG files (plus a file that is not an image)."""
    folder = tmp_path_factory.mktemp("vtest_jpgs")
    cap = cv2.VideoCapture(str(VTEST), cv2.CAP_FFMPEG)
    for i in range(12):
        ok, bgr = cap.read()
        assert ok
        cv2.imwrite(str(folder / f"frame_{i:03d}.jpg"), bgr)
    cap.release()
    (folder / "notes.txt").write_text("not an image")
    return folder


def drain(cam: Camera, limit: int = 10_000) -> list[Frame]:
    """Every frame up to EndOfStream (which must come)."""
    frames: list[Frame] = []
    with pytest.raises(EndOfStream):
        for _ in range(limit):
            frame = cam.latest(10.0)
            assert frame is not None, "a lossless file source timed out"
            frames.append(frame)
    return frames


def test_video_delivers_every_frame_in_order_as_rgb(shared: Path) -> None:
    statuses = StatusLog()
    expected = decode_rgb(SQUATS, 3)
    with open_camera("squats", camera_config(type="video", path=str(SQUATS)), on_status=statuses) as cam:
        assert cam.status == "offline"
        cam.start()
        frames = drain(cam)
        with pytest.raises(EndOfStream):  # and it stays ended
            cam.latest(0.1)
        assert cam.status == "offline"
        counters = cam.counters()
    assert [f.number for f in frames] == list(range(SQUATS_FRAMES))
    assert frames[0].image.shape == (1280, 720, 3) and frames[0].image.dtype == np.uint8
    for got, want in zip(frames, expected, strict=False):
        np.testing.assert_array_equal(got.image, want)
    assert counters.captured == SQUATS_FRAMES and counters.dropped == 0
    assert counters.reconnects == 0 and counters.stalls == 0
    assert statuses.statuses == ["online", "offline"]
    monos = [f.monotonic for f in frames]
    assert monos == sorted(monos)
    assert abs(frames[0].wall - time.time()) < 60


def test_video_loop_restarts_at_the_end(shared: Path) -> None:
    first = decode_rgb(SQUATS, 1)[0]
    config = camera_config(type="video", path=str(SQUATS), loop=True)
    with open_camera("squats", config) as cam:
        cam.start()
        frames = [cam.latest(10.0) for _ in range(SQUATS_FRAMES + 5)]
    assert all(f is not None for f in frames)
    numbers = [f.number for f in frames if f is not None]
    assert numbers == list(range(SQUATS_FRAMES + 5))
    looped = frames[SQUATS_FRAMES]
    assert looped is not None
    np.testing.assert_array_equal(looped.image, first)


def test_lossless_video_frames_carry_the_recordings_clock(shared: Path) -> None:
    """Read faster than real time, frames keep the file's own timestamps for tracking,
    the same `posed estimate` uses, and the clock keeps rising across a loop."""
    file_stamps = [stamp for _, stamp, _ in video_frames(SQUATS, None)]
    assert len(file_stamps) == SQUATS_FRAMES
    config = camera_config(type="video", path=str(SQUATS), loop=True)
    with open_camera("squats", config) as cam:
        cam.start()
        frames = [cam.latest(10.0) for _ in range(SQUATS_FRAMES + 3)]
    stamps = [f.media_time for f in frames if f is not None and f.media_time is not None]
    assert len(stamps) == SQUATS_FRAMES + 3
    assert stamps[:SQUATS_FRAMES] == pytest.approx(file_stamps, abs=1e-6)
    step = file_stamps[1] - file_stamps[0]
    assert step == pytest.approx(0.2, abs=1e-3)  # 5 fps
    # After the loop: one frame step on from the last frame, then the file's spacing again.
    assert stamps[SQUATS_FRAMES] == pytest.approx(file_stamps[-1] + step, abs=1e-6)
    assert np.diff(stamps[SQUATS_FRAMES:]) == pytest.approx([step, step], abs=1e-6)
    assert all(f is not None and f.tracking_time == f.media_time for f in frames)


def test_realtime_video_frames_are_stamped_when_read(shared: Path) -> None:
    with open_camera("street", camera_config(type="video", path=str(VTEST), realtime=True)) as cam:
        cam.start()
        frame = cam.latest(5.0)
    assert frame is not None and frame.media_time is None
    assert frame.tracking_time == frame.monotonic


def test_video_resized_when_width_given(shared: Path) -> None:
    config = camera_config(type="video", path=str(VTEST), width=384)
    with open_camera("street", config) as cam:
        cam.start()
        frame = cam.latest(10.0)
    assert frame is not None
    assert frame.image.shape == (288, 384, 3)  # aspect ratio kept


def test_slow_consumer_gets_the_newest_frame_and_drops_are_counted(shared: Path) -> None:
    """A consumer slower than the camera gets the newest frame each time, never a backlog.

    Instead of sleeping like a slow inference, the consumer waits until the camera has
    captured several more frames, so the test does not depend on the machine's speed.
    """
    config = camera_config(type="video", path=str(VTEST), realtime=True, fps=50, loop=True)
    received: list[Frame] = []
    with open_camera("street", config) as cam:
        cam.start()
        for _ in range(8):
            target = cam.counters().captured + 4
            wait_until(lambda: cam.counters().captured >= target, what="four more frames")  # noqa: B023
            newest = cam.counters().captured
            frame = cam.latest(5.0)
            assert frame is not None
            # Frame n is counted as captured just before it enters the slot, so the slot
            # holds frame newest - 1, or newest - 2 while that hand-over is under way.
            assert frame.number >= newest - 2, (frame.number, newest)
            received.append(frame)
        cam.close()
        counters = cam.counters()
    numbers = [f.number for f in received]
    assert numbers == sorted(set(numbers))
    assert max(np.diff(numbers)) > 1, "no frame was skipped"
    assert counters.dropped > 0
    # Every captured frame was either delivered, dropped, or discarded at close (at most one).
    assert counters.captured - counters.dropped - len(received) in (0, 1)


def test_lossless_video_never_drops_with_a_slow_consumer(shared: Path) -> None:
    with open_camera("squats", camera_config(type="video", path=str(SQUATS))) as cam:
        cam.start()
        numbers = []
        for _ in range(10):
            time.sleep(0.03)
            frame = cam.latest(10.0)
            assert frame is not None
            numbers.append(frame.number)
        assert cam.counters().dropped == 0
    assert numbers == list(range(10))


def test_images_folder_in_sorted_order_as_rgb(vtest_jpgs: Path) -> None:
    files = sorted(vtest_jpgs.glob("*.jpg"))
    with open_camera("imgs", camera_config(type="images", path=str(vtest_jpgs))) as cam:
        cam.start()
        frames = drain(cam)
    assert len(frames) == len(files) == 12
    for frame, path in zip(frames, files, strict=True):
        bgr = cv2.imread(str(path))
        assert bgr is not None
        want = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(frame.image, want)


def test_images_glob_loop_and_resize(vtest_jpgs: Path) -> None:
    config = camera_config(
        type="images", path=str(vtest_jpgs / "frame_00[0-2].jpg"), loop=True, width=320, height=200
    )
    with open_camera("imgs", config) as cam:
        cam.start()
        frames = [cam.latest(10.0) for _ in range(7)]
    assert all(f is not None and f.image.shape == (200, 320, 3) for f in frames)
    images = [f.image for f in frames if f is not None]
    np.testing.assert_array_equal(images[0], images[3])
    np.testing.assert_array_equal(images[1], images[4])
    assert not np.array_equal(images[0], images[1])


def test_replaced_video_file_reconnects_with_backoff(tmp_path: Path, shared: Path) -> None:
    """The file disappears mid-loop: reconnecting with back-off; a new file appears: online again."""
    path = tmp_path / "clip.mp4"
    shutil.copy(SQUATS, path)
    statuses = StatusLog()
    config = camera_config(
        type="video", path=str(path), loop=True, reconnect_min_delay=0.05, reconnect_max_delay=0.2
    )
    with open_camera("clip", config, on_status=statuses) as cam:
        cam.start()
        assert cam.latest(10.0) is not None
        path.unlink()  # the open file still reads to its end; the loop's reopen then fails
        wait_until(lambda: cam.latest(0.05) is None and cam.status == "reconnecting", what="reconnecting")
        wait_until(lambda: cam.counters().reconnects >= 3, what="repeated reopen attempts")
        assert cam.latest(0.3) is None
        shutil.copy(VTEST, path)  # a different video takes its place
        statuses.wait_for(CameraStatus.ONLINE, count=2)
        frame = cam.latest(10.0)
        assert frame is not None and frame.image.shape == (576, 768, 3)
        counters = cam.counters()
    assert statuses.statuses == ["online", "reconnecting", "online", "offline"]
    assert counters.stalls == 1


def test_emptied_images_folder_reconnects(tmp_path: Path, vtest_jpgs: Path) -> None:
    folder = tmp_path / "imgs"
    shutil.copytree(vtest_jpgs, folder)
    statuses = StatusLog()
    config = camera_config(
        type="images", path=str(folder), loop=True, reconnect_min_delay=0.05, reconnect_max_delay=0.1
    )
    with open_camera("imgs", config, on_status=statuses) as cam:
        cam.start()
        assert cam.latest(10.0) is not None
        for path in folder.iterdir():
            path.unlink()
        # A folder is lossless: the capture thread reads the next image only once the last one
        # was taken, so keep taking the images it decoded before the purge until it notices.
        wait_until(
            lambda: cam.latest(0.05) is None and statuses.statuses[-1] == "reconnecting",
            what="the purge to be noticed and the frames to stop",
        )
        cv2.imwrite(str(folder / "back.png"), np.full((48, 64, 3), (0, 0, 255), np.uint8))  # BGR red
        statuses.wait_for(CameraStatus.ONLINE, count=2)
        frame = cam.latest(5.0)
        while frame is not None and frame.image.shape != (48, 64, 3):  # frames from before the purge
            frame = cam.latest(5.0)
        assert frame is not None
        assert tuple(frame.image[0, 0]) == (255, 0, 0)  # RGB red
    assert statuses.statuses == ["online", "reconnecting", "online", "offline"]


def test_missing_file_at_start_keeps_retrying_without_raising(tmp_path: Path) -> None:
    statuses = StatusLog()
    config = camera_config(
        type="video", path=str(tmp_path / "later.avi"), reconnect_min_delay=0.05, reconnect_max_delay=0.1
    )
    cam = open_camera("later", config, on_status=statuses)
    cam.start()
    statuses.wait_for(CameraStatus.RECONNECTING)
    assert cam.latest(0.2) is None
    shutil.copy(VTEST, tmp_path / "later.avi")
    statuses.wait_for(CameraStatus.ONLINE)
    assert cam.latest(10.0) is not None
    cam.close()
    cam.close()  # idempotent
    with pytest.raises(ClosedError):
        cam.latest(0.1)
    assert statuses.statuses == ["reconnecting", "online", "offline"]


def test_latest_before_start_is_an_error(shared: Path) -> None:
    with open_camera("x", camera_config(type="video", path=str(VTEST))) as cam, pytest.raises(CameraError):
        cam.latest(0.1)


def test_close_while_the_consumer_waits(tmp_path: Path) -> None:
    """close() from another thread wakes a consumer blocked in latest() (ClosedError)."""
    cam = open_camera("x", camera_config(type="video", path=str(tmp_path / "no-such-file.avi")))
    cam.start()
    result: list[BaseException] = []

    def consume() -> None:
        try:
            cam.latest(30.0)
        except BaseException as exc:
            result.append(exc)

    consumer = threading.Thread(target=consume)
    consumer.start()
    time.sleep(0.2)
    cam.close()
    consumer.join(5.0)
    assert not consumer.is_alive()
    assert len(result) == 1 and isinstance(result[0], ClosedError)


@pytest.mark.parametrize(
    ("kind", "path", "message"),
    [
        ("video", "{tmp}/missing.mp4", "video file not found"),
        ("video", "{tmp}/bogus.mp4", "cannot decode"),
        ("images", "{tmp}/empty", "no images at"),
        ("images", "{tmp}/nothing-*.jpg", "no images at"),
    ],
)
def test_probe_names_the_problem(tmp_path: Path, kind: str, path: str, message: str) -> None:
    (tmp_path / "bogus.mp4").write_text("this is not a video")
    (tmp_path / "empty").mkdir()
    config = camera_config(type=kind, path=path.format(tmp=tmp_path))
    with pytest.raises(CameraError) as info:
        probe_camera("front", config)
    assert "camera 'front'" in str(info.value)
    assert message in str(info.value)


def test_probe_accepts_real_files(vtest_jpgs: Path, shared: Path) -> None:
    probe_camera("a", camera_config(type="video", path=str(SQUATS)))
    probe_camera("b", camera_config(type="images", path=str(vtest_jpgs)))
    probe_camera("c", camera_config(type="images", path=str(vtest_jpgs / "*.jpg")))
