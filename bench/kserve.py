"""The remote backend against a local Open Inference Protocol server: round trip, overlap, cameras.

    .venv/bin/python bench/kserve.py [--seconds 6] [--cameras 1 4]

It starts the tests' MLServer (LiteRT runtime, .venv-mlserver from .ci/setup) on loopback,
serving PoseNet 353x481 (posed's corrected copy) and BlazePose full, and reports for each model:
- the raw round trip (the session's run() alone) and the daemon's pipeline, overlapped over gRPC
  and one frame at a time, in alternating blocks (the overlap gain);
- with N cameras (one estimator and gRPC channel each, as the daemon opens them), the
  processed fps of each camera and in total.
Frames are vtest.avi's (PoseNet) and pose_squats.mp4's (BlazePose). The load is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from posed.backend import Backend, BackendConfig  # noqa: E402
from posed.benchmark.frames import load_frames  # noqa: E402
from posed.benchmark.inference import RawTimer  # noqa: E402
from posed.benchmark.pipeline import FrameStep, PipelineTimer  # noqa: E402
from posed.benchmark.records import load_note  # noqa: E402
from posed.config.schema import ModelConfig  # noqa: E402
from posed.estimator import PoseEstimator, open_estimator  # noqa: E402
from posed.plugins import load_backend  # noqa: E402
from posed.posenet.quantfix import write_corrected_copy  # noqa: E402
from posed.types import ImageArray  # noqa: E402
from tests.kserve_support import InferenceServer  # noqa: E402

SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
BLOCK_S = 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    models = SHARED / "models"
    with tempfile.TemporaryDirectory(prefix="posed-bench-kserve-") as scratch:
        posenet = write_corrected_copy(
            models / "posenet_mobilenet_v1_075_353_481_quant.tflite",
            Path(scratch) / "posenet_mobilenet_v1_075_353_481_quant.tflite",
        )
        detector, landmarks = models / "pose_detection.tflite", models / "pose_landmark_full.tflite"
        served = {p.stem: p for p in (posenet, detector, landmarks)}
        cases = [
            ("posenet 353x481", ModelConfig(path=posenet), load_frames(SHARED / "media" / "vtest.avi")[:200]),
            (
                "blazepose full",
                ModelConfig(path=landmarks, detector_path=detector),
                load_frames(SHARED / "conformance" / "tfjs-pose-detection" / "pose_squats.mp4"),
            ),
        ]
        print(f"start: {load_note()}", flush=True)
        with InferenceServer(Path(scratch) / "server", served) as srv:
            print(f"MLServer 1.7.1 on {srv.grpc_url}")
            for label, model, frames in cases:
                print(overlap_line(label, model, frames, srv.grpc_url, args.seconds), flush=True)
                for count in args.cameras:
                    line = cameras_line(label, model, frames, srv.grpc_url, count=count, seconds=args.seconds)
                    print(line, flush=True)
        print(f"end: {load_note()}")
    return 0


def _config(url: str) -> tuple[Backend, BackendConfig]:
    backend = load_backend("kserve")
    return backend, backend.config_model.model_validate({"type": "kserve", "url": url})


def _open(model: ModelConfig, url: str) -> PoseEstimator:
    return open_estimator(model, *_config(url), model_dirs=[])


def overlap_line(label: str, model: ModelConfig, frames: list[ImageArray], url: str, seconds: float) -> str:
    # The model run every frame: PoseNet's, or BlazePose's landmark model.
    assert model.path is not None
    role = "landmarks" if model.detector_path is not None else "main"
    backend, config = _config(url)
    with _open(model, url) as estimator, backend.open_session(model.path, config, role=role) as session:
        overlapped_step = FrameStep(estimator, "kserve")
        overlapped = PipelineTimer(overlapped_step, frames)
        sequential = PipelineTimer(FrameStep(estimator, "kserve", overlap=False), frames)
        raw = RawTimer(session)
        for _ in range(max(1, round(seconds / BLOCK_S))):
            raw.run_for(BLOCK_S)
            overlapped.run_for(BLOCK_S)
            sequential.run_for(BLOCK_S)
        p50 = float(np.percentile(raw.samples_ms, 50))
        mode = "overlapped" if overlapped_step.overlapping else "one at a time (cannot overlap)"
        return (
            f"{label:16} raw round trip p50 {p50:6.2f} ms ({1000 / p50:5.1f}/s) | daemon path ({mode}) "
            f"{overlapped.fps:5.1f} fps | one at a time {sequential.fps:5.1f} fps | "
            f"overlap gain x{overlapped.fps / max(sequential.fps, 1e-9):.2f}"
        )


def cameras_line(
    label: str, model: ModelConfig, frames: list[ImageArray], url: str, *, count: int, seconds: float
) -> str:
    estimators = [_open(model, url) for _ in range(count)]
    timers = [PipelineTimer(FrameStep(e, "kserve"), frames) for e in estimators]
    try:
        threads = [threading.Thread(target=t.run_for, args=(seconds,)) for t in timers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for estimator in estimators:
            estimator.close()
    each = [t.fps for t in timers]
    return f"{label:16} {count} camera(s): total {sum(each):5.1f} fps, per camera " + ", ".join(
        f"{fps:.1f}" for fps in each
    )


if __name__ == "__main__":
    raise SystemExit(main())
