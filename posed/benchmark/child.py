"""A fresh process that starts up as the daemon does, for `startup_s` and `rss_mb`.

    python -m posed.benchmark.child CONFIG [--steady-seconds S]

It loads the YAML config, the backend and the estimator, starts the config's
first camera with posed's own capture machinery (posed.cameras), runs the
per-frame step on its first frame, then prints `{"ready": <time.monotonic()>}`;
the parent subtracts the monotonic time at which it spawned the process
(CLOCK_MONOTONIC is shared by all processes). With --steady-seconds it keeps
running the step on the camera's frames and prints `{"rss_mb": [...]}`: RSS
sampled every RSS_PERIOD seconds. The MQTT client is the one part of the
daemon left out, so no broker is needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import psutil

from posed.benchmark.pipeline import FrameStep
from posed.cameras.capture import Camera
from posed.cameras.factory import open_camera
from posed.config.loader import load_config
from posed.errors import CameraError, PosedError
from posed.estimator import open_estimator
from posed.models.resolve import model_search_path
from posed.plugins import load_backend
from posed.types import Frame

RSS_PERIOD = 0.25
FRAME_TIMEOUT_S = 20.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posed.benchmark.child")
    parser.add_argument("config", type=Path)
    parser.add_argument("--steady-seconds", type=float, default=0.0)
    args = parser.parse_args(argv)

    loaded = load_config(args.config)
    config = loaded.config
    backend = load_backend(loaded.backend.type)
    dirs = model_search_path(config_dir=config.model_dir)
    camera_name, camera_config = next(iter(config.cameras.items()))
    with (
        open_estimator(config.model, backend, loaded.backend, model_dirs=dirs) as estimator,
        open_camera(camera_name, camera_config) as camera,
    ):
        step = FrameStep(estimator, loaded.backend.type, config.device_id, camera_name)
        camera.start()
        step(_next_frame(camera))
        _emit({"ready": time.monotonic()})
        if args.steady_seconds > 0:
            _emit({"rss_mb": _steady(step, camera, args.steady_seconds)})
    return 0


def _next_frame(camera: Camera) -> Frame:
    frame = camera.latest(FRAME_TIMEOUT_S)
    if frame is None:
        raise CameraError(f"camera {camera.name!r} delivered no frame within {FRAME_TIMEOUT_S:.0f} s")
    return frame


def _steady(step: FrameStep, camera: Camera, seconds: float) -> list[float]:
    process = psutil.Process()
    samples: list[float] = []
    now = time.monotonic()
    deadline, due = now + seconds, now
    while now < deadline:
        step(_next_frame(camera))
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
