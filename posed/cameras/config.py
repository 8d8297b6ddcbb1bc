"""Config models for camera sources, one per `type`.

Validators here are pure: they check the values against each other and never
touch a device, a file or the network (that is `posed.cameras.probe`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from posed.events.config import Name, ZoneConfig
from posed.strict import StrictModel


class CameraCommon(StrictModel):
    width: PositiveInt | None = Field(
        None,
        description="Frame width in pixels: requested from picamera2/v4l2 devices; streams, files and "
        "images are resized to it (keeping the aspect ratio when only one of width/height is set).",
    )
    height: PositiveInt | None = Field(None, description="Frame height in pixels; see `width`.")
    fps: PositiveFloat | None = Field(
        None,
        description="Frame rate: requested from picamera2/v4l2 devices; for `video` and `images` with "
        "`realtime: true`, the pace of playback. Not valid for `stream` (the sender sets it).",
    )
    stall_timeout: PositiveFloat = Field(
        20.0, description="Seconds without a frame before the source is reopened."
    )
    reconnect_min_delay: PositiveFloat = Field(
        1.0, description="First delay, in seconds, before reopening a failed source."
    )
    reconnect_max_delay: PositiveFloat = Field(
        30.0, description="Cap, in seconds, of the exponential reopen back-off."
    )
    zones: dict[Name, ZoneConfig] = Field(
        default_factory=dict, description="Named zones of this camera's image, for zone events."
    )

    @model_validator(mode="after")
    def _backoff_order(self) -> CameraCommon:
        if self.reconnect_max_delay < self.reconnect_min_delay:
            raise ValueError("reconnect_max_delay must be >= reconnect_min_delay")
        return self


class Picamera2Camera(CameraCommon):
    type: Literal["picamera2"] = Field(description="A Raspberry Pi camera through picamera2.")
    camera_num: int = Field(0, ge=0, description="Index of the camera in Picamera2.global_camera_info().")
    format: Literal["RGB888", "BGR888", "XRGB8888", "XBGR8888"] = Field(
        "RGB888", description="Pixel format of the main stream."
    )
    lores: bool = Field(
        False, description="Also configure a low-resolution stream sized for the model, and use it."
    )
    lores_width: PositiveInt | None = Field(
        None,
        description="Width of the low-resolution stream (even); default 640, or the main width if smaller.",
    )
    lores_height: PositiveInt | None = Field(
        None,
        description="Height of the low-resolution stream (even); default keeps the main stream's "
        "aspect ratio.",
    )
    buffer_count: int = Field(4, ge=1, le=16, description="Number of frame buffers libcamera allocates.")

    @model_validator(mode="after")
    def _sizes(self) -> Picamera2Camera:
        if (self.width is None) != (self.height is None):
            raise ValueError("picamera2 needs both width and height, or neither (the camera's default)")
        if (self.lores_width is not None or self.lores_height is not None) and not self.lores:
            raise ValueError("lores_width/lores_height need lores: true")
        for key in ("lores_width", "lores_height"):
            value = getattr(self, key)
            if value is not None and value % 2:
                raise ValueError(f"{key} must be even (the lores stream is YUV420)")
        if self.width is not None and self.height is not None:
            if self.lores_width is not None and self.lores_width > self.width:
                raise ValueError("lores_width must not exceed width")
            if self.lores_height is not None and self.lores_height > self.height:
                raise ValueError("lores_height must not exceed height")
        return self


class V4L2Camera(CameraCommon):
    type: Literal["v4l2"] = Field(description="A USB or other V4L2 camera through OpenCV.")
    device: int | str = Field(
        description="Camera index (0 means /dev/video0) or device path (/dev/video0, "
        "/dev/v4l/by-id/... stays stable across reboots)."
    )
    fourcc: str | None = Field(
        "MJPG", min_length=4, max_length=4, description="Pixel format FOURCC, e.g. MJPG or YUYV."
    )

    @model_validator(mode="after")
    def _device(self) -> V4L2Camera:
        if isinstance(self.device, int) and self.device < 0:
            raise ValueError("device index must be >= 0")
        if isinstance(self.device, str) and not self.device.startswith("/dev/"):
            raise ValueError("device must be an index (0) or a path under /dev (/dev/video0)")
        return self


class StreamCamera(CameraCommon):
    type: Literal["stream"] = Field(description="An RTSP, RTMP or HTTP (MJPEG) stream.")
    url: str = Field(description="Stream URL: rtsp://, rtsps://, rtmp://, http:// or https://.")
    transport: Literal["tcp", "udp"] = Field("tcp", description="RTSP transport.")
    open_timeout: PositiveFloat = Field(10.0, description="Seconds to wait for the stream to open.")
    read_timeout: PositiveFloat = Field(10.0, description="Seconds to wait for one frame.")

    @model_validator(mode="after")
    def _scheme(self) -> StreamCamera:
        schemes = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://")
        if not self.url.startswith(schemes):
            raise ValueError(f"url must start with one of {', '.join(schemes)}")
        if self.fps is not None:
            raise ValueError("fps cannot be set for a stream: the sender chooses its frame rate")
        return self


class VideoCamera(CameraCommon):
    type: Literal["video"] = Field(description="A video file, decoded with OpenCV.")
    path: Path = Field(description="Path of the video file.")
    realtime: bool = Field(
        False,
        description="Play at the file's own frame rate (or `fps`), as a camera would, dropping frames "
        "the pipeline is too slow for; else deliver every frame, as fast as the pipeline takes them.",
    )
    loop: bool = Field(False, description="Start again at the end of the file.")

    @model_validator(mode="after")
    def _fps_needs_realtime(self) -> VideoCamera:
        if self.fps is not None and not self.realtime:
            raise ValueError("fps paces playback and needs realtime: true")
        return self


class ImagesCamera(CameraCommon):
    type: Literal["images"] = Field(description="A folder of images, or a glob pattern.")
    path: str = Field(description="A folder (all .jpg/.jpeg/.png/.bmp in it, sorted) or a glob.")
    realtime: bool = Field(
        False, description="Pace the images at `fps` (default 1) instead of as fast as possible."
    )
    loop: bool = Field(False, description="Start again after the last image.")

    @model_validator(mode="after")
    def _fps_needs_realtime(self) -> ImagesCamera:
        if self.fps is not None and not self.realtime:
            raise ValueError("fps paces the images and needs realtime: true")
        return self


CameraConfig = Annotated[
    Picamera2Camera | V4L2Camera | StreamCamera | VideoCamera | ImagesCamera,
    Field(discriminator="type"),
]
