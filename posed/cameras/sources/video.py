"""`video`: a file decoded by OpenCV's FFmpeg backend."""

from __future__ import annotations

import math

import cv2

from posed.cameras.config import VideoCamera
from posed.cameras.convert import ToRgb, as_u8, defer_bgr
from posed.cameras.source import Deferred, EndOfStream
from posed.errors import CameraError
from posed.regular_files import file_problem
from posed.types import ImageArray

DEFAULT_FRAME_STEP = 1.0 / 30.0  # seconds, for files that do not state their frame rate


class VideoSource:
    """Reads a file front to back; with `loop` it reopens the file at the end.

    Reopening, rather than seeking back, picks up a file that was replaced on disk
    and turns a file that disappeared into a CameraError, so the capture thread's
    reconnect logic covers it.
    """

    def __init__(self, config: VideoCamera) -> None:
        self._config = config
        self._cap: cv2.VideoCapture | None = None
        self._bgr: ImageArray | None = None
        self._to_rgb = ToRgb(width=config.width, height=config.height)
        self._interval: float | None = None
        self._frames_this_pass = 0
        self._media_time: float | None = None
        self._pass_offset = 0.0  # media time at which the current pass through the file starts
        # One frame's duration, to continue the clock across a loop; from the file when it says.
        self._frame_step = DEFAULT_FRAME_STEP

    @property
    def description(self) -> str:
        return f"video file {self._config.path}"

    @property
    def interval(self) -> float | None:
        return self._interval

    @property
    def lossless(self) -> bool:
        return not self._config.realtime

    @property
    def media_time(self) -> float | None:
        return None if self._config.realtime else self._media_time

    def open(self) -> None:
        self.close()
        self._cap = self._open_file()
        self._frames_this_pass = 0
        # A reopened file (after an error) starts a new pass; the clock keeps rising.
        self._pass_offset = self._next_pass_offset()
        if self._config.realtime:
            fps = self._config.fps or self._cap.get(cv2.CAP_PROP_FPS)
            if not fps or not math.isfinite(fps) or fps <= 0:
                self.close()
                raise CameraError(
                    f"{self.description} does not state its frame rate; set `fps` to play it in real time"
                )
            self._interval = 1.0 / fps

    def read(self) -> ImageArray:
        self._bgr = bgr = self._read_bgr(self._bgr)
        return self._to_rgb(bgr)

    def read_deferred(self) -> Deferred:
        """FFmpeg decodes the whole frame anyway; the conversion to RGB (and resize) is put off."""
        return defer_bgr(self._read_bgr(None), self._config.width, self._config.height)

    def _read_bgr(self, reuse: ImageArray | None) -> ImageArray:
        """The next decoded frame, into `reuse` when given (a fresh array otherwise)."""
        if self._cap is None:
            raise CameraError(f"{self.description} is not open")
        ok, bgr = self._cap.read(reuse)
        if not ok:
            if self._frames_this_pass == 0:
                raise CameraError(f"{self.description}: no frame could be decoded")
            if not self._config.loop:
                raise EndOfStream(str(self._config.path))
            self._cap.release()
            self._cap = self._open_file()
            self._frames_this_pass = 0
            self._pass_offset = self._next_pass_offset()
            ok, bgr = self._cap.read(reuse)
            if not ok:
                raise CameraError(f"{self.description}: no frame could be decoded after looping")
        self._frames_this_pass += 1
        self._stamp(self._cap)
        return as_u8(bgr)

    def _stamp(self, cap: cv2.VideoCapture) -> None:
        # The decoded frame's presentation time, as `posed estimate` reads it.
        stamp = self._pass_offset + cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if self._media_time is not None and not stamp > self._media_time:
            # A file without usable timestamps: count frames instead, so time still rises.
            stamp = self._media_time + self._frame_step
        self._media_time = stamp

    def _next_pass_offset(self) -> float:
        return 0.0 if self._media_time is None else self._media_time + self._frame_step

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _open_file(self) -> cv2.VideoCapture:
        path = self._config.path
        if not path.exists():
            raise CameraError(f"video file not found: {path}")
        if (problem := file_problem(path, None)) is not None:  # FFmpeg would block on a FIFO
            raise CameraError(f"cannot read video file {path}: {problem}")
        cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"cannot decode {path}: not a video, or a codec OpenCV's FFmpeg lacks")
        fps = cap.get(cv2.CAP_PROP_FPS)
        self._frame_step = 1.0 / fps if fps and math.isfinite(fps) and fps > 0 else DEFAULT_FRAME_STEP
        return cap
