"""`posed bench`: raw inference, pipeline throughput, latency, memory and startup per backend x model.

    posed bench [--backend B] [--device D] [--model M] [--video FILE] [--seconds S] [--json]

Defaults: every runnable backend with every device it sees, and every known model
found in the model directories. `--json` prints one object per record on stdout
with exactly the keys backend, device, model, raw_inference_ms {p50, p95},
pipeline_fps, latency_ms {p50, p99}, rss_mb and startup_s; progress, the load
average and failures go to stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from posed.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend", action="append", default=[], help="Backend entry-point name (repeatable; default: all)."
    )
    parser.add_argument(
        "--device", default=None, help="Device for the chosen backend (OpenVINO: CPU, GPU...; TFLite: cpu)."
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        help="Model name or .tflite path (repeatable; default: every known model found).",
    )
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="Directory searched first for named models."
    )
    parser.add_argument(
        "--video",
        type=Path,
        default=None,
        help="Input video or image for every model (default: pose_squats.mp4 for BlazePose, "
        "vtest.avi for PoseNet, from $POSED_SHARED_DIR or ../shared).",
    )
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="Duration of each timed phase (default 5)."
    )
    parser.add_argument("--json", action="store_true", help="One JSON object per record on stdout.")
    parser.add_argument(
        "--num-poses",
        type=int,
        default=None,
        help="BlazePose: most people at once (model.blazepose.num_poses); give a clip with that many.",
    )
    from posed.cli.estimate import add_input_resolution

    add_input_resolution(parser)


def execute(args: argparse.Namespace) -> int:
    from posed.benchmark.records import BenchRecord, format_table, load_note
    from posed.benchmark.runner import BenchOptions, Failure, run_bench, shared_dir_default

    if args.device is not None and len(args.backend) != 1:
        print("posed bench: --device needs exactly one --backend", file=sys.stderr)
        return EXIT_USAGE
    if args.seconds <= 0:
        print("posed bench: --seconds must be positive", file=sys.stderr)
        return EXIT_USAGE
    options = BenchOptions(
        backends=tuple(args.backend),
        device=args.device,
        models=tuple(args.model),
        model_dir=args.model_dir,
        video=args.video,
        shared_dir=shared_dir_default(),
        seconds=args.seconds,
        input_resolution=args.input_resolution,
        num_poses=args.num_poses,
    )
    records: list[BenchRecord] = []
    failures: list[Failure] = []

    def on_record(record: BenchRecord) -> None:
        records.append(record)
        if args.json:
            print(record.to_json(), flush=True)
        else:
            print(f"measured {record.backend} {record.device} {record.model}", file=sys.stderr)

    def on_failure(failure: Failure) -> None:
        failures.append(failure)
        print(
            f"posed bench: {failure.backend} {failure.device} {failure.model}: {failure.error}",
            file=sys.stderr,
        )

    print(f"posed bench: start, {load_note()}", file=sys.stderr)
    run_bench(options, on_record, on_failure)
    print(f"posed bench: end, {load_note()}", file=sys.stderr)
    if not args.json:
        print(format_table(records))
        print("ratio = pipeline_fps x raw p50 / 1000 (1.0: no overhead beyond inference)")
    return EXIT_FAILURE if failures else EXIT_OK
