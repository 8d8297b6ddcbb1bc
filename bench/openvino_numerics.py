"""How far OpenVINO's BlazePose network outputs are from MediaPipe 0.10.14's, on MediaPipe's own inputs.

The companion of bench/tflite_runtime_numerics.py for posed's OpenVINO backend:
feeds the landmark models, opened through posed's own backend plugin, the
exact input tensors MediaPipe built on the squat video, and compares every
output tensor with MediaPipe's (both recorded by
bench/mediapipe_video_streams.py). posed's logic is bit-exact on these inputs
(tests/test_blazepose_mediapipe_replay.py), so whatever differs here is the
network arithmetic, which tracking then grows over the video. Each OpenVINO
setting that could bring it closer is tried: the default (f32), one thread,
and the ACCURACY execution mode.

    for m in lite full heavy; do bench/.venv-mediapipe/bin/python bench/mediapipe_video_streams.py \\
        --model $m --out /tmp/mp_squats_$m.npz; done
    .venv/bin/python bench/openvino_numerics.py --streams '/tmp/mp_squats_{model}.npz'

Prints one JSON line per model and setting: the largest absolute difference of
each output over all frames, its 99th percentile for the landmark tensor (crop
pixels), and how many frames were bit-exact.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from posed.backend import ROLE_LANDMARKS
from posed.plugins import load_backend

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
LANDMARK_OUTPUTS = {"landmark": (1, 195), "presence": (1, 1), "heatmap": (1, 64, 64, 39), "world": (1, 117)}
F32 = np.float32
SETTINGS: dict[str, dict[str, Any]] = {
    "default (f32)": {},
    "1 thread": {"num_threads": 1},
}
# OpenVINO's own property, beyond posed's config: trades speed for accuracy where the plugin can.
ACCURACY = {"EXECUTION_MODE_HINT": "ACCURACY"}


def compare(pattern: str, models_dir: Path) -> list[dict[str, Any]]:
    backend = load_backend("openvino")
    rows = []
    for model in ("lite", "full", "heavy"):
        with np.load(pattern.format(model=model)) as data:
            streams = dict(data)
        inputs = streams["landmark_pixels"].astype(np.float32) * (F32(1.0) / F32(255.0))
        runs = [(name, settings, None) for name, settings in SETTINGS.items()]
        runs.append(("ACCURACY mode", {}, ACCURACY))
        for name, settings, properties in runs:
            config = backend.config_model.model_validate({"type": "openvino", **settings})
            path = models_dir / f"pose_landmark_{model}.tflite"
            outputs = _run(backend, path, config, inputs, properties)
            worst: dict[str, float] = {}
            exact = np.ones(len(inputs), dtype=bool)
            for output in LANDMARK_OUTPUTS:
                got = np.stack([frame[output] for frame in outputs]).reshape(len(inputs), -1)
                expected = streams[f"{output}_tensor"].reshape(len(inputs), -1)
                diff = np.abs(got - expected)
                worst[output] = float(diff.max())
                exact &= diff.max(axis=1) == 0.0
                if output == "landmark":
                    landmark_p99 = float(np.percentile(diff, 99))
            row = {
                "model": model,
                "setting": name,
                "max_abs": worst,
                "landmark_p99_crop_px": landmark_p99,
                "frames_bit_exact": f"{int(exact.sum())}/{len(inputs)}",
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def _run(
    backend: Any, path: Path, config: Any, inputs: np.ndarray, properties: dict[str, str] | None
) -> list[dict[str, np.ndarray]]:
    if properties is not None:
        # Not a posed config key: compile the model directly with the extra property.
        import openvino as ov  # noqa: PLC0415 (optional runtime)

        core = ov.Core()
        compiled = core.compile_model(
            core.read_model(str(path)), "CPU", {"INFERENCE_PRECISION_HINT": "f32", **properties}
        )
        request = compiled.create_infer_request()
        shapes = [tuple(port.get_shape()) for port in compiled.outputs]
        results = []
        for tensor in inputs:
            request.infer([tensor[None]])
            values = [request.get_output_tensor(i).data.copy() for i in range(len(shapes))]
            results.append({k: values[shapes.index(s)] for k, s in LANDMARK_OUTPUTS.items()})
        return results
    with backend.open_session(path, config, role=ROLE_LANDMARKS) as session:
        shapes = [spec.shape for spec in session.outputs]
        results = []
        for tensor in inputs:
            values = session.run(tensor[None])
            results.append({k: np.array(values[shapes.index(s)]) for k, s in LANDMARK_OUTPUTS.items()})
        return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", default="/tmp/mp_squats_{model}.npz", help="path pattern with {model}")
    parser.add_argument("--models-dir", type=Path, default=SHARED / "models")
    args = parser.parse_args()
    compare(args.streams, args.models_dir)


if __name__ == "__main__":
    main()
