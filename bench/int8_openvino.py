"""An experiment for issue 22's fast mode: BlazePose landmark model quantized to int8 with NNCF, on OpenVINO.

    .venv/bin/python -m pip install nncf      # not a posed dependency (yet)
    .venv/bin/python bench/int8_openvino.py [--model full] [--rounds 7] [--block 0.5]

Not the `posed models quantize` feature: this measures whether it is worth building.
  1. Calibration: posed's float OpenVINO estimator runs over the frames of
     vtest.avi and pose_squats.mp4 from the shared media (tracking mode); every
     256x256 input the landmark model receives is kept (NNCF's dataset).
  2. nncf.quantize (post-training, default preset, these samples) on the model
     OpenVINO reads from the shipped pose_landmark_<model>.tflite, compiled for CPU.
  3. Speed: raw inference of float and int8 on the same real crops, in
     alternating blocks (rounds x block seconds each), medians of the per-block p50.
  4. Accuracy: pose_squats.mp4 in tracking mode (frames 33.333 ms apart, as
     MediaPipe's clock) with the float session, then with the int8 one swapped into
     the same estimator, each against ../shared/conformance/mediapipe-0.10.14/
     pose_squats.<model>.json: max and mean landmark distance in pixels.
The detector stays float: in tracking mode it runs on the first frame only.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from posed.benchmark.frames import load_frames
from posed.benchmark.records import load_note
from posed.config.schema import ModelConfig
from posed.estimator import open_estimator
from posed.plugins import load_backend

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
FRAME_STEP_S = 1.0 / 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="full", choices=["lite", "full", "heavy"])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--block", type=float, default=0.5)
    parser.add_argument("--model-dir", type=Path, default=SHARED / "models")
    args = parser.parse_args()

    # importlib: nncf is an optional tool, absent from posed's dependencies (and from mypy's view).
    nncf: Any = importlib.import_module("nncf")
    import openvino as ov

    print(f"start: {load_note()}; nncf {nncf.__version__}, openvino {ov.__version__}", flush=True)
    backend = load_backend("openvino")
    config = backend.config_model.model_validate({"type": "openvino", "inference_precision": "f32"})
    model = ModelConfig(name=f"blazepose-{args.model}")
    squats = load_frames(SHARED / "conformance/tfjs-pose-detection/pose_squats.mp4")
    street = load_frames(SHARED / "media/vtest.avi")
    reference = json.loads(
        (SHARED / f"conformance/mediapipe-0.10.14/pose_squats.{args.model}.json").read_text()
    )
    expected = np.array([f["landmarks_px"] for f in reference["frames"]], dtype=np.float64)[:, :, :2]

    with open_estimator(model, backend, config, model_dirs=[args.model_dir]) as estimator:
        landmarks = estimator._landmarks  # type: ignore[attr-defined]
        float_session = landmarks._session
        samples: list[np.ndarray[Any, Any]] = []
        original_run = float_session.run

        def recording_run(*inputs: np.ndarray[Any, Any]) -> Any:
            samples.append(inputs[0].copy())
            return original_run(*inputs)

        float_session.run = recording_run
        for clip in (street, squats):
            estimator.reset()
            for number, image in enumerate(clip):
                estimator.estimate(image, number * FRAME_STEP_S)
        float_session.run = original_run
        print(f"calibration: {len(samples)} landmark inputs from vtest.avi and pose_squats.mp4", flush=True)

        core = ov.Core()
        source = core.read_model(str(float_session.path))
        started = time.perf_counter()
        quantized = nncf.quantize(source, nncf.Dataset(samples), subset_size=len(samples))
        print(f"nncf.quantize: {time.perf_counter() - started:.1f} s", flush=True)
        compiled = core.compile_model(quantized, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        int8_session = type(float_session)(compiled, float_session._info, "CPU", loaded_from_cache=False)

        speeds: dict[str, list[float]] = {"float": [], "int8": []}
        sessions = {"float": float_session, "int8": int8_session}
        for number in range(args.rounds):
            for name in ("float", "int8") if number % 2 == 0 else ("int8", "float"):
                speeds[name].append(_block_p50_ms(sessions[name], samples, args.block))

        errors: dict[str, np.ndarray[Any, Any]] = {}
        for name, session in sessions.items():
            landmarks._session = session
            estimator.reset()
            per_frame = []
            for number, image in enumerate(squats):
                poses = estimator.estimate(image, number * FRAME_STEP_S)
                per_frame.append(
                    np.linalg.norm(poses[0].keypoints[:, :2] - expected[number], axis=1)
                    if poses
                    else np.full(33, np.inf)
                )
            errors[name] = np.array(per_frame)
        landmarks._session = float_session
        int8_session.close()

    print(f"end: {load_note()}")
    print(f"\nblazepose-{args.model} landmark model, OpenVINO CPU, medians of {args.rounds} x {args.block} s")
    for name in ("float", "int8"):
        p50 = statistics.median(speeds[name])
        error = errors[name]
        print(
            f"{name:6} raw p50 {p50:6.2f} ms ({1000 / p50:6.1f} fps)  vs MediaPipe 0.10.14 on pose_squats: "
            f"max {error.max():6.2f} px, mean {error.mean():5.2f} px"
        )
    print(f"int8 speed-up: {statistics.median(speeds['float']) / statistics.median(speeds['int8']):.2f}x")
    return 0


def _block_p50_ms(session: Any, samples: list[np.ndarray[Any, Any]], seconds: float) -> float:
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    index = 0
    while time.perf_counter() < deadline or len(times) < 3:
        start = time.perf_counter()
        session.run(samples[index % len(samples)])
        times.append((time.perf_counter() - start) * 1000.0)
        index += 1
    return statistics.median(times)


if __name__ == "__main__":
    raise SystemExit(main())
