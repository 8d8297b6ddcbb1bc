"""Camera config models: defaults, and the pure validators that reject contradictions."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from posed.cameras.config import ImagesCamera, Picamera2Camera, StreamCamera, V4L2Camera, VideoCamera
from tests.camera_helpers import camera_config
from tests.conftest import MEDIA, POSED


def test_defaults() -> None:
    stream = camera_config(type="stream", url="rtsp://cam/x")
    assert isinstance(stream, StreamCamera)
    assert (stream.transport, stream.open_timeout, stream.read_timeout) == ("tcp", 10.0, 10.0)
    assert (stream.stall_timeout, stream.reconnect_min_delay, stream.reconnect_max_delay) == (20.0, 1.0, 30.0)
    usb = camera_config(type="v4l2", device=0)
    assert isinstance(usb, V4L2Camera) and usb.fourcc == "MJPG"
    video = camera_config(type="video", path="a.mp4")
    assert isinstance(video, VideoCamera) and not video.realtime and not video.loop
    pi = camera_config(type="picamera2")
    assert isinstance(pi, Picamera2Camera) and pi.format == "RGB888" and not pi.lores


def test_every_field_is_described() -> None:
    for model in (Picamera2Camera, V4L2Camera, StreamCamera, VideoCamera, ImagesCamera):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"type": "stream", "url": "rtsp://cam/x", "fps": 10}, "fps cannot be set for a stream"),
        ({"type": "stream", "url": "ftp://cam/x"}, "url must start with"),
        ({"type": "video", "path": "a.mp4", "fps": 10}, "needs realtime: true"),
        ({"type": "images", "path": "imgs", "fps": 2}, "needs realtime: true"),
        ({"type": "picamera2", "width": 640}, "both width and height"),
        ({"type": "picamera2", "lores_width": 320}, "need lores: true"),
        ({"type": "picamera2", "lores": True, "lores_width": 321}, "must be even"),
        (
            {"type": "picamera2", "width": 640, "height": 480, "lores": True, "lores_width": 800},
            "must not exceed width",
        ),
        ({"type": "v4l2", "device": "video0"}, "path under /dev"),
        ({"type": "v4l2", "device": -1}, "index must be >= 0"),
        ({"type": "v4l2", "device": 0, "fourcc": "MJPEG"}, "at most 4 characters"),
        (
            {"type": "video", "path": "a.mp4", "reconnect_min_delay": 5, "reconnect_max_delay": 1},
            "reconnect_max_delay must be >= reconnect_min_delay",
        ),
        ({"type": "video", "path": "a.mp4", "colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_contradictions_are_rejected(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        camera_config(**values)


def test_posed_check_names_missing_devices_and_urls(tmp_path: Path, models_dir: Path) -> None:
    """`posed check` probes each camera and reports every one that cannot deliver, with its line."""
    config = tmp_path / "posed.yaml"
    config.write_text(
        "device_id: t\n"
        "backend: {type: tflite}\n"
        "model: {name: blazepose-lite}\n"
        "cameras:\n"
        "  usb:\n"
        "    type: v4l2\n"
        "    device: /dev/video97\n"
        "  door:\n"
        "    type: stream\n"
        "    url: rtsp://admin:pw@127.0.0.1:9/stream1\n"
        "    open_timeout: 2\n"
        "  street:\n"
        f"    type: video\n    path: {MEDIA / 'vtest.avi'}\n"
    )
    result = subprocess.run(
        [*POSED, "check", "-c", str(config), "--model-dir", str(models_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2, result.stderr
    assert f"{config}:5: cameras.usb:" in errors[0] and "/dev/video97" in errors[0]
    assert "no such device" in errors[0]
    assert f"{config}:8: cameras.door:" in errors[1] and "connection refused" in errors[1]
    assert "pw@" not in result.stderr
