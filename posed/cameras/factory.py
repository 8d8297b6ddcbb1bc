"""Build a camera's source from its config, and the Camera around it."""

from __future__ import annotations

from posed.cameras.capture import Camera, StatusCallback
from posed.cameras.config import (
    CameraConfig,
    ImagesCamera,
    Picamera2Camera,
    StreamCamera,
    V4L2Camera,
    VideoCamera,
)
from posed.cameras.source import Source
from posed.clock import SYSTEM_CLOCK, Clock


def make_source(config: CameraConfig, *, previews: bool = False) -> Source:
    """The source for `config`, not yet opened. Each type's module is imported here, on demand.

    `previews`: the motion gate will want grey previews (a picamera2 camera then also
    configures a small lores stream for them)."""
    if isinstance(config, VideoCamera):
        from posed.cameras.sources.video import VideoSource  # noqa: PLC0415 (imports OpenCV)

        return VideoSource(config)
    if isinstance(config, ImagesCamera):
        from posed.cameras.sources.images import ImagesSource  # noqa: PLC0415 (imports OpenCV)

        return ImagesSource(config)
    if isinstance(config, StreamCamera):
        from posed.cameras.sources.stream import StreamSource  # noqa: PLC0415 (imports OpenCV)

        return StreamSource(config)
    if isinstance(config, V4L2Camera):
        from posed.cameras.sources.v4l2 import V4L2Source  # noqa: PLC0415 (imports OpenCV)

        return V4L2Source(config)
    if isinstance(config, Picamera2Camera):
        from posed.cameras.sources.picamera2 import Picamera2Source  # noqa: PLC0415 (imports OpenCV, picamera2)

        return Picamera2Source(config, previews=previews)
    raise TypeError(f"unknown camera config {type(config).__name__}")


def open_camera(
    name: str,
    config: CameraConfig,
    *,
    on_status: StatusCallback | None = None,
    clock: Clock = SYSTEM_CLOCK,
    previews: bool = False,
) -> Camera:
    """A Camera for `config`. Nothing is opened until `start()`.

    `previews`: frames carry a grey preview and decode their full image on demand, where the
    source can (for the motion gate, which then skips decoding what it skips)."""
    source = make_source(config, previews=previews)
    return Camera(name, source, config, on_status=on_status, clock=clock, previews=previews)
