"""PoseNet decoding time against inference time, on the same model, image and machine.

The target: on posenet-mobilenet-075-481x641 and Coral's test_couple.jpg,
multi-person decoding must take at most 30% of OpenVINO's inference time.

    .venv/bin/python bench/posenet_decode.py [--runs 200] [--backend openvino] [--model NAME]

It prints medians (and p90) in ms for: the model run alone (backend.run on a
prepared input), loading the outputs into the decoder's maps (dequantization),
and decoding with Coral's reference settings (10 poses, threshold 0.2, radius
10) and with posed's defaults (5 poses, threshold 0.5, radius 20), plus the
ratios decode / inference. Runs are interleaved so that load from other
processes on a shared machine hits every figure alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from posed.cli.estimate import read_image  # noqa: E402
from posed.config.schema import PoseNetOptions  # noqa: E402
from posed.models.resolve import resolve_named  # noqa: E402
from posed.plugins import load_backend  # noqa: E402
from posed.posenet.decode_multi import DecodedPoses, decode_multiple  # noqa: E402
from posed.posenet.estimator import PoseNetEstimator  # noqa: E402
from posed.posenet.layout import detect_layout  # noqa: E402
from posed.posenet.preprocess import InputBuilder  # noqa: E402
from posed.posenet.quantfix import corrected_model  # noqa: E402
from posed.tflite_file import read_model_info  # noqa: E402

SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
SETTINGS = {
    "coral (10, 0.2, 10)": PoseNetOptions(max_pose_detections=10, score_threshold=0.2, nms_radius=10),
    "defaults (5, 0.5, 20)": PoseNetOptions(),
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--backend", default="openvino")
    parser.add_argument("--model", default="posenet-mobilenet-075-481x641")
    parser.add_argument("--image", type=Path, default=SHARED / "conformance/coral-posenet/test_couple.jpg")
    args = parser.parse_args()

    backend = load_backend(args.backend)
    config = backend.config_model.model_validate({"type": args.backend})
    resolved = resolve_named(args.model, [SHARED / "models"])
    image = read_image(args.image)
    with tempfile.TemporaryDirectory() as corrected:
        path = corrected_model(resolved.files["main"], Path(corrected))
        info = read_model_info(path)
        layout = detect_layout(info.inputs, info.outputs)
        session = backend.open_session(path, config)
        device = session.device
        tensor = InputBuilder(layout)(image)  # prepared once: the model run is timed alone
    with PoseNetEstimator(args.model, session, layout, info.outputs, PoseNetOptions()) as est:
        maps = est.infer(image)
        steps: dict[str, Callable[[], object]] = {
            "inference": lambda: session.run(tensor),
            "resize + inference + maps": lambda: est.infer(image),
        }
        decoders: dict[str, Callable[[], DecodedPoses]] = {
            label: partial(
                decode_multiple,
                maps,
                max_poses=opts.max_pose_detections,
                score_threshold=opts.score_threshold,
                nms_radius=opts.nms_radius,
            )
            for label, opts in SETTINGS.items()
        }
        steps.update({f"decode {label}": decode for label, decode in decoders.items()})
        for step in steps.values():  # warm-up
            step()
        times: dict[str, list[float]] = {name: [] for name in steps}
        for _ in range(args.runs):
            for name, step in steps.items():
                start = time.perf_counter()
                step()
                times[name].append((time.perf_counter() - start) * 1000)
        poses = {label: len(decode()) for label, decode in decoders.items()}

    print(f"model {args.model} on {args.backend} ({device}), image {args.image.name}, {args.runs} runs")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    inference = float(np.median(times["inference"]))
    for name, values in times.items():
        median, p90 = float(np.median(values)), float(np.percentile(values, 90))
        ratio = f"  = {100 * median / inference:5.1f}% of inference" if name.startswith("decode") else ""
        print(f"  {name:28s} median {median:7.3f} ms   p90 {p90:7.3f} ms{ratio}")
    for label, count in poses.items():
        print(f"  poses decoded with {label}: {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
