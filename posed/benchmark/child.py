"""A fresh process that starts up as the daemon does, for `startup_s` and `rss_mb`.

    python -m posed.benchmark.child CONFIG [--steady-seconds S]

It loads the YAML config, the backend and the estimator, reads one frame from
the config's first camera (a video file or one image) and builds its payload, then prints
`{"ready": <time.monotonic()>}`; the parent subtracts the monotonic time at which
it spawned the process (CLOCK_MONOTONIC is shared by all processes). With
--steady-seconds it then keeps running the per-frame step on the video, decoded
one frame at a time and looping as a video camera does, and prints
`{"rss_mb": [...]}`: RSS sampled every RSS_PERIOD seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import psutil

from posed.benchmark.frames import IMAGE_SUFFIXES, load_frames
from posed.benchmark.pipeline import FrameStep
from posed.cameras.config import ImagesCamera, VideoCamera
from posed.config.loader import load_config
from posed.errors import CameraError, PosedError
from posed.estimator import open_estimator
from posed.models.resolve import model_search_path
from posed.plugins import load_backend
from posed.types import Frame, ImageArray

RSS_PERIOD = 0.25


class MediaFeed:
    """Frames of a video file one at a time, starting again at the end; or one image, repeated."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._number = 0
        self._still: ImageArray | None = None
        self._capture: Any = None
        if path.suffix.lower() in IMAGE_SUFFIXES:
            self._still = load_frames(path)[0]
            return
        self._capture = cv2.VideoCapture(str(path))
        if not self._capture.isOpened():
            raise CameraError(f"cannot open video {path}")

    def next_frame(self) -> Frame:
        frame = Frame(self._read(), self._number, time.monotonic(), time.time())
        self._number += 1
        return frame

    def _read(self) -> ImageArray:
        if self._still is not None:
            return self._still
        ok, bgr = self._capture.read()
        if not ok:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, bgr = self._capture.read()
            if not ok:
                raise CameraError(f"cannot read a frame from {self._path}")
        return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posed.benchmark.child")
    parser.add_argument("config", type=Path)
    parser.add_argument("--steady-seconds", type=float, default=0.0)
    args = parser.parse_args(argv)

    loaded = load_config(args.config)
    config = loaded.config
    backend = load_backend(loaded.backend.type)
    dirs = model_search_path(config_dir=config.model_dir)
    camera_name, camera = next(iter(config.cameras.items()))
    if not isinstance(camera, VideoCamera | ImagesCamera):
        raise CameraError("the benchmark child reads a `video` or `images` camera only")
    with open_estimator(config.model, backend, loaded.backend, model_dirs=dirs) as estimator:
        step = FrameStep(estimator, loaded.backend.type, config.device_id, camera_name)
        feed = MediaFeed(Path(camera.path))
        try:
            step(feed.next_frame())
            _emit({"ready": time.monotonic()})
            if args.steady_seconds > 0:
                _emit({"rss_mb": _steady(step, feed, args.steady_seconds)})
        finally:
            feed.close()
    return 0


def _steady(step: FrameStep, feed: MediaFeed, seconds: float) -> list[float]:
    process = psutil.Process()
    samples: list[float] = []
    now = time.monotonic()
    deadline, due = now + seconds, now
    while now < deadline:
        step(feed.next_frame())
        now = time.monotonic()
        if now >= due:
            samples.append(process.memory_info().rss / 2**20)
            due += RSS_PERIOD
    return samples


def _emit(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    try:
        code = main()
    except PosedError as exc:
        print(f"benchmark child: {exc}", file=sys.stderr)
        code = exc.exit_code
    raise SystemExit(code)
