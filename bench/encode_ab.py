"""Before/after of the payload encoder, in one run: json.dumps against orjson.

    .venv/bin/python bench/encode_ab.py [--backend tflite --backend openvino]
        [--model blazepose-full --model posenet-mobilenet-075-353x481] [--rounds 5] [--block 0.5]

For each backend x model one estimator and one raw session are opened; then, in
every round, raw inference, the pipeline with the old encoder (json.dumps with
compact separators, the encoder before orjson) and the pipeline with the current one
(posed.mqtt.payloads.encode, orjson) each run for --block seconds, in that
order, rotated each round, so load that comes and goes hits all three alike.
Printed: medians over rounds of raw fps (1000 / p50 ms), pipeline fps, the
pipeline/raw ratio, and CPU ms per frame (process, all threads), with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from posed.backend import ROLE_LANDMARKS, ROLE_MAIN
from posed.benchmark.frames import default_media, load_frames
from posed.benchmark.inference import RawTimer
from posed.benchmark.pipeline import FrameStep, PipelineTimer
from posed.benchmark.records import load_note
from posed.cli.estimate import backend_settings
from posed.config.schema import ModelConfig
from posed.estimator import open_estimator
from posed.models.resolve import resolve_model
from posed.mqtt import payloads
from posed.plugins import load_backend

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
CURRENT = payloads.encode


def json_encode(document: Mapping[str, Any]) -> bytes:
    """The encoder before orjson: json.dumps with compact separators."""
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode("utf-8")


ENCODERS: dict[str, Callable[[Mapping[str, Any]], bytes]] = {"json": json_encode, "orjson": CURRENT}


def measure(backend_name: str, model_name: str, rounds: int, block: float, model_dir: Path) -> None:
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate(backend_settings(backend_name, None))
    model = ModelConfig(name=model_name)
    resolved = resolve_model(model, [model_dir])
    role = ROLE_LANDMARKS if resolved.family == "blazepose" else ROLE_MAIN
    images = load_frames(default_media(resolved.family, SHARED))
    with (
        backend.open_session(resolved.files[role], config, role=role) as session,
        open_estimator(model, backend, config, model_dirs=[model_dir]) as estimator,
    ):
        raw = RawTimer(session)
        step = FrameStep(estimator, backend_name)
        timers = {name: PipelineTimer(step, images) for name in ENCODERS}
        per_round: dict[str, list[tuple[float, float]]] = {name: [] for name in ENCODERS}
        raw_fps: list[float] = []
        order = ["raw", *ENCODERS]
        for number in range(rounds):
            for what in order[number % 3 :] + order[: number % 3]:
                if what == "raw":
                    raw.samples_ms.clear()
                    raw.run_for(block)
                    raw_fps.append(1000.0 / statistics.median(raw.samples_ms))
                    continue
                payloads.encode = ENCODERS[what]  # type: ignore[assignment]
                timer = timers[what]
                frames, seconds, cpu = timer.frames, timer.seconds, timer.cpu_seconds
                timer.run_for(block)
                done = timer.frames - frames
                per_round[what].append(
                    (done / (timer.seconds - seconds), (timer.cpu_seconds - cpu) * 1000.0 / done)
                )
        payloads.encode = CURRENT
    raw_median = statistics.median(raw_fps)
    for name, samples in per_round.items():
        fps = statistics.median(s[0] for s in samples)
        cpu_ms = statistics.median(s[1] for s in samples)
        print(
            f"{backend_name:8} {model_name:32} {name:7} raw {raw_median:6.1f} fps  pipeline {fps:6.1f} fps  "
            f"ratio {fps / raw_median:4.2f}  cpu {cpu_ms:5.2f} ms/frame",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", default=[])
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block", type=float, default=0.5, help="Seconds per variant per round.")
    parser.add_argument("--model-dir", type=Path, default=SHARED / "models")
    args = parser.parse_args()
    print(f"start: {load_note()}", flush=True)
    for backend in args.backend or ["tflite", "openvino"]:
        for model in args.model or ["blazepose-full", "posenet-mobilenet-075-353x481"]:
            measure(backend, model, args.rounds, args.block, args.model_dir)
    print(f"end: {load_note()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
