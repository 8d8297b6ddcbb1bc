"""What overlapping inference with decoding buys: the same session, overlapped and one at a time.

    .venv/bin/python bench/overlap.py [--backend openvino] [--model NAME ...] [--seconds 8]

For each PoseNet model (default: the three Coral models) one estimator is opened
and `posed bench`'s pipeline (posed.benchmark.pipeline: estimate, then build and
encode the MQTT payload) is timed on vtest.avi's frames in alternating
half-second blocks: raw inference, the pipeline as the daemon runs it
(overlapped where the backend can), and the pipeline one frame at a time. It
prints fps and the ratio to raw inference (the pipeline target) for both.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from posed.benchmark.frames import load_frames  # noqa: E402
from posed.benchmark.pipeline import measure_overlap  # noqa: E402
from posed.benchmark.records import load_note  # noqa: E402
from posed.config.schema import ModelConfig  # noqa: E402
from posed.estimator import open_estimator  # noqa: E402
from posed.plugins import load_backend  # noqa: E402
from posed.posenet.estimator import PoseNetEstimator  # noqa: E402

SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
MODELS = tuple(f"posenet-mobilenet-075-{size}" for size in ("353x481", "481x641", "721x1281"))
BLOCK_S = 0.5


def measure(backend_name: str, model: str, seconds: float, frames: list[np.ndarray]) -> str:
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate({"type": backend_name})
    with open_estimator(
        ModelConfig(name=model), backend, config, model_dirs=[SHARED / "models"]
    ) as estimator:
        assert isinstance(estimator, PoseNetEstimator)
        figures = measure_overlap(
            estimator, backend_name, estimator.session, frames, seconds, block_seconds=BLOCK_S
        )
        p50 = figures.raw_p50_ms
        overlapped, sequential = figures.overlapped_fps, figures.sequential_fps
        mode = "overlapped" if figures.overlapping else "one at a time (backend cannot overlap)"
        return (
            f"{backend_name:9} {model:31} raw p50 {p50:6.2f} ms | daemon path ({mode}) "
            f"{overlapped:6.1f} fps, ratio {overlapped * p50 / 1000:4.2f} | "
            f"one at a time {sequential:6.1f} fps, ratio {sequential * p50 / 1000:4.2f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="openvino")
    parser.add_argument("--model", action="append", help="PoseNet model name (repeatable).")
    parser.add_argument("--seconds", type=float, default=8.0, help="Per figure, in blocks (default 8).")
    args = parser.parse_args()
    frames = load_frames(SHARED / "media" / "vtest.avi", max_bytes=64 * 1024 * 1024)
    print(f"start: {load_note()}", flush=True)
    for model in args.model or MODELS:
        print(measure(args.backend, model, args.seconds, frames), flush=True)
    print(f"end: {load_note()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
