"""Raw inference time of every model on every backend: session.run() alone, median and p95.

    .venv/bin/python bench/raw_inference.py [--models-dir ../shared/models] [--seconds 6] [--json]

For one model, the backends' sessions are open together and timed in alternating
half-second blocks (posed.benchmark.inference.RawTimer), so that load from other
processes on a shared machine falls on every backend alike. `posed bench` measures
the same thing per backend x model, next to the whole pipeline.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from posed.backend import InferenceSession
from posed.benchmark.inference import RawTimer
from posed.plugins import load_backend

REPO = Path(__file__).resolve().parent.parent
BLOCK_S = 0.5


def measure(model: Path, backends: list[str], seconds: float) -> list[dict[str, object]]:
    with ExitStack() as stack:
        timers: dict[str, tuple[InferenceSession, RawTimer]] = {}
        for name in backends:
            backend = load_backend(name)
            config = backend.config_model.model_validate({"type": name})
            session = stack.enter_context(backend.open_session(model, config))
            timers[name] = (session, RawTimer(session))
        for _ in range(max(1, round(seconds / BLOCK_S))):
            for _, timer in timers.values():
                timer.run_for(BLOCK_S)
        rows = []
        for name, (session, timer) in timers.items():
            samples = np.asarray(timer.samples_ms)
            p50, p95 = np.percentile(samples, [50, 95])
            rows.append(
                {
                    "model": model.name,
                    "backend": name,
                    "device": session.device,
                    "runs": int(samples.size),
                    "median_ms": round(float(p50), 2),
                    "p95_ms": round(float(p95), 2),
                }
            )
        return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=REPO.parent / "shared" / "models")
    parser.add_argument("--backend", action="append", default=[], help="default: tflite and openvino")
    parser.add_argument("--seconds", type=float, default=6.0, help="timed seconds per backend and model")
    parser.add_argument("--json", action="store_true", help="JSON Lines instead of a table")
    args = parser.parse_args()
    backends = args.backend or ["tflite", "openvino"]
    models = sorted(args.models_dir.glob("*.tflite"))
    if not models:
        print(f"no .tflite files in {args.models_dir}", file=sys.stderr)
        return 2
    if not args.json:
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
        print("| model | backend | device | runs | median ms | p95 ms |")
        print("|---|---|---|---:|---:|---:|")
    for model in models:
        for row in measure(model, backends, args.seconds):
            if args.json:
                print(json.dumps(row), flush=True)
            else:
                cells = [row[k] for k in ("model", "backend", "device", "runs", "median_ms", "p95_ms")]
                print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)
    if not args.json:
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
