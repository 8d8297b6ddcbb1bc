"""How close posed's MoveNet is to tfjs pose-detection's own, per run of the reference file.

    PYTHONPATH=. bench/movenet_conformance.py [--backend tflite|openvino] [--shared ../shared]

Replays the frames of tests/data/movenet_tfjs_reference.json (made by
bench/movenet_reference.py) through posed on the converted TFLite files and prints the
distance between the keypoints, in pixels of each frame, and their score differences.
Single pose runs with tracking (smart cropping and smoothing, timestamps 200 ms apart as
the reference); MultiPose on still images. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from posed.config.schema import ModelConfig
from posed.estimator import open_estimator
from posed.plugins import load_backend
from posed.testing.movenet_reference import (
    HEADER,
    SQUAT_STEP_S,
    compare,
    estimate_run,
    load_reference,
    read_frames,
)
from posed.tracking.ids import IdSource

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "tests" / "data" / "movenet_tfjs_reference.json"
MODELS = {
    "lightning": "movenet_singlepose_lightning_f32_from_tfjs.tflite",
    "thunder": "movenet_singlepose_thunder_f32_from_tfjs.tflite",
    "multipose": "movenet_multipose_lightning_float16.tflite",
}
INPUTS = {
    "pose.jpg": "conformance/tfjs-pose-detection/pose.jpg",
    "test_couple.jpg": "conformance/coral-posenet/test_couple.jpg",
    "pose_squats.mp4": "conformance/tfjs-pose-detection/pose_squats.mp4",
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", default="tflite")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    reference = load_reference(REFERENCE)
    backend = load_backend(args.backend)
    config = backend.config_model.model_validate({"type": args.backend})
    print(f"posed on {args.backend} against tfjs pose-detection (CPU backend); pixels of each frame")
    print(HEADER)
    for name, expected in reference.items():
        kind, media = name.split("/", 1)
        frames = read_frames(args.shared / INPUTS[media])
        model = ModelConfig(path=args.shared / "models" / MODELS[kind])
        step = None if kind == "multipose" else SQUAT_STEP_S
        with open_estimator(model, backend, config, model_dirs=[], ids=IdSource()) as estimator:
            found = estimate_run(estimator, frames, step)
        print(compare(expected, found).row(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
