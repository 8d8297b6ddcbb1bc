"""Config models for camera sources, one per `type`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from posed.strict import StrictModel


class CameraCommon(StrictModel):
    width: PositiveInt | None = Field(None, description="Requested frame width in pixels.")
    height: PositiveInt | None = Field(None, description="Requested frame height in pixels.")
    fps: PositiveFloat | None = Field(None, description="Requested frame rate.")
    stall_timeout: PositiveFloat = Field(
        20.0, description="Seconds without a frame before the source is reopened."
    )
    reconnect_min_delay: PositiveFloat = Field(
        1.0, description="First delay, in seconds, before reopening a failed source."
    )
    reconnect_max_delay: PositiveFloat = Field(
        30.0, description="Cap, in seconds, of the exponential reopen back-off."
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
    buffer_count: int = Field(4, ge=1, le=16, description="Number of frame buffers libcamera allocates.")


class V4L2Camera(CameraCommon):
    type: Literal["v4l2"] = Field(description="A USB or other V4L2 camera through OpenCV.")
    device: int | str = Field(description="Camera index (0) or device path (/dev/video0).")
    fourcc: str | None = Field(
        "MJPG", min_length=4, max_length=4, description="Pixel format FOURCC, e.g. MJPG or YUYV."
    )


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
        return self


class VideoCamera(CameraCommon):
    type: Literal["video"] = Field(description="A video file, decoded with OpenCV.")
    path: Path = Field(description="Path of the video file.")
    realtime: bool = Field(
        False, description="Play at the file's own frame rate, as a camera would; else as fast as possible."
    )
    loop: bool = Field(False, description="Start again at the end of the file.")


class ImagesCamera(CameraCommon):
    type: Literal["images"] = Field(description="A folder of images, or a glob pattern.")
    path: str = Field(description="A folder (all .jpg/.jpeg/.png/.bmp in it, sorted) or a glob.")
    realtime: bool = Field(
        False, description="Pace the images at `fps` (default 1) instead of as fast as possible."
    )
    loop: bool = Field(False, description="Start again after the last image.")


CameraConfig = Annotated[
    Picamera2Camera | V4L2Camera | StreamCamera | VideoCamera | ImagesCamera,
    Field(discriminator="type"),
]
