"""Where a frame's Python time goes: pyinstrument over posed bench's own per-frame step.

    .venv/bin/python bench/profile_frame.py --backend tflite --model blazepose-full [--seconds 8]

Runs posed.benchmark.pipeline.FrameStep (estimate, tracking, smoothing, MQTT
payload build and encode, as the daemon does) on the decoded frames of the
model family's default media for --seconds under pyinstrument, and prints the
call tree (time inside native inference shows up under the session's `run`).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from pyinstrument import Profiler

from posed.backend import backend_settings
from posed.benchmark.frames import default_media, load_frames
from posed.benchmark.pipeline import FrameStep, PipelineTimer
from posed.config.schema import ModelConfig
from posed.estimator import open_estimator
from posed.plugins import load_backend

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="tflite")
    parser.add_argument("--model", default="blazepose-full")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--model-dir", type=Path, default=SHARED / "models")
    parser.add_argument("--interval", type=float, default=0.0002, help="Sampling interval in seconds.")
    args = parser.parse_args()
    backend = load_backend(args.backend)
    config = backend.config_model.model_validate(backend_settings(backend, None))
    model = ModelConfig(name=args.model)
    family = "blazepose" if args.model.startswith("blazepose") else "posenet"
    images = load_frames(default_media(family, SHARED))
    with open_estimator(model, backend, config, model_dirs=[args.model_dir]) as estimator:
        timer = PipelineTimer(FrameStep(estimator, args.backend), images)
        profiler = Profiler(interval=args.interval)
        started = time.perf_counter()
        with profiler:
            timer.run_for(args.seconds)
        print(f"{timer.frames} frames in {time.perf_counter() - started:.1f} s ({timer.fps:.1f} fps)")
    print(profiler.output_text(unicode=False, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
