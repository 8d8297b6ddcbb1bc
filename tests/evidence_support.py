"""Shared by the snapshot tests: the real fall clip (read in place, never copied) and a config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHARED

FALL_CLIP = SHARED / "footage" / "fall_selfrec_02.mp4"


def fall_clip() -> Path:
    """The footage clip with a real fall; the test skips (one reason) when the footage is absent."""
    if not FALL_CLIP.is_file():
        pytest.skip(f"the footage clip {FALL_CLIP} is absent (set POSED_SHARED_DIR to the shared data)")
    return FALL_CLIP


def idle_images(directory: Path) -> Path:
    """A folder with one grey image: a second camera that keeps the daemon running after the clip."""
    import cv2

    directory.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(directory / "grey.png"), np.full((240, 320, 3), 128, dtype=np.uint8))
    return directory


def fall_config(
    tmp_path: Path,
    *,
    port: int,
    preview_port: int,
    privacy: str = "full",
    clips: bool = True,
    extra: str = "",
) -> Path:
    idle = idle_images(tmp_path / "idle")
    config = tmp_path / "posed.yaml"
    config.write_text(
        "device_id: dev\n"
        "backend: {type: tflite, num_threads: 1}\n"
        "model: {name: blazepose-lite}\n"
        "cameras:\n"
        # Every frame analysed (on the file's own clock), however busy the machine: the fall is found.
        f"  hall: {{type: video, path: {fall_clip()}, realtime: false, privacy: {privacy}}}\n"
        f"  idle: {{type: images, path: {idle}, realtime: true, fps: 2, loop: true}}\n"
        f"mqtt: {{host: 127.0.0.1, port: {port}, topic_prefix: ev, homeassistant: {{enabled: true}}}}\n"
        f"preview: {{enabled: true, port: {preview_port}}}\n"
        "snapshots:\n"
        f"  enabled: true\n  directory: {tmp_path / 'evidence'}\n  min_free_megabytes: 0\n"
        f"  clips: {{enabled: {str(clips).lower()}, before_seconds: 2, after_seconds: 2}}\n" + extra
    )
    return config
