"""Is this machine's speed steady enough to benchmark on? One model alone, block after block.

    .venv/bin/python bench/speed_modes.py [--backend tflite --backend openvino] [--model lite]
                                          [--processes 4] [--blocks 6] [--block-seconds 0.7]

For each backend, --processes fresh processes each time the BlazePose landmark
model alone (posed bench's raw timer, synthetic input) in --blocks blocks, and
print each block's median ms per run and CPU ms per run (all threads). On a
steady machine every block reads about the same. On a shared VM they may fall
into two groups, e.g. ~4.7 ms for ~10 CPU ms and ~8 ms for ~16 CPU ms: both
threads busy all along, yet half as fast, the host having moved the vCPUs.
Benchmarks there are only comparable within one run, by round-robin and medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from posed.backend import ROLE_LANDMARKS, backend_settings
from posed.benchmark.inference import RawTimer
from posed.benchmark.records import load_note
from posed.plugins import load_backend

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))


def blocks(
    backend_name: str, model: str, count: int, seconds: float, model_dir: Path
) -> list[dict[str, float]]:
    """In this process: `count` blocks of the landmark model alone, median ms and CPU ms per run."""
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate(backend_settings(backend, None))
    measured = []
    path = model_dir / f"pose_landmark_{model}.tflite"
    with backend.open_session(path, config, role=ROLE_LANDMARKS) as session:
        timer = RawTimer(session)
        for _ in range(count):
            timer.samples_ms.clear()
            start = os.times()
            timer.run_for(seconds)
            end = os.times()
            cpu_ms = (end.user + end.system - start.user - start.system) * 1000.0 / len(timer.samples_ms)
            measured.append({"ms": statistics.median(timer.samples_ms), "cpu_ms": cpu_ms})
    return measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", help="tflite and openvino unless given (repeatable).")
    parser.add_argument("--model", default="lite", choices=("lite", "full", "heavy"))
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--block-seconds", type=float, default=0.7)
    parser.add_argument("--model-dir", type=Path, default=SHARED / "models")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(blocks(args.worker, args.model, args.blocks, args.block_seconds, args.model_dir)))
        return 0

    print(f"start: {load_note()}")
    for number in range(args.processes):
        for backend in args.backend or ["tflite", "openvino"]:
            command = [sys.executable, __file__, "--worker", backend, "--model", args.model]
            command += ["--blocks", str(args.blocks), "--block-seconds", str(args.block_seconds)]
            command += ["--model-dir", str(args.model_dir)]
            result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
            if result.returncode != 0:
                raise SystemExit(f"{backend} worker failed:\n{result.stderr[-2000:]}")
            measured = json.loads(result.stdout.strip().splitlines()[-1])
            cells = " ".join(f"{block['ms']:5.2f}/{block['cpu_ms']:4.1f}" for block in measured)
            print(f"process {number + 1} {backend:9} {args.model}: ms/CPU ms per run by block: {cells}")
    print(f"end: {load_note()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
