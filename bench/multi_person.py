"""Several-person BlazePose: frame rate and CPU time per frame for 1, 2 and 3 people.

    .venv/bin/python bench/multi_person.py [--model blazepose-full] [--backend tflite] [--people 1 2 3]
        [--seconds 10] [--clips DIR]

The clips are made from pose_squats.mp4 (one person, 720x1280, 5 fps): N copies of it
side by side, the k-th started 20 frames later, so N people squat out of step in one
1280-high frame of width 720 x N. They are written to DIR (default: a temporary folder)
as clip-N.mp4, and can be fed to `posed bench --num-poses N --video DIR/clip-N.mp4`.

For each N the estimator runs with num_poses = N on clip-N, frames in a loop (as the
daemon's worker does with a video source at `realtime: false`), for --seconds. It prints
fps (wall clock), CPU ms per frame (this process's user + system time, all threads) and the
mean number of people found per frame, which should be N.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from posed.config.schema import BlazePoseOptions, ModelConfig
from posed.estimator import open_estimator
from posed.plugins import load_backend

SHARED = Path(os.environ.get("POSED_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
SQUATS = SHARED / "conformance" / "tfjs-pose-detection" / "pose_squats.mp4"
OFFSET = 20  # frames between one copy and the next


def read_frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(bgr)
    capture.release()
    return frames


def make_clip(frames: list[np.ndarray], people: int, out: Path) -> Path:
    """N out-of-step copies of the squat side by side, written as an mp4."""
    height, width = frames[0].shape[:2]
    path = out / f"clip-{people}.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 5.0, (width * people, height))
    for n in range(len(frames)):
        writer.write(np.hstack([frames[(n + k * OFFSET) % len(frames)] for k in range(people)]))
    writer.release()
    return path


def measure(model: str, backend_name: str, clip: Path, people: int, seconds: float) -> dict[str, float]:
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate({"type": backend_name})
    rgb = [np.ascontiguousarray(cv2.cvtColor(f, cv2.COLOR_BGR2RGB)) for f in read_frames(clip)]
    options = BlazePoseOptions(num_poses=people)
    with open_estimator(
        ModelConfig(name=model, blazepose=options), backend, config, model_dirs=[SHARED / "models"]
    ) as est:
        for n, image in enumerate(rgb[:5]):  # warm up, and find everyone
            est.estimate(image, n / 5.0)
        frames = found = 0
        wall, cpu = time.perf_counter(), time.process_time()
        stamp = 5
        while time.perf_counter() - wall < seconds:
            found += len(est.estimate(rgb[stamp % len(rgb)], stamp / 5.0))
            frames += 1
            stamp += 1
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "people": people,
        "fps": round(frames / wall, 1),
        "cpu_ms_per_frame": round(1000.0 * cpu / frames, 1),
        "people_found_per_frame": round(found / frames, 2),
        "frames": frames,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="blazepose-full")
    parser.add_argument("--backend", default="tflite")
    parser.add_argument("--people", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clips", type=Path, default=None, help="Folder for the clips (kept).")
    args = parser.parse_args()
    source = read_frames(SQUATS)
    with tempfile.TemporaryDirectory(prefix="posed-multi-") as scratch:
        folder = args.clips or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        load = os.getloadavg()
        print(
            f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores",
            file=sys.stderr,
        )
        for people in args.people:
            clip = make_clip(source, people, folder)
            print(
                json.dumps(
                    {"model": args.model, "backend": args.backend}
                    | measure(args.model, args.backend, clip, people, args.seconds)
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
