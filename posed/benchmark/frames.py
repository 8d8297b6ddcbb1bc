"""Decoded frames held in memory, replayed as a camera would deliver them.

Frames are decoded once before timing, so that video decoding is not part of
`pipeline_fps`. They are replayed forwards then backwards (0..n-1, n-2..1, ...):
a plain loop would jump from the last frame to the first, a cut that no camera
produces and that would force the BlazePose detector to run again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from posed.errors import CameraError
from posed.types import ImageArray

# BlazePose is measured on Google's own test video, PoseNet on a multi-person scene.
# Both are relative to the shared data directory beside the repository.
BLAZEPOSE_MEDIA = Path("conformance/tfjs-pose-detection/pose_squats.mp4")
POSENET_MEDIA = Path("media/vtest.avi")
# Its own copy of posed.cli.estimate's list: this module must import with NumPy and
# OpenCV alone, because bench/compare_mediapipe.py loads it in MediaPipe's venv.
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}

DEFAULT_CLIP_FPS = 15.0  # the camera rate an image, or a video that states none, stands for

# Enough frames for the replay to look like video, without holding a whole file.
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


def default_media(family: str, shared: Path) -> Path:
    return shared / (BLAZEPOSE_MEDIA if family == "blazepose" else POSENET_MEDIA)


def load_frames(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[ImageArray]:
    """RGB frames of a video (up to `max_bytes` of them), or one image."""
    if not path.is_file():
        raise CameraError(f"benchmark input not found: {path}")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CameraError(f"cannot read image {path}")
        return [np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)]
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise CameraError(f"cannot open video {path}: unsupported format or corrupt file")
    frames: list[ImageArray] = []
    used = 0
    try:
        while used < max_bytes:
            ok, bgr = capture.read()
            if not ok:
                break
            rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
            frames.append(rgb)
            used += rgb.nbytes
    finally:
        capture.release()
    if not frames:
        raise CameraError(f"video {path} has no decodable frames")
    return frames


def clip_fps(path: Path) -> float:
    """The frame rate a video declares (the rate of the camera it stands for); DEFAULT_CLIP_FPS for
    an image or a file that does not say."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return DEFAULT_CLIP_FPS
    capture = cv2.VideoCapture(str(path))
    try:
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        capture.release()
    return fps if 0.0 < fps <= 1000.0 else DEFAULT_CLIP_FPS


def replay_order(count: int) -> Iterator[int]:
    """Frame indices forever, forwards then backwards, never repeating an end frame."""
    cycle: Sequence[int] = [*range(count), *range(count - 2, 0, -1)] if count > 1 else [0]
    while True:
        yield from cycle
