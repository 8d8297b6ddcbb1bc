"""BlazePose int8 against float, speed and accuracy side by side, both backends.

    .venv/bin/posed models quantize blazepose-full --model-dir STORE        # once (pip install '.[quantize]')
    .venv/bin/python bench/int8.py --model-dir STORE [--model full] [--backend openvino --backend tflite]
                                   [--rounds 7] [--block 1.0] [--accuracy-only]

For each backend and model, float (the shipped files) and int8 (the variants that
`posed models quantize` put in STORE, with their recipes):
  - accuracy against MediaPipe 0.10.14 (../shared/conformance/mediapipe-0.10.14/):
    pose.jpg in still-image mode, and pose_squats.mp4 tracked with smoothing (frames
    33.333 ms apart, the legacy solution's clock): max and mean landmark distance in
    image pixels, and the first five frames' max. Judged against the bounds the suite
    holds float to (tests/test_blazepose_mediapipe.py, "faithful BlazePose").
  - speed, float and int8 in alternating blocks within one run (on a shared machine
    only such ratios carry over): raw p50 of the landmark model on synthetic input,
    pipeline fps and CPU ms per frame through posed bench's own timers on the squat
    video; medians over the rounds. The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from posed.backend import ROLE_LANDMARKS
from posed.benchmark.frames import load_frames
from posed.benchmark.inference import RawTimer
from posed.benchmark.pipeline import FrameStep, PipelineTimer
from posed.benchmark.records import load_note
from posed.config.schema import BlazePoseOptions, ModelConfig
from posed.estimator import open_estimator
from posed.models.resolve import resolve_model
from posed.models.variants import read_recipe, recipe_filename
from posed.plugins import load_backend

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
REFERENCE = SHARED / "conformance/mediapipe-0.10.14"
MEDIA = SHARED / "conformance/tfjs-pose-detection"
FRAME_STEP_S = 0.033333
SETTINGS: dict[str, dict[str, Any]] = {
    "tflite": {"type": "tflite"},
    "openvino": {"type": "openvino", "inference_precision": "f32"},
}
# The suite's faithful-BlazePose bounds (tests/test_blazepose_mediapipe.py).
STILL_MAX_PX = {"tflite": 0.5, "openvino": 1.0}
VIDEO_MEAN_PX, VIDEO_MAX_PX = 1.0, 20.0
EARLY_MAX_PX = {"tflite": 1.2, "openvino": 2.0}


@dataclass
class Accuracy:
    still_max: float
    still_mean: float
    video_max: float
    video_mean: float
    early_max: float

    def faithful(self, backend: str) -> bool:
        return (
            self.still_max <= STILL_MAX_PX[backend]
            and self.video_mean <= VIDEO_MEAN_PX
            and self.video_max <= VIDEO_MAX_PX
            and self.early_max <= EARLY_MAX_PX[backend]
        )


@dataclass
class Speed:
    raw_p50: list[float] = field(default_factory=list)
    fps: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="Store holding the int8 variants.")
    parser.add_argument("--model", action="append", default=[], choices=["lite", "full", "heavy"])
    parser.add_argument("--backend", action="append", default=[], choices=list(SETTINGS))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--block", type=float, default=1.0, help="Seconds per timed block.")
    parser.add_argument("--accuracy-only", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    args = parser.parse_args()
    models = args.model or ["full"]
    backends = args.backend or list(SETTINGS)
    dirs = [args.model_dir, SHARED / "models"]

    print(f"start: {load_note()}", flush=True)
    squats = load_frames(MEDIA / "pose_squats.mp4")
    still = load_frames(MEDIA / "pose.jpg")[0]
    rows: list[dict[str, Any]] = []
    for model in models:
        for backend_name in backends:
            _print_recipes(args.model_dir, model, backend_name)
            accuracy = {
                precision: _accuracy(backend_name, model, precision, dirs, still=still, squats=squats)
                for precision in ("float", "int8")
            }
            speed = None if args.accuracy_only else _speed(backend_name, model, dirs, squats, args)
            for precision in ("float", "int8"):
                row: dict[str, Any] = {"model": model, "backend": backend_name, "precision": precision}
                row |= vars(accuracy[precision]) | {"faithful": accuracy[precision].faithful(backend_name)}
                if speed is not None:
                    figures = speed[precision]
                    row |= {
                        "raw_p50_ms": statistics.median(figures.raw_p50),
                        "pipeline_fps": statistics.median(figures.fps),
                        "cpu_ms_per_frame": statistics.median(figures.cpu_ms),
                    }
                rows.append(row)
                print(json.dumps(row), flush=True)
    print(f"end: {load_note()}\n")
    _table(rows)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


def _print_recipes(store: Path, model: str, backend: str) -> None:
    for source in ("pose_detection.tflite", f"pose_landmark_{model}.tflite"):
        path = store / recipe_filename(source, backend)
        if not path.is_file():
            print(
                f"{backend}: no int8 variant of {source} in {store}; run `posed models quantize`",
                file=sys.stderr,
            )
            continue
        recipe = read_recipe(path)
        media = ", ".join(Path(s).name for s in recipe.calibration.sources)
        print(
            f"{backend} {source}: {recipe.tool} {recipe.tool_version}, {recipe.calibration.samples} inputs "
            f"from {recipe.calibration.frames} frames of {media}, options {recipe.options}",
            flush=True,
        )


def _open(backend_name: str, model: str, precision: str, dirs: list[Path], **options: Any) -> Any:
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate(SETTINGS[backend_name])
    model_config = ModelConfig(
        name=f"blazepose-{model}", precision=precision, blazepose=BlazePoseOptions(**options)
    )
    return open_estimator(model_config, backend, config, model_dirs=dirs)


def _accuracy(
    backend_name: str, model: str, precision: str, dirs: list[Path], *, still: Any, squats: list[Any]
) -> Accuracy:
    still_ref = json.loads((REFERENCE / f"pose.{model}.json").read_text())
    with _open(backend_name, model, precision, dirs, static_image_mode=True) as estimator:
        found = estimator.estimate(still, None)
    still_error = (
        np.linalg.norm(found[0].keypoints[:, :2] - np.array(still_ref["landmarks_px"])[:, :2], axis=1)
        if found
        else np.full(33, np.inf)
    )
    frames = json.loads((REFERENCE / f"pose_squats.{model}.json").read_text())["frames"]
    errors = []
    with _open(backend_name, model, precision, dirs) as estimator:
        for number, image in enumerate(squats):
            poses = estimator.estimate(image, (number + 1) * FRAME_STEP_S)
            expected = np.array(frames[number]["landmarks_px"])[:, :2]
            errors.append(
                np.linalg.norm(poses[0].keypoints[:, :2] - expected, axis=1) if poses else np.full(33, np.inf)
            )
    video = np.array(errors)
    return Accuracy(
        float(still_error.max()),
        float(still_error.mean()),
        float(video.max()),
        float(video.mean()),
        float(video[:5].max()),
    )


def _speed(
    backend_name: str, model: str, dirs: list[Path], squats: list[Any], args: argparse.Namespace
) -> dict[str, Speed]:
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate(SETTINGS[backend_name])
    speeds = {"float": Speed(), "int8": Speed()}
    with ExitStack() as stack:
        timers: dict[str, tuple[RawTimer, PipelineTimer]] = {}
        for precision in speeds:
            model_config = ModelConfig(name=f"blazepose-{model}", precision=precision)
            resolved = resolve_model(model_config, dirs, backend=backend_name)
            session = stack.enter_context(
                backend.open_session(resolved.files["landmarks"], config, role=ROLE_LANDMARKS)
            )
            estimator = stack.enter_context(open_estimator(model_config, backend, config, model_dirs=dirs))
            timers[precision] = (RawTimer(session), PipelineTimer(FrameStep(estimator, backend_name), squats))
        for number in range(args.rounds):
            order = ("float", "int8") if number % 2 == 0 else ("int8", "float")
            for precision in order:
                raw, pipeline = timers[precision]
                before = len(raw.samples_ms)
                raw.run_for(args.block)
                speeds[precision].raw_p50.append(statistics.median(raw.samples_ms[before:]))
                frames, seconds, cpu = pipeline.frames, pipeline.seconds, pipeline.cpu_seconds
                pipeline.run_for(args.block)
                done = pipeline.frames - frames
                speeds[precision].fps.append(done / (pipeline.seconds - seconds))
                speeds[precision].cpu_ms.append((pipeline.cpu_seconds - cpu) * 1000 / max(done, 1))
    return speeds


def _table(rows: list[dict[str, Any]]) -> None:
    speed = "raw_p50_ms" in rows[0]
    head = (
        "| model | backend | precision | pose.jpg max / mean px | squats max / mean px | frames 0-4 max px |"
    )
    head += " faithful |" + (" raw p50 ms | pipeline fps | CPU ms/frame |" if speed else "")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for row in rows:
        line = (
            f"| {row['model']} | {row['backend']} | {row['precision']} "
            f"| {row['still_max']:.2f} / {row['still_mean']:.2f} "
            f"| {row['video_max']:.2f} / {row['video_mean']:.2f} "
            f"| {row['early_max']:.2f} | {'yes' if row['faithful'] else 'no'} |"
        )
        if speed:
            line += f" {row['raw_p50_ms']:.2f} | {row['pipeline_fps']:.1f} | {row['cpu_ms_per_frame']:.1f} |"
        print(line)


if __name__ == "__main__":
    raise SystemExit(main())
