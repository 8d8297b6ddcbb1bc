"""The pipeline, memory and startup targets from one `posed bench --json` run, plus the memory floor.

    .venv/bin/python bench/targets.py [--seconds 5] [--backend B ...] [--soak-minutes 10]
    .venv/bin/python bench/targets.py --records bench.jsonl    (from `posed bench --json > bench.jsonl`)

  1. pipeline overhead: pipeline_fps >= 0.9 x 1000 / raw_inference_ms.p50, for
     BlazePose lite/full/heavy (tracking mode) and PoseNet multi-person, per backend;
  3. memory: rss_mb <= 1.25 x the backend's floor (bench/memory_floor.py, runtime
     floor: the detector and the landmark model loaded and nothing else); with
     --soak-minutes, also bench/soak.py's RSS growth <= 5 MB;
  4. startup: startup_s <= 2 s with TFLite, <= 3 s with OpenVINO (warm cache).
Target 2 (against MediaPipe) is bench/compare_mediapipe.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from memory_floor import measure_floor

from posed.benchmark.records import load_note

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
OVERHEAD_MIN = 0.9
MEMORY_MAX = 1.25
STARTUP_MAX_S = {"tflite": 2.0, "openvino": 3.0}


def run_bench(args: argparse.Namespace) -> list[dict[str, Any]]:
    command = [sys.executable, "-m", "posed", "bench", "--json", "--seconds", str(args.seconds)]
    command += ["--model-dir", str(args.model_dir)]
    for backend in args.backend:
        command += ["--backend", backend]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    sys.stderr.write("".join(line + "\n" for line in result.stderr.splitlines() if "posed bench" in line))
    if result.returncode != 0:
        raise SystemExit(f"posed bench failed ({result.returncode})")
    return [json.loads(line) for line in result.stdout.splitlines()]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def mark(ok: bool) -> str:
    return "ok" if ok else "NO"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="posed bench --seconds (default 5).")
    parser.add_argument("--backend", action="append", default=[], help="Backends (default: all runnable).")
    parser.add_argument("--model-dir", type=Path, default=SHARED / "models")
    parser.add_argument(
        "--records", type=Path, default=None, help="Read `posed bench --json` output instead of running it."
    )
    parser.add_argument("--soak-minutes", type=float, default=0.0, help="Also run bench/soak.py this long.")
    args = parser.parse_args()

    print(f"start: {load_note()}")
    measured = (
        [json.loads(line) for line in args.records.read_text().splitlines() if line.strip()]
        if args.records
        else run_bench(args)
    )
    records = [r for r in measured if r["pipeline_fps"] is not None]
    floors: dict[tuple[str, str], float] = {}
    print(f"\n{'backend':9} {'model':31} {'overhead':>9} {'rss / floor MB':>20} {'startup':>8}")
    all_met = True
    for record in records:
        backend, model = record["backend"], record["model"]
        ratio = record["pipeline_fps"] * record["raw_inference_ms"]["p50"] / 1000.0
        overhead_ok = ratio >= OVERHEAD_MIN
        memory_cell, memory_ok = "no floor defined", True
        if model.startswith("blazepose-"):
            key = (backend, model)
            if key not in floors:
                size = model.removeprefix("blazepose-")
                floors[key] = measure_floor(backend, size, "runtime", args.model_dir)
            memory = record["rss_mb"] / floors[key]
            memory_ok = memory <= MEMORY_MAX
            memory_cell = f"{record['rss_mb']:.0f}/{floors[key]:.0f}={memory:4.2f} {mark(memory_ok)}"
        startup_ok = record["startup_s"] <= STARTUP_MAX_S.get(backend, float("inf"))
        all_met &= overhead_ok and memory_ok and startup_ok
        overhead_cell = f"{ratio:5.2f} {mark(overhead_ok)}"
        startup_cell = f"{record['startup_s']:4.2f}s {mark(startup_ok)}"
        print(f"{backend:9} {model:31} {overhead_cell:>9} {memory_cell:>20} {startup_cell:>8}")
    print(f"\ntargets: overhead >= {OVERHEAD_MIN}, rss <= {MEMORY_MAX} x floor, startup <= 2 s / 3 s")
    if args.soak_minutes > 0:
        command = [sys.executable, str(REPO / "bench/soak.py"), "--minutes", str(args.soak_minutes), "--json"]
        soak = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        result = json.loads(soak.stdout.strip().splitlines()[-1])
        print(f"soak: {json.dumps(result)}")
        print(f"RSS growth over the soak <= 5 MB: {verdict(result['target_met'])}")
        all_met &= bool(result["target_met"])
    print(f"end: {load_note()}")
    print(f"all of targets 1, 3, 4: {verdict(all_met)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
