"""Config models for camera sources, one per `type`.

Validators here are pure: they check the values against each other and never
touch a device, a file or the network (that is `posed.cameras.probe`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from posed.events.config import ZoneConfig
from posed.evidence.config import PRIVACY_DESCRIPTION, Privacy
from posed.strict import MAX_PATH_CHARS, CheckedByValidator, ConfigPath, Name, StrictModel

MAX_SIDE = 16384  # pixels; more than any camera or sensible image on a device posed runs on
DEFAULT_MAX_PIXELS = 50_000_000  # an 8-bit RGB image of 50 MP decodes to 150 MB: a Pi copes, barely

# What the frames of all cameras may take, by the systemd unit's MemoryMax= (systemd/posed.service;
# tests/test_systemd_unit.py keeps the two equal). Measured with `posed run` on vtest.avi resized to
# 4096 x 4096 (48 MiB a frame): peak RSS 392 MiB against 204 MiB at 768 x 576, i.e. about
# FRAME_COPIES frames of each camera are alive at once (capture buffer, resize, RGB, the worker's).
# BASE_MEMORY is posed without frames: Python, OpenCV, the backend and a BlazePose model (204 MiB
# measured with tflite and blazepose-full), with room for OpenVINO and the heavy model.
UNIT_MEMORY_MAX = 1024 * 1024 * 1024
BASE_MEMORY = 384 * 1024 * 1024
FRAME_COPIES = 4
FRAME_MEMORY = UNIT_MEMORY_MAX - BASE_MEMORY
MAX_FRAME_PIXELS = FRAME_MEMORY // (3 * FRAME_COPIES)  # 55,924,053: 8K (7680 x 4320) fits, 16384 x 16384 not


def frame_memory_problem(pixels: int, what: str) -> str | None:
    """Why frames of `pixels` (width x height) would not fit in the unit's memory, or None."""
    need = pixels * 3 * FRAME_COPIES
    if need <= FRAME_MEMORY:
        return None
    return (
        f"{what} {pixels:,} pixels; with about {FRAME_COPIES} frames alive per camera that is "
        f"{need / 2**20:,.0f} MiB, and the systemd unit's MemoryMax={UNIT_MEMORY_MAX // 2**30}G leaves "
        f"{FRAME_MEMORY / 2**20:,.0f} MiB for frames ({MAX_FRAME_PIXELS:,} pixels, e.g. 7680 x 4320)"
    )


class CameraCommon(StrictModel):
    width: int | None = Field(
        None,
        ge=1,
        le=MAX_SIDE,
        description="Frame width in pixels, 1 to 16384: requested from picamera2/v4l2 devices; streams, "
        "files and images are resized to it (keeping the aspect ratio when only one of width/height is set). "
        "width x height at most 55,924,053 pixels: what the unit's MemoryMax leaves for frames.",
    )
    height: int | None = Field(
        None, ge=1, le=MAX_SIDE, description="Frame height in pixels, 1 to 16384; see `width`."
    )
    fps: float | None = Field(
        None,
        gt=0,
        le=1000,
        description="Frame rate, up to 1000: requested from picamera2/v4l2 devices; for `video` and "
        "`images` with `realtime: true`, the pace of playback. Not valid for `stream` (the sender sets it).",
    )
    stall_timeout: float = Field(
        20.0,
        ge=0.5,
        le=3600,
        description="Seconds without a frame before the source is reopened, 0.5 to 3600.",
    )
    reconnect_min_delay: float = Field(
        1.0,
        ge=0.01,
        le=3600,
        description="First delay, in seconds, before reopening a failed source, 0.01 to 3600.",
    )
    reconnect_max_delay: float = Field(
        30.0,
        ge=0.01,
        le=3600,
        description="Cap, in seconds, of the exponential reopen back-off, 0.01 to 3600.",
    )
    zones: dict[Name, ZoneConfig] = Field(
        default_factory=dict, description="Named zones of this camera's image, for zone events."
    )
    privacy: Privacy = Field("full", description=PRIVACY_DESCRIPTION)

    @model_validator(mode="after")
    def _backoff_order(self) -> CameraCommon:
        if self.reconnect_max_delay < self.reconnect_min_delay:
            raise ValueError("reconnect_max_delay must be >= reconnect_min_delay")
        if self.width is not None and self.height is not None:
            what = f"width x height = {self.width} x {self.height} ="
            if (problem := frame_memory_problem(self.width * self.height, what)) is not None:
                raise ValueError(problem)
        return self


class Picamera2Camera(CameraCommon):
    type: Literal["picamera2"] = Field(description="A Raspberry Pi camera through picamera2.")
    camera_num: int = Field(
        0, ge=0, le=15, description="Index of the camera in Picamera2.global_camera_info(), 0 to 15."
    )
    format: Literal["RGB888", "BGR888", "XRGB8888", "XBGR8888"] = Field(
        "RGB888", description="Pixel format of the main stream."
    )
    lores: bool = Field(
        False, description="Also configure a low-resolution stream sized for the model, and use it."
    )
    lores_width: int | None = Field(
        None,
        ge=2,
        le=MAX_SIDE,
        description="Width of the low-resolution stream (even, 2 to 16384); default 640, or the main width "
        "if smaller.",
    )
    lores_height: int | None = Field(
        None,
        ge=2,
        le=MAX_SIDE,
        description="Height of the low-resolution stream (even, 2 to 16384); default keeps the main "
        "stream's aspect ratio.",
    )
    buffer_count: int = Field(
        4, ge=1, le=16, description="Number of frame buffers libcamera allocates, 1 to 16."
    )

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
    device: Annotated[int | str, CheckedByValidator("_device")] = Field(
        description="Camera index, 0 to 255 (0 means /dev/video0), or device path of at most 4096 "
        "characters (/dev/video0, /dev/v4l/by-id/... stays stable across reboots)."
    )
    fourcc: str | None = Field(
        "MJPG",
        min_length=4,
        max_length=4,
        description="Pixel format FOURCC of 4 characters, e.g. MJPG or YUYV.",
    )

    @model_validator(mode="after")
    def _device(self) -> V4L2Camera:
        if isinstance(self.device, int) and not 0 <= self.device <= 255:
            raise ValueError("device index must be >= 0 and <= 255")
        if isinstance(self.device, str) and not self.device.startswith("/dev/"):
            raise ValueError("device must be an index (0) or a path under /dev (/dev/video0)")
        if isinstance(self.device, str) and len(self.device) > MAX_PATH_CHARS:
            raise ValueError(f"device path must be at most {MAX_PATH_CHARS} characters")
        return self


class StreamCamera(CameraCommon):
    type: Literal["stream"] = Field(description="An RTSP, RTMP or HTTP (MJPEG) stream.")
    url: str = Field(
        max_length=MAX_PATH_CHARS,
        description="Stream URL of at most 4096 characters: rtsp://, rtsps://, rtmp://, http:// or https://.",
    )
    transport: Literal["tcp", "udp"] = Field("tcp", description="RTSP transport.")
    open_timeout: float = Field(
        10.0, ge=0.5, le=600, description="Seconds to wait for the stream to open, 0.5 to 600."
    )
    read_timeout: float = Field(
        10.0, ge=0.5, le=600, description="Seconds to wait for one frame, 0.5 to 600."
    )

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
    path: ConfigPath = Field(description="Path of the video file; a leading ~ is your home folder.")
    realtime: bool = Field(
        False,
        description="Play at the file's own frame rate (or `fps`), as a camera would, dropping frames "
        "the pipeline is too slow for; else deliver every frame, as fast as the pipeline takes them.",
    )
    loop: bool = Field(False, description="Start again at the end of the file.")

    @field_validator("path", mode="before")
    @classmethod
    def _not_a_url(cls, value: object) -> object:
        # Checked on the text: pathlib would fold rtsp:// into rtsp:/ and keep the password.
        if isinstance(value, str) and re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", value):
            raise ValueError("a URL is no video file: use `type: stream` with `url:` for a stream")
        return value

    @field_validator("path")
    @classmethod
    def _home(cls, value: Path) -> Path:
        # `~/...` as in a shell, so that a config can name the demo's clip in ~/.cache/posed/samples.
        return value.expanduser()

    @model_validator(mode="after")
    def _fps_needs_realtime(self) -> VideoCamera:
        if self.fps is not None and not self.realtime:
            raise ValueError("fps paces playback and needs realtime: true")
        return self


class ImagesCamera(CameraCommon):
    type: Literal["images"] = Field(description="A folder of images, or a glob pattern.")
    path: str = Field(
        min_length=1,
        max_length=MAX_PATH_CHARS,
        description="A folder (all .jpg/.jpeg/.png/.bmp in it, sorted) or a glob; at most 4096 characters.",
    )
    max_pixels: int = Field(
        DEFAULT_MAX_PIXELS,
        ge=1,
        le=MAX_FRAME_PIXELS,
        description="Largest image, in pixels (width x height, read from the file's header before "
        "decoding), up to 55,924,053 (what the unit's MemoryMax=1G leaves for frames); larger "
        "images are skipped with a warning. The default, 50,000,000, suits a Raspberry Pi.",
    )
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
