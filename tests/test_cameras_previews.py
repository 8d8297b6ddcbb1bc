"""Cheap frames for the motion gate: a grey preview per frame, the full image decoded only when used."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from posed.cameras import open_camera
from posed.gate.motion import grey_copy
from posed.types import Frame
from tests import fake_picamera2
from tests.camera_helpers import camera_config
from tests.test_cameras_picamera2 import assert_red_left_blue_right, pi_camera


def _picture(width: int, height: int) -> np.ndarray:
    """BGR: a gradient with a bright square, so a preview can be compared with the image."""
    y, x = np.mgrid[0:height, 0:width]
    grey = (40 + 150 * x / width + 40 * y / height).astype(np.uint8)
    bgr = np.dstack([grey, grey // 2, 255 - grey])
    bgr[height // 4 : height // 2, width // 4 : width // 2] = 250
    return np.ascontiguousarray(bgr, dtype=np.uint8)


def _frames(config: dict[str, object], count: int, *, previews: bool) -> list[Frame]:
    with open_camera("cam", camera_config(**config), previews=previews) as camera:
        camera.start()
        frames = [camera.latest(10.0) for _ in range(count)]
    assert all(frame is not None for frame in frames)
    return [frame for frame in frames if frame is not None]


def test_a_jpeg_folder_gives_reduced_grey_previews_and_decodes_the_image_only_when_read(
    tmp_path: Path,
) -> None:
    for number in range(3):
        cv2.imwrite(str(tmp_path / f"{number:02d}.jpg"), _picture(1280, 720), [cv2.IMWRITE_JPEG_QUALITY, 95])
    config = {"type": "images", "path": str(tmp_path), "loop": False}
    deferred = _frames(config, 3, previews=True)
    plain = _frames(config, 3, previews=False)
    for lazy, eager in zip(deferred, plain, strict=True):
        assert lazy.preview is not None and lazy.preview.shape == (90, 160), "a 1/8 scale JPEG decode"
        assert not lazy.decoded, "nothing decoded the full image yet"
        assert (lazy.width, lazy.height) == (1280, 720)
        assert np.array_equal(lazy.image, eager.image), "the full decode is the usual one"
        assert lazy.decoded
        # The preview shows the same picture as the image, for the gate.
        difference = np.abs(
            grey_copy(lazy.preview, 160).astype(int) - grey_copy(eager.image, 160).astype(int)
        )
        assert float(np.median(difference)) < 4


def test_a_resized_jpeg_camera_reports_the_resized_size_before_decoding(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.jpg"), _picture(1280, 720))
    (frame,) = _frames(
        {"type": "images", "path": str(tmp_path), "loop": False, "width": 640}, 1, previews=True
    )
    assert (frame.width, frame.height) == (640, 360) and not frame.decoded
    assert frame.image.shape == (360, 640, 3)


def test_a_video_file_puts_off_the_conversion_and_gives_the_same_image(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (640, 360))
    for _ in range(4):
        writer.write(_picture(640, 360))
    writer.release()
    config = {"type": "video", "path": str(path), "realtime": False}
    deferred, plain = _frames(config, 4, previews=True), _frames(config, 4, previews=False)
    for lazy, eager in zip(deferred, plain, strict=True):
        assert lazy.preview is not None and lazy.preview.shape == (90, 160) and not lazy.decoded
        assert lazy.media_time == eager.media_time
        assert np.array_equal(lazy.image, eager.image)


def test_picamera2_reads_the_preview_from_a_small_lores_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    rig = fake_picamera2.install(monkeypatch)
    with open_camera("pi", pi_camera(width=1280, height=720), previews=True) as camera:
        camera.start()
        frame = camera.latest(5.0)
    assert frame is not None
    assert rig.configs[0]["lores"] == {"size": (160, 90), "format": "YUV420"}
    assert frame.preview is not None and frame.preview.shape == (90, 160) and not frame.decoded
    assert frame.image.shape == (720, 1280, 3)
    assert_red_left_blue_right(frame.image)
    assert rig.requests_out == 0, "the request was released before the image was converted"
