"""Check that a camera can be opened, for `posed check`."""

from __future__ import annotations

import glob
from pathlib import Path

from posed.cameras.config import (
    CameraConfig,
    ImagesCamera,
    VideoCamera,
)
from posed.errors import CameraError


def probe_camera(name: str, camera: CameraConfig) -> None:
    """Raise CameraError saying what is wrong if `camera` cannot deliver frames."""
    if isinstance(camera, VideoCamera):
        if not camera.path.is_file():
            raise CameraError(f"camera {name!r}: video file not found: {camera.path}")
    elif isinstance(camera, ImagesCamera):
        folder = Path(camera.path)
        found = list(folder.iterdir()) if folder.is_dir() else glob.glob(camera.path)
        if not found:
            raise CameraError(f"camera {name!r}: no images at {camera.path}")
