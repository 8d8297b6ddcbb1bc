"""Does a TFLite runtime compute MediaPipe 0.10.14's network outputs bit for bit?

Feeds the BlazePose landmark models and the detector, in the given runtime, the
exact input tensors MediaPipe built on the squat video, and compares every
output tensor with MediaPipe's own (both recorded by
bench/mediapipe_video_streams.py). MediaPipe 0.10.14 runs its CPU models on the
XNNPACK delegate with one thread on desktop Linux; this tries the runtime's
default XNNPACK delegate with 1 and 2 threads, and its builtin kernels
(BUILTIN_WITHOUT_DEFAULT_DELEGATES).

Needs only NumPy and the runtime, so it runs in a scratch venv:
    python3.11 -m venv /tmp/rt && /tmp/rt/bin/pip install 'tflite-runtime==2.14.0' 'numpy<2'
    for m in lite full heavy; do bench/.venv-mediapipe/bin/python bench/mediapipe_video_streams.py \\
        --model $m --out /tmp/mp_squats_$m.npz; done
    /tmp/rt/bin/python bench/tflite_runtime_numerics.py --runtime tflite_runtime \\
        --streams '/tmp/mp_squats_{model}.npz'
--runtime: ai_edge_litert | tflite_runtime | tensorflow. Prints one JSON line per
model and setting: the largest absolute difference of each output tensor over
all frames, and on how many frames all four landmark outputs were identical.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
DISTRIBUTIONS = {
    "ai_edge_litert": ("ai-edge-litert",),
    "tflite_runtime": ("tflite-runtime",),
    "tensorflow": ("tensorflow-cpu", "tensorflow"),
}
LANDMARK_OUTPUTS = {"landmark": (1, 195), "presence": (1, 1), "heatmap": (1, 64, 64, 39), "world": (1, 117)}
F32 = np.float32


def _interpreter_module(runtime: str) -> tuple[Any, str]:
    if runtime == "tensorflow":
        module = importlib.import_module("tensorflow").lite
        resolver = module.experimental.OpResolverType
    else:
        module = importlib.import_module(f"{runtime}.interpreter")
        resolver = getattr(module, "OpResolverType", None)
    label = runtime
    for distribution in DISTRIBUTIONS[runtime]:
        try:
            label = f"{distribution} {version(distribution)}"
            break
        except PackageNotFoundError:
            continue
    return (module.Interpreter, resolver), label


def _inputs(streams: Any) -> tuple[Any, Any]:
    """MediaPipe's input tensors from the recorded pixels (the recorder checked these formulas)."""
    landmark = streams["landmark_pixels"].astype(np.float32) * (F32(1.0) / F32(255.0))
    scale = float(F32(2.0) / F32(255.0))
    detector = (streams["detector_pixels"].astype(np.float64) * scale - 1.0).astype(np.float32)
    return landmark, detector


def compare(runtime: str, pattern: str, models_dir: Path) -> list[dict[str, Any]]:
    (interpreter, resolver), label = _interpreter_module(runtime)
    settings: list[tuple[str, dict[str, Any]]] = [
        ("xnnpack t1", {"num_threads": 1}),
        ("xnnpack t2", {"num_threads": 2}),
    ]
    if resolver is not None:
        builtin = {
            "num_threads": 1,
            "experimental_op_resolver_type": resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        }
        settings.append(("builtin t1", builtin))
    rows = []
    for model in ("lite", "full", "heavy"):
        with np.load(pattern.format(model=model)) as data:
            streams = dict(data)
        landmark_inputs, detector_inputs = _inputs(streams)
        for name, options in settings:
            net = interpreter(model_path=str(models_dir / f"pose_landmark_{model}.tflite"), **options)
            net.allocate_tensors()
            index = {tuple(o["shape"]): o["index"] for o in net.get_output_details()}
            worst = dict.fromkeys(LANDMARK_OUTPUTS, 0.0)
            exact = 0
            for frame, tensor in enumerate(landmark_inputs):
                net.set_tensor(net.get_input_details()[0]["index"], tensor[None])
                net.invoke()
                same = True
                for output, shape in LANDMARK_OUTPUTS.items():
                    expected = streams[f"{output}_tensor"][frame].reshape(-1)
                    diff = float(np.abs(net.get_tensor(index[shape]).reshape(-1) - expected).max())
                    worst[output] = max(worst[output], diff)
                    same &= diff == 0.0
                exact += same
            detector = interpreter(model_path=str(models_dir / "pose_detection.tflite"), **options)
            detector.allocate_tensors()
            boxes = next(
                o["index"] for o in detector.get_output_details() if tuple(o["shape"]) == (1, 2254, 12)
            )
            worst_boxes = 0.0
            for tensor, expected in zip(detector_inputs, streams["detector_boxes"], strict=True):
                detector.set_tensor(detector.get_input_details()[0]["index"], tensor[None])
                detector.invoke()
                worst_boxes = max(worst_boxes, float(np.abs(detector.get_tensor(boxes)[0] - expected).max()))
            row = {
                "runtime": label,
                "model": model,
                "setting": name,
                "max_abs": worst,
                "detector_boxes_max_abs": worst_boxes,
                "frames_bit_exact": f"{exact}/{len(landmark_inputs)}",
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runtime", choices=sorted(DISTRIBUTIONS), required=True)
    parser.add_argument("--streams", default="/tmp/mp_squats_{model}.npz", help="path pattern with {model}")
    parser.add_argument("--models-dir", type=Path, default=SHARED / "models")
    args = parser.parse_args()
    compare(args.runtime, args.streams, args.models_dir)


if __name__ == "__main__":
    main()
