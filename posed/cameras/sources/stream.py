"""`stream`: RTSP, RTMP and HTTP (MJPEG) URLs through OpenCV's FFmpeg backend."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import cv2

from posed.cameras.config import StreamCamera
from posed.cameras.convert import ToRgb, as_u8, defer_bgr
from posed.cameras.source import Deferred, LiveSource
from posed.errors import CameraError
from posed.types import ImageArray
from posed.urls import mask_credentials

DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "rtmp": 1935, "http": 80, "https": 443}

# OpenCV's FFmpeg backend takes demuxer options (such as rtsp_transport) only from
# this variable, read inside VideoCapture's open; there is no capture parameter
# for them. So it is set around the open call alone, under a lock, and the
# previous value is restored. Timeouts do not need it: they are capture params.
_OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_options_lock = threading.Lock()


def redact(url: str) -> str:
    """`url` with its password and secret query parameters masked, safe for logs and error messages."""
    return mask_credentials(url)


@contextlib.contextmanager
def ffmpeg_transport(transport: str) -> Iterator[None]:
    """Set rtsp_transport for the FFmpeg capture opened inside the block, keeping other options."""
    with _options_lock:
        previous = os.environ.get(_OPTIONS_ENV)
        kept = [
            option
            for option in (previous or "").split("|")
            if option and not option.startswith(("rtsp_transport;", "rtsp_flags;"))
        ]
        os.environ[_OPTIONS_ENV] = "|".join([*kept, f"rtsp_transport;{transport}"])
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(_OPTIONS_ENV, None)
            else:
                os.environ[_OPTIONS_ENV] = previous


def check_reachable(url: str, timeout: float) -> None:
    """Raise CameraError naming the cause when the stream's host cannot be reached over TCP.

    OpenCV only says "could not open"; this tells a refused port from a wrong
    host name from a silent network. RTSP over UDP still talks RTSP over TCP.
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise CameraError(f"{redact(url)} names no host")
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError as exc:
        raise CameraError(f"{redact(url)}: invalid port") from exc
    where = f"{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except socket.gaierror as exc:
        raise CameraError(f"cannot resolve host {host!r} of {redact(url)}: {exc.strerror}") from exc
    except ConnectionRefusedError as exc:
        raise CameraError(
            f"connection refused by {where} for {redact(url)}: is the camera or stream server running?"
        ) from exc
    except TimeoutError as exc:
        raise CameraError(f"no answer from {where} within {timeout:g} s for {redact(url)}") from exc
    except OSError as exc:
        raise CameraError(f"cannot reach {where} for {redact(url)}: {exc.strerror or exc}") from exc


class StreamSource(LiveSource):
    """A network stream with bounded open and read times.

    Reads wait at most `read_timeout` (or `stall_timeout` if shorter) before
    failing, so a server that goes silent becomes a CameraError.
    """

    def __init__(self, config: StreamCamera) -> None:
        self._config = config
        self._cap: cv2.VideoCapture | None = None
        self._bgr: ImageArray | None = None
        self._to_rgb = ToRgb(width=config.width, height=config.height)

    @property
    def description(self) -> str:
        return f"stream {redact(self._config.url)}"

    def open(self) -> None:
        self.close()
        cfg = self._config
        check_reachable(cfg.url, cfg.open_timeout)
        read_timeout = min(cfg.read_timeout, cfg.stall_timeout)
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            round(cfg.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            round(read_timeout * 1000),
        ]
        rtsp = urlsplit(cfg.url).scheme in ("rtsp", "rtsps")
        with ffmpeg_transport(cfg.transport) if rtsp else contextlib.nullcontext():
            cap = cv2.VideoCapture(cfg.url, cv2.CAP_FFMPEG, params)
        if not cap.isOpened():
            cap.release()
            raise CameraError(
                f"{self.description}: the server answers but the stream did not open within "
                f"{cfg.open_timeout:g} s (wrong path or credentials, or a codec OpenCV's FFmpeg lacks)"
            )
        self._cap = cap

    def read(self) -> ImageArray:
        self._bgr = bgr = self._read_bgr(self._bgr)
        return self._to_rgb(bgr)

    def read_deferred(self) -> Deferred:
        """The driver decodes the whole frame anyway; the conversion to RGB is put off."""
        return defer_bgr(self._read_bgr(None), self._config.width, self._config.height)

    def _read_bgr(self, reuse: ImageArray | None) -> ImageArray:
        """The next frame, into `reuse` when given (a fresh array otherwise)."""
        if self._cap is None:
            raise CameraError(f"{self.description} is not open")
        ok, bgr = self._cap.read(reuse)
        if not ok:
            raise CameraError(f"{self.description}: no frame (the stream ended, stalled or was cut)")
        return as_u8(bgr)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
