"""`v4l2`: USB and other V4L2 cameras through OpenCV's V4L2 backend."""

from __future__ import annotations

import logging
import math
import os
import stat

import cv2

from posed.cameras.config import V4L2Camera
from posed.cameras.convert import ToRgb, as_u8, defer_bgr
from posed.cameras.devices import describe_holders
from posed.cameras.source import Deferred, LiveSource
from posed.errors import CameraError
from posed.types import ImageArray

log = logging.getLogger(__name__)

V4L2_MAJOR = 81  # the video4linux character devices


def device_path(device: int | str) -> str:
    return f"/dev/video{device}" if isinstance(device, int) else device


def is_v4l2_node(path: str) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == V4L2_MAJOR


def explain(path: str, what: str) -> str:
    """A message for a V4L2 failure that says the likely cause: gone, permissions, or busy."""
    if not os.path.exists(path):
        return f"{path} {what}: no such device (unplugged? `v4l2-ctl --list-devices` lists cameras)"
    if not os.access(path, os.R_OK | os.W_OK):
        return f"{path} {what}: permission denied (add the user running posed to the 'video' group)"
    if not is_v4l2_node(path):
        return f"{path} {what}: not a V4L2 device (`v4l2-ctl --list-devices` lists cameras)"
    busy = describe_holders(path)
    if busy:
        return f"{path} {what}: device busy, {busy}; stop that process or pick another camera"
    return f"{path} {what}: not a V4L2 capture device, or the driver refused the requested mode"


def fourcc_text(code: float) -> str:
    value = int(code)
    return "".join(chr((value >> (8 * i)) & 0xFF) for i in range(4))


# OpenCV's V4L2 backend waits for a frame in select() for this many seconds
# (default 10); it has no capture property for it and reads the variable once,
# at its first wait. Set before the first open so a silent camera fails within
# stall_timeout; a value from the service environment wins.
_SELECT_TIMEOUT_ENV = "OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT"


class V4L2Source(LiveSource):
    """A V4L2 device with MJPG, size, rate and a one-buffer queue so frames are fresh."""

    def __init__(self, config: V4L2Camera) -> None:
        self._config = config
        self._path = device_path(config.device)
        self._cap: cv2.VideoCapture | None = None
        self._bgr: ImageArray | None = None
        self._to_rgb = ToRgb()

    @property
    def description(self) -> str:
        return f"V4L2 camera {self._path}"

    def open(self) -> None:
        self.close()
        cfg = self._config
        if not is_v4l2_node(self._path) or not os.access(self._path, os.R_OK | os.W_OK):
            raise CameraError(explain(self._path, "cannot be opened"))
        os.environ.setdefault(_SELECT_TIMEOUT_ENV, str(max(1, math.ceil(cfg.stall_timeout))))
        cap = cv2.VideoCapture(self._path, cv2.CAP_V4L2)
        if not cap.isOpened():
            cap.release()
            raise CameraError(explain(self._path, "cannot be opened"))
        # FOURCC before the size: many UVC cameras offer their large sizes only as MJPG.
        if cfg.fourcc is not None:
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*cfg.fourcc))
        if cfg.width is not None:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, cfg.width)
        if cfg.height is not None:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, cfg.height)
        if cfg.fps is not None:
            cap.set(cv2.CAP_PROP_FPS, cfg.fps)
        # One driver buffer: a slow reader gets the newest frame, not one from seconds ago.
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._cap = cap
        self._report_mode(cap)

    def read(self) -> ImageArray:
        self._bgr = bgr = self._read_bgr(self._bgr)
        return self._to_rgb(bgr)

    def read_deferred(self) -> Deferred:
        """The driver decodes the whole frame anyway; the conversion to RGB is put off."""
        return defer_bgr(self._read_bgr(None))

    def _read_bgr(self, reuse: ImageArray | None) -> ImageArray:
        """The next frame, into `reuse` when given (a fresh array otherwise)."""
        if self._cap is None:
            raise CameraError(f"{self.description} is not open")
        ok, bgr = self._cap.read(reuse)
        if not ok:
            raise CameraError(explain(self._path, "delivers no frames"))
        return as_u8(bgr)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _report_mode(self, cap: cv2.VideoCapture) -> None:
        cfg = self._config
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = cap.get(cv2.CAP_PROP_FPS)
        fourcc = fourcc_text(cap.get(cv2.CAP_PROP_FOURCC))
        log.info("%s: %dx%d %s at %.3g fps", self.description, width, height, fourcc, fps)
        wanted = (cfg.width or width, cfg.height or height)
        if wanted != (width, height) or (cfg.fourcc is not None and fourcc != cfg.fourcc):
            log.warning(
                "%s delivers %dx%d %s, not the requested %dx%d %s (`v4l2-ctl -d %s --list-formats-ext` "
                "lists what it can do)",
                self.description,
                width,
                height,
                fourcc,
                wanted[0],
                wanted[1],
                cfg.fourcc or fourcc,
                self._path,
            )
