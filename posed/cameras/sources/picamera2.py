"""`picamera2`: a Raspberry Pi camera through picamera2 (libcamera).

A thin adapter: a video configuration, one request at a time mapped and
converted straight into the RGB frame, and the request always released.
picamera2 is imported in `open()`, so posed runs and tests without it.
"""

from __future__ import annotations

import functools
import glob
import logging
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from posed.cameras.config import Picamera2Camera
from posed.cameras.convert import PREVIEW_WIDTH, as_u8
from posed.cameras.devices import describe_holders
from posed.cameras.source import Deferred, LiveSource
from posed.errors import CameraError
from posed.types import ImageArray

log = logging.getLogger(__name__)

# libcamera names formats by word order; in memory "RGB888" is B, G, R.
_MAIN_TO_RGB: dict[str, int] = {
    "RGB888": cv2.COLOR_BGR2RGB,
    "BGR888": -1,  # already R, G, B: copied as is
    "XRGB8888": cv2.COLOR_BGRA2RGB,
    "XBGR8888": cv2.COLOR_RGBA2RGB,
}
_INSTALL = (
    "picamera2 is not installed: on Raspberry Pi OS run `sudo apt install python3-picamera2` and create "
    "posed's venv with --system-site-packages"
)
_BUSY = (
    "is in use by another process (another posed, rpicam-*/libcamera-* or a stuck process; "
    "`sudo fuser -v /dev/media* /dev/video*` shows which)"
)


def lores_size(config: Picamera2Camera, main: tuple[int, int]) -> tuple[int, int]:
    """The lores stream's size: as configured, else 640 wide (or the main width) at main's aspect."""
    width = config.lores_width or min(640, main[0])
    height = config.lores_height or round(width * main[1] / main[0])
    return (width - width % 2, height - height % 2)


def explain(camera_num: int, exc: BaseException, nodes: Sequence[str] | None = None) -> str:
    """Say "in use by another process" (naming it when /proc shows it) for libcamera's acquire errors."""
    text = str(exc)
    busy = ("acquire", "busy", "in use", "did not complete")
    if not any(word in text.lower() for word in busy):
        return f"picamera2 camera {camera_num} failed: {text}"
    if nodes is None:
        nodes = sorted(glob.glob("/dev/media*") + glob.glob("/dev/video*"))
    holders = describe_holders(*nodes)
    if holders:
        return f"picamera2 camera {camera_num} could not be acquired: {holders} ({text})"
    return f"picamera2 camera {camera_num} could not be acquired, most likely it {_BUSY}: {text}"


class Picamera2Source(LiveSource):
    """`previews`: also configure a small lores stream whose luma plane is the motion gate's
    grey preview (read_deferred); the main frame is then converted only when it is used."""

    def __init__(self, config: Picamera2Camera, *, previews: bool = False) -> None:
        self._config = config
        self._previews = previews
        self._preview_size = (0, 0)
        self._camera: Any = None
        self._mapped_array: Any = None
        self._stream = "lores" if config.lores else "main"
        self._size = (0, 0)
        self._i420: ImageArray | None = None

    @property
    def description(self) -> str:
        return f"picamera2 camera {self._config.camera_num}"

    def open(self) -> None:
        self.close()
        try:
            import picamera2  # noqa: PLC0415 (camera hardware)
        except ImportError as exc:
            raise CameraError(_INSTALL) from exc
        cfg = self._config
        try:
            cameras = picamera2.Picamera2.global_camera_info()
        except Exception as exc:
            raise CameraError(f"libcamera cannot list cameras: {exc}") from exc
        if cfg.camera_num >= len(cameras):
            raise CameraError(
                f"{self.description} not found: libcamera sees {len(cameras)} camera(s) "
                "(cable seated? `rpicam-hello --list-cameras` lists them)"
            )
        try:
            camera = picamera2.Picamera2(cfg.camera_num)
        except Exception as exc:  # picamera2 raises RuntimeError, libcamera other errors
            raise CameraError(explain(cfg.camera_num, exc)) from exc
        try:
            self._configure(camera)
            camera.start()
        except Exception as exc:
            _close_quietly(camera)
            raise CameraError(explain(cfg.camera_num, exc)) from exc
        self._camera = camera
        self._mapped_array = picamera2.MappedArray

    def _configure(self, camera: Any) -> None:
        cfg = self._config
        main: dict[str, Any] = {"format": cfg.format}
        if cfg.width is not None and cfg.height is not None:
            main["size"] = (cfg.width, cfg.height)
        controls: dict[str, Any] = {}
        if cfg.fps is not None:
            frame_us = round(1_000_000 / cfg.fps)
            controls["FrameDurationLimits"] = (frame_us, frame_us)
        lores = None
        # The video configuration's own default main size, when none is given.
        main_size = main.get("size", (1280, 720))
        if cfg.lores:
            lores = {"size": lores_size(cfg, main_size), "format": "YUV420"}
        elif self._previews:
            width = min(PREVIEW_WIDTH, main_size[0])
            height = round(width * main_size[1] / main_size[0])
            lores = {"size": (width - width % 2, max(2, height - height % 2)), "format": "YUV420"}
        # queue=False: a capture waits for a frame taken after it was asked for, never an old one.
        video = camera.create_video_configuration(
            main=main, lores=lores, buffer_count=cfg.buffer_count, controls=controls, queue=False
        )
        camera.configure(video)
        # configure() may align sizes; the camera's own copy has what the buffers really hold.
        width, height = camera.camera_config[self._stream]["size"]
        self._size = (int(width), int(height))
        if lores is not None:
            width, height = camera.camera_config["lores"]["size"]
            self._preview_size = (int(width), int(height))

    def read(self) -> ImageArray:
        camera = self._camera
        if camera is None:
            raise CameraError(f"{self.description} is not open")
        request = self._capture(camera)
        try:
            with self._mapped_array(request, self._stream, write=False) as mapped:
                return self._convert(mapped.array)
        except Exception as exc:
            raise CameraError(f"{self.description}: cannot read the frame buffer: {exc}") from exc
        finally:
            request.release()

    def read_deferred(self) -> Deferred:
        """The lores stream's luma plane as the preview; the frame's pixels copied out of the
        request (it must be released) and converted to RGB only when used."""
        camera = self._camera
        if camera is None or self._preview_size == (0, 0):
            image = self.read()
            return Deferred(as_u8(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)), lambda: image, self._size)
        request = self._capture(camera)
        try:
            with self._mapped_array(request, "lores", write=False) as mapped:
                width, height = self._preview_size
                preview = np.array(mapped.array[:height, :width], dtype=np.uint8, copy=True)
            with self._mapped_array(request, self._stream, write=False) as mapped:
                pixels = np.array(mapped.array, dtype=np.uint8, copy=True)
        except Exception as exc:
            raise CameraError(f"{self.description}: cannot read the frame buffer: {exc}") from exc
        finally:
            request.release()
        return Deferred(preview, functools.partial(self._convert_copy, pixels), self._size)

    def _convert_copy(self, pixels: ImageArray) -> ImageArray:
        """_convert on a private copy, from any thread: the I420 repacking buffer is not shared."""
        width, height = self._size
        if self._stream == "lores":
            packed = _pack_i420(pixels, width, height, None)
            return as_u8(cv2.cvtColor(packed, cv2.COLOR_YUV2RGB_I420))
        code = _MAIN_TO_RGB[self._config.format]
        frame = pixels[:height, :width]
        if code < 0:
            return np.array(frame[:, :, :3], dtype=np.uint8, copy=True)
        return as_u8(cv2.cvtColor(frame, code))

    def _capture(self, camera: Any) -> Any:
        timeout = self._config.stall_timeout
        try:
            return camera.capture_request(wait=timeout)
        except TimeoutError as exc:
            raise CameraError(f"{self.description}: no frame within {timeout:g} s") from exc
        except Exception as exc:
            raise CameraError(explain(self._config.camera_num, exc)) from exc

    def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            _close_quietly(camera)

    def _convert(self, array: ImageArray) -> ImageArray:
        width, height = self._size
        if self._stream == "lores":
            return as_u8(cv2.cvtColor(self._packed_i420(array, width, height), cv2.COLOR_YUV2RGB_I420))
        pixels = array[:height, :width]
        code = _MAIN_TO_RGB[self._config.format]
        if code < 0:
            return np.array(pixels[:, :, :3], dtype=np.uint8, copy=True)
        return as_u8(cv2.cvtColor(pixels, code))

    def _packed_i420(self, array: ImageArray, width: int, height: int) -> ImageArray:
        """The YUV420 planes without row padding, as cvtColor needs them (buffer reused)."""
        if self._i420 is None or self._i420.shape != (height * 3 // 2, width):
            self._i420 = np.empty((height * 3 // 2, width), dtype=np.uint8)
        return _pack_i420(array, width, height, self._i420)


def _pack_i420(array: ImageArray, width: int, height: int, out: ImageArray | None) -> ImageArray:
    """The YUV420 planes of a mapped buffer without row padding, into `out` (or a new array)."""
    stride = array.shape[1]
    if stride == width:
        return array[: height * 3 // 2]
    if out is None:
        out = np.empty((height * 3 // 2, width), dtype=np.uint8)
    out[:height] = array[:height, :width]
    # Chroma rows are half as wide, so two of them share one padded row of the mapped array.
    flat = array[height : height * 3 // 2].reshape(-1)
    quarter = (height // 2) * (stride // 2)
    chroma_dst = out[height:].reshape(2, height // 2, width // 2)
    for plane in range(2):
        rows = flat[plane * quarter : (plane + 1) * quarter].reshape(height // 2, stride // 2)
        chroma_dst[plane] = rows[:, : width // 2]
    return out


def _close_quietly(camera: Any) -> None:
    """stop() then close(); close() runs even when stop() fails, and nothing escapes."""
    try:
        camera.stop()
    except Exception as exc:  # the camera is being dropped; close() below must still run
        log.warning("picamera2: stop() failed while closing: %s", exc)
    finally:
        try:
            camera.close()
        except Exception as exc:
            log.warning("picamera2: close() failed: %s", exc)
