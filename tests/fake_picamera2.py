"""A stand-in for the `picamera2` module, which cannot be installed off a Raspberry Pi.

It follows picamera2's documented API as posed's adapter uses it: Picamera2
(global_camera_info, create_video_configuration, configure, camera_config,
start, stop, close, capture_request with `wait` as a timeout), completed
requests with release(), and MappedArray. Buffers are laid out as libcamera
does: "RGB888" is B, G, R in memory, "XBGR8888" is R, G, B, X, and YUV420 rows
are padded to a stride. Tests install it with monkeypatch.setitem(sys.modules).
"""

from __future__ import annotations

import sys
import threading
import time
import types
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np


@dataclass
class Rig:
    """What the fake camera does, and what the adapter did to it."""

    cameras: int = 1
    busy: bool = False
    fail_configure: bool = False
    hang: bool = False
    broken_buffer: bool = False
    frame_interval: float = 0.005
    opened: list[Picamera2] = field(default_factory=list)
    configs: list[dict[str, Any]] = field(default_factory=list)
    requests_out: int = 0
    requests_made: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def open_cameras(self) -> int:
        return sum(1 for cam in self.opened if cam.is_open)


def picture(width: int, height: int) -> np.ndarray:
    """RGB: left half red, right half blue."""
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[:, : width // 2] = (255, 0, 0)
    rgb[:, width // 2 :] = (0, 0, 255)
    return rgb


_BYTES_PER_PIXEL = {"RGB888": 3, "BGR888": 3, "XRGB8888": 4, "XBGR8888": 4, "YUV420": 1}


def _align(value: int, to: int) -> int:
    return (value + to - 1) // to * to


class CompletedRequest:
    def __init__(self, camera: Picamera2) -> None:
        self.camera = camera
        self.config = camera.camera_config
        self.released = False

    def release(self) -> None:
        if self.released:
            raise RuntimeError("CompletedRequest: lock now has negative ref_count")
        self.released = True
        with self.camera.rig.lock:
            self.camera.rig.requests_out -= 1


class MappedArray:
    def __init__(self, request: CompletedRequest, stream: str, reshape: bool = True, write: bool = True):
        self._request = request
        self._stream = stream
        self.array: np.ndarray | None = None

    def __enter__(self) -> MappedArray:
        if self._request.camera.rig.broken_buffer:
            raise RuntimeError("failed to map dmabuf")
        config = self._request.config
        assert config is not None
        stream = config[self._stream]
        width, height = stream["size"]
        rgb = picture(width, height)
        fmt = stream["format"]
        if fmt == "RGB888":
            self.array = rgb[:, :, ::-1].copy()
        elif fmt == "BGR888":
            self.array = rgb.copy()
        elif fmt == "XRGB8888":
            self.array = np.dstack([rgb[:, :, ::-1], np.full((height, width), 255, np.uint8)])
        elif fmt == "XBGR8888":
            self.array = np.dstack([rgb, np.full((height, width), 255, np.uint8)])
        elif fmt == "YUV420":
            i420 = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).reshape(-1)
            stride = stream["stride"]
            padded = np.zeros((height * 3 // 2, stride), np.uint8)
            padded[:height, :width] = i420[: width * height].reshape(height, width)
            chroma = padded[height:].reshape(-1)
            quarter = (width // 2) * (height // 2)
            for plane in range(2):
                rows = i420[width * height + plane * quarter : width * height + (plane + 1) * quarter]
                dst = chroma[
                    plane * (stride // 2) * (height // 2) : (plane + 1) * (stride // 2) * (height // 2)
                ]
                dst.reshape(height // 2, stride // 2)[:, : width // 2] = rows.reshape(height // 2, width // 2)
            self.array = padded
        else:
            raise RuntimeError("Format " + fmt + " not supported")
        return self

    def __exit__(self, *exc: object) -> None:
        self.array = None


class Picamera2:
    rig = Rig()

    @staticmethod
    def global_camera_info() -> list[dict[str, Any]]:
        return [
            {"Model": "imx708", "Location": 2, "Id": f"/base/i2c@{i}", "Num": i}
            for i in range(Picamera2.rig.cameras)
        ]

    def __init__(self, camera_num: int = 0, tuning: Any = None) -> None:
        self.rig = Picamera2.rig
        self.is_open = False
        self.started = False
        self.camera_config: dict[str, Any] | None = None
        if self.rig.busy:
            # What picamera2 logs and raises when libcamera says "Pipeline handler in use by another process".
            raise RuntimeError("Camera __init__ sequence did not complete.")
        self.camera_num = camera_num
        self.is_open = True
        self.rig.opened.append(self)

    def create_video_configuration(  # picamera2's keywords; posed passes them by name
        self,
        *,
        main: dict[str, Any] | None = None,
        lores: dict[str, Any] | None = None,
        raw: dict[str, Any] | None = None,
        transform: Any = None,
        colour_space: Any = None,
        buffer_count: int = 6,
        controls: dict[str, Any] | None = None,
        display: str | None = "main",
        encode: str | None = "main",
        queue: bool = True,
        sensor: dict[str, Any] | None = None,
        use_case: str = "video",
    ) -> dict[str, Any]:
        main = {"format": "XBGR8888", "size": (1280, 720)} | (main or {})
        if lores is not None:
            lores = {"format": "YUV420", "size": main["size"]} | lores
        return {
            "use_case": use_case,
            "buffer_count": buffer_count,
            "queue": queue,
            "main": main,
            "lores": lores,
            "controls": {"FrameDurationLimits": (33333, 33333)} | (controls or {}),
        }

    def configure(self, config: dict[str, Any]) -> None:
        if self.rig.fail_configure:
            raise RuntimeError("Failed to configure camera: invalid argument")
        self.rig.configs.append(config)
        resolved = {key: dict(value) if isinstance(value, dict) else value for key, value in config.items()}
        for name in ("main", "lores"):
            stream = resolved.get(name)
            if stream is None:
                continue
            row_bytes = stream["size"][0] * _BYTES_PER_PIXEL[stream["format"]]
            # Like the Pi's ISP: rows padded to 64 bytes, so odd widths carry padding.
            stream["stride"] = _align(row_bytes, 64)
        self.camera_config = resolved

    def start(self) -> None:
        if self.camera_config is None:
            raise RuntimeError("Camera has not been configured")
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.stop()
        self.is_open = False

    def capture_request(
        self, wait: Any = None, signal_function: Any = None, flush: Any = None
    ) -> CompletedRequest:
        if not self.started:
            raise RuntimeError("Camera is not running")
        timeout = None if wait in (None, True) else float(wait)
        if self.rig.hang:
            time.sleep(min(timeout or 0.05, 0.05))
            raise TimeoutError()
        time.sleep(self.rig.frame_interval)
        with self.rig.lock:
            self.rig.requests_out += 1
            self.rig.requests_made += 1
        return CompletedRequest(self)


def install(monkeypatch: Any) -> Rig:
    """Put a fresh stand-in at sys.modules['picamera2'] and return its rig."""
    module = types.ModuleType("picamera2")
    rig = Rig()
    Picamera2.rig = rig
    module.Picamera2 = Picamera2  # type: ignore[attr-defined]
    module.MappedArray = MappedArray  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "picamera2", module)
    return rig
