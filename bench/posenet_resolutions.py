"""PoseNet MobileNet 0.75 at several input resolutions: speed from `posed bench`, people found on vtest.avi.

    .venv/bin/python bench/posenet_resolutions.py [--seconds 3] [--frames 200] [--backend tflite ...]
        [--resolution 257x353 ...]

For each resolution it runs `posed bench --model posenet-mobilenet-075 --input-resolution R
--json` (raw inference p50 and pipeline fps, one child per resolution) and decodes the first
`--frames` frames of ../shared/media/vtest.avi with posed's default multi-person settings
(but up to 10 poses), counting the poses found per frame. It prints a Markdown table for the
docs, and the load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from posed.benchmark.frames import load_frames  # noqa: E402
from posed.benchmark.records import load_note  # noqa: E402
from posed.config.schema import ModelConfig  # noqa: E402
from posed.estimator import open_estimator  # noqa: E402
from posed.plugins import load_backend  # noqa: E402
from posed.posenet.resolution import as_height_width, parse_resolution  # noqa: E402
from posed.types import ImageArray  # noqa: E402

MODEL = "posenet-mobilenet-075"
DEFAULT_RESOLUTIONS = ("193x257", "257x353", "353x481", "481x641", "609x801", "721x1281")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="posed bench's timed phase (default 3)")
    parser.add_argument("--frames", type=int, default=200, help="vtest.avi frames to count people on")
    parser.add_argument("--backend", action="append", default=[], help="default: tflite and openvino")
    parser.add_argument("--resolution", action="append", default=[], help=f"default: {DEFAULT_RESOLUTIONS}")
    parser.add_argument("--model-dir", type=Path, default=REPO.parent / "shared" / "models")
    args = parser.parse_args()
    shared = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
    backends = args.backend or ["tflite", "openvino"]
    frames = load_frames(shared / "media" / "vtest.avi")[: args.frames]
    print(f"start: {load_note()}", file=sys.stderr)
    rows = []
    for text in args.resolution or DEFAULT_RESOLUTIONS:
        parsed = parse_resolution(text)
        if parsed == "auto":
            raise SystemExit("give sizes, not auto")
        height, width = as_height_width(parsed)
        speed = {name: _bench(name, text, args) for name in backends}
        people = _people(backends[0], (height, width), frames, args.model_dir)
        rows.append((f"{height}x{width}", speed, people))
        print(f"measured {text}", file=sys.stderr)
    print(f"end: {load_note()}", file=sys.stderr)
    head = " | ".join(f"{b} raw p50 ms | {b} pipeline fps" for b in backends)
    print(f"| input | {head} | people per frame on vtest.avi (mean, max) |")
    print("|---" * (2 + 2 * len(backends)) + "|")
    for size, speed, (mean, most) in rows:
        cells = " | ".join(f"{speed[b][0]:.2f} | {speed[b][1]:.1f}" for b in backends)
        print(f"| {size} | {cells} | {mean:.2f}, {most} |")
    return 0


def _bench(backend: str, resolution: str, args: argparse.Namespace) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-m", "posed.cli.main", "bench", "--backend", backend, "--model", MODEL,
         "--model-dir", str(args.model_dir), "--input-resolution", resolution,
         "--seconds", str(args.seconds), "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not records:
        raise SystemExit(f"posed bench failed for {backend} {resolution}: {done.stderr[-2000:]}")
    record = records[0]
    return float(record["raw_inference_ms"]["p50"]), float(record["pipeline_fps"])


def _people(
    backend_name: str, size: tuple[int, int], frames: list[ImageArray], model_dir: Path
) -> tuple[float, int]:
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate({"type": backend_name})
    # Ten poses at most, so that the count is the model's and not the default cap of five.
    options = {"input_resolution": size, "max_pose_detections": 10}
    model = ModelConfig.model_validate({"name": MODEL, "posenet": options})
    with open_estimator(model, backend, config, model_dirs=[model_dir]) as estimator:
        counts = [len(estimator.estimate(frame)) for frame in frames]
    return sum(counts) / len(counts), max(counts)


if __name__ == "__main__":
    raise SystemExit(main())
