"""Frames from image and video files, for the commands that read files (`posed estimate`,
`posed evaluate`): RGB arrays with each frame's media time.

OpenCV is imported when a file is read, so importing this module stays light.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from posed.cameras.config import DEFAULT_MAX_PIXELS
from posed.errors import CameraError
from posed.types import ImageArray

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def read_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageArray:
    """The RGB image; CameraError saying why not. The size is read from the header first, as the
    images camera does: a 1.2 MB PNG of 20000 x 20000 pixels would decode to 1.2 GB."""
    import cv2  # noqa: PLC0415 (OpenCV loads on first frame)

    from posed.cameras.sources.images import read_image_file  # noqa: PLC0415 (imports OpenCV)

    data = read_image_file(path, max_pixels, limit_name="--max-pixels")
    if isinstance(data, str):
        raise CameraError(f"{path}: {data}")
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise CameraError(f"{path}: OpenCV cannot decode it (corrupt, or not an image)")
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def video_frames(path: Path, fps: float | None) -> Iterator[tuple[int, float, ImageArray]]:
    """(frame number, timestamp in seconds, RGB image) for every frame of a video file."""
    import cv2  # noqa: PLC0415 (OpenCV loads on first frame)

    if not path.is_file():
        raise CameraError(f"video file not found: {path}")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise CameraError(f"cannot open video {path}: unsupported format or corrupt file")
    try:
        number = 0
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            stamp = number / fps if fps else capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            yield number, stamp, np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            number += 1
    finally:
        capture.release()


def video_info(path: Path) -> tuple[float, int]:
    """(frames per second, frame count) as the container declares them; 0 when it does not."""
    import cv2  # noqa: PLC0415 (OpenCV loads on first frame)

    capture = cv2.VideoCapture(str(path))
    try:
        return float(capture.get(cv2.CAP_PROP_FPS) or 0.0), max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
    finally:
        capture.release()


def image_sequence(
    folder: Path, fps: float, skipped: list[Path], max_pixels: int = DEFAULT_MAX_PIXELS
) -> Iterator[tuple[int, float, ImageArray]]:
    """The images of a folder in name order, as frames `1/fps` seconds apart. A file that cannot
    be read is reported, added to `skipped` and left out; its frame number stays unused."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise CameraError(f"no images in {folder} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    for number, path in enumerate(paths):
        try:
            image = read_image(path, max_pixels)
        except CameraError as exc:
            print(f"posed estimate: skipping {exc}", file=sys.stderr)
            skipped.append(path)
            continue
        yield number, number / fps, image
