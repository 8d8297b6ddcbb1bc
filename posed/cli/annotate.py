"""Where drawn frames go: one image file, or a video file with the input's frame rate.

The video writer is a context manager so that Ctrl-C still finalises the file
(an MP4 without its index at the end does not play).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from posed.errors import CameraError, PosedError
from posed.types import ImageArray

# OpenCV's FFmpeg build writes these without any extra codec installed.
_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
VIDEO_SUFFIXES = frozenset(_FOURCC)


def write_image(path: Path, image: ImageArray) -> None:
    """Write an RGB image; the format follows the suffix (.png, .jpg...)."""
    import cv2  # noqa: PLC0415 (OpenCV loads on first frame)

    _check_parent(path)
    try:
        ok = cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    except cv2.error as exc:
        raise PosedError(f"cannot write {path}: {exc.msg or exc}") from exc
    if not ok:
        raise PosedError(f"cannot write {path}: OpenCV cannot write this format (use .png or .jpg)")


class VideoOut:
    """Frames of one size into a video file, opened on the first frame."""

    def __init__(self, path: Path, fps: float) -> None:
        suffix = path.suffix.lower()
        if suffix not in _FOURCC:
            raise PosedError(f"--draw {path}: a video goes to {', '.join(sorted(_FOURCC))}")
        _check_parent(path)
        self.path = path
        self.fps = fps if fps > 0 else 30.0
        self.frames = 0
        self._fourcc = _FOURCC[suffix]
        self._writer: Any = None
        self._size: tuple[int, int] | None = None

    def __enter__(self) -> VideoOut:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def write(self, image: ImageArray) -> None:
        import cv2  # noqa: PLC0415 (OpenCV loads on first frame)

        height, width = image.shape[:2]
        if self._writer is None:
            fourcc = cv2.VideoWriter.fourcc(*self._fourcc)
            self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (width, height))
            if not self._writer.isOpened():
                self._writer = None
                raise CameraError(f"cannot write video {self.path}: OpenCV has no {self._fourcc} encoder")
            self._size = (width, height)
        elif self._size != (width, height):
            # A camera that changed mode: keep the file playable at its first size.
            image = np.asarray(cv2.resize(image, self._size, interpolation=cv2.INTER_AREA))
        self._writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None


def _check_parent(path: Path) -> None:
    if not path.parent.is_dir():
        raise PosedError(f"cannot write {path}: the folder {path.parent} does not exist")
