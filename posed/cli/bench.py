"""`posed bench`: raw inference, pipeline throughput, latency, memory and startup per backend x model.

    posed bench [--backend B] [--device D] [--model M] [--video FILE]... [--seconds S] [--json]
                [--no-gate | --compare-gate]

Defaults: every runnable backend with every device it sees, and every known model
found in the model directories, with the motion gate on as in `posed run`. Frames
are timed on the clip's own clock (its frame rate), so the gate's keep-alive and
`cpu_ms_per_video_s` mean what they would for a camera at that rate. `--json`
prints one object per record on stdout with exactly the keys of
posed.benchmark.records.RECORD_KEYS; progress, the load average and failures go
to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from posed.benchmark.frames import BLAZEPOSE_MEDIA, POSENET_MEDIA
from posed.benchmark.records import BenchRecord, format_table, load_note
from posed.benchmark.runner import (
    BenchOptions,
    Failure,
    combinations,
    found_models,
    model_config,
    run_bench,
    shared_dir_default,
    with_options,
)
from posed.cli.estimate import add_input_resolution, add_precision
from posed.cli.flags import MODEL_FLAGS, backend_config, checked
from posed.cli.names import add_model_dir_argument
from posed.cli.progress import ProgressBar
from posed.config.schema import ModelConfig
from posed.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, PosedError
from posed.models.resolve import model_search_path
from posed.plugins import load_backend
from posed.samples import SampleUnavailableError, cached_sample, ensure_sample

if TYPE_CHECKING:
    from posed.benchmark.runner import BenchOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend", action="append", default=[], help="Backend entry-point name (repeatable; default: all)."
    )
    parser.add_argument(
        "--device",
        default=None,
        help="Device for the chosen backend (OpenVINO: CPU, GPU...; TFLite: cpu; kserve: its server, "
        "host:port) (default: every device the backend sees).",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        help="Model name or .tflite path (repeatable; default: every known model found).",
    )
    add_model_dir_argument(parser)
    parser.add_argument(
        "--video",
        type=Path,
        action="append",
        default=[],
        help="Input video or image for every model; repeatable, each measured in turn (e.g. an empty "
        "room and a person) (default: pose_squats.mp4 for BlazePose, vtest.avi for PoseNet, from "
        "$POSED_SHARED_DIR or ../shared; without those, the sample clip of `posed demo`, downloaded "
        "once if needed).",
    )
    gate = parser.add_mutually_exclusive_group()
    gate.add_argument(
        "--no-gate",
        action="store_true",
        help="Measure with the motion gate off: the estimator on every frame (default: on, as in "
        "`posed run`).",
    )
    gate.add_argument(
        "--compare-gate",
        action="store_true",
        help="Measure every combination twice, motion gate on and off (the `gate` column).",
    )
    parser.add_argument(
        "--camera-fps",
        type=float,
        default=None,
        help="Stamp the frames as a camera at this rate would (the motion gate's keep-alive and "
        "cpu ms per second follow it) (default: each clip's own frame rate).",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="Duration of each timed phase.")
    parser.add_argument("--json", action="store_true", help="One JSON object per record on stdout.")
    parser.add_argument(
        "--num-poses",
        type=int,
        default=None,
        help="BlazePose: most people at once (model.blazepose.num_poses); give a clip with that many.",
    )

    add_precision(parser)
    add_input_resolution(parser)


def execute(args: argparse.Namespace) -> int:
    if args.device is not None and len(args.backend) != 1:
        print("posed bench: --device needs exactly one --backend", file=sys.stderr)
        return EXIT_USAGE
    if args.seconds <= 0:
        print("posed bench: --seconds must be positive", file=sys.stderr)
        return EXIT_USAGE
    if args.camera_fps is not None and not 0 < args.camera_fps <= 1000:
        print("posed bench: --camera-fps must be above 0 and at most 1000", file=sys.stderr)
        return EXIT_USAGE
    for video in args.video:
        if not video.is_file():
            print(f"posed bench: --video {video}: no such file", file=sys.stderr)
            return EXIT_USAGE
    shared = shared_dir_default()
    options = BenchOptions(
        backends=tuple(args.backend),
        device=args.device,
        models=tuple(args.model),
        model_dir=args.model_dir,
        video=args.video[0] if args.video else fallback_input(shared),
        more_videos=tuple(args.video[1:]),
        gates=(True, False) if args.compare_gate else (not args.no_gate,),
        camera_fps=args.camera_fps,
        shared_dir=shared,
        seconds=args.seconds,
        input_resolution=args.input_resolution,
        num_poses=args.num_poses,
        precision=args.precision,
    )
    check_flags(options)
    records: list[BenchRecord] = []
    failures: list[Failure] = []

    progress = ProgressBar(expected_records(options), unit="run", label="posed bench")

    def on_record(record: BenchRecord) -> None:
        records.append(record)
        progress.advance()
        if args.json:
            print(record.to_json(), flush=True)
        else:
            progress.write(f"measured {record.backend} {record.device} {record.model}")

    def on_failure(failure: Failure) -> None:
        failures.append(failure)
        progress.advance()
        progress.write(f"posed bench: {failure.backend} {failure.device} {failure.model}: {failure.error}")

    print(f"posed bench: start, {load_note()}", file=sys.stderr)
    with progress:
        run_bench(options, on_record, on_failure)
    print(f"posed bench: end, {load_note()}", file=sys.stderr)
    if not args.json:
        print(format_table(records))
        print("ratio = pipeline_fps x raw p50 / 1000 (1.0: no overhead beyond inference)")
    return EXIT_FAILURE if failures else EXIT_OK


def check_flags(options: BenchOptions) -> None:
    """Refuse flags the config would refuse (a FlagError) before anything is measured."""
    names = options.models or ("blazepose-full",)  # the options do not depend on the model found
    checked(lambda: [with_options(model_config(name), options) for name in names], ModelConfig, MODEL_FLAGS)
    if options.device is not None:  # with exactly one --backend (checked before)
        backend_config(load_backend(options.backends[0]), options.device)


def fallback_input(shared: Path) -> Path | None:
    """None when the shared test media are there; else the demo's sample clip (fetched if needed)."""
    if (shared / BLAZEPOSE_MEDIA).is_file() and (shared / POSENET_MEDIA).is_file():
        return None
    clip = cached_sample()
    if clip is None:
        print(f"posed bench: no test media in {shared}; downloading the sample clip once", file=sys.stderr)
        try:
            clip = ensure_sample(mirror=os.environ.get("POSED_MODEL_MIRROR") or None)
        except SampleUnavailableError as exc:
            raise PosedError(f"no benchmark input: {exc}. Pass --video FILE (a video or an image)") from exc
    print(
        f"posed bench: measuring every model on the sample clip {clip} (pass --video FILE for your own)",
        file=sys.stderr,
    )
    return clip


def expected_records(options: BenchOptions) -> int | None:
    """How many records (or failures) the run will report, for the progress bar; None if unknown."""
    if not sys.stderr.isatty():
        return None  # no bar: do not probe the backends twice for nothing
    try:
        targets = len(list(combinations(options)))
        found = found_models(model_search_path(cli_dir=options.model_dir))
        models = list(options.models) or [str(m.name) for m in found]
    except PosedError:
        return None
    blazepose = any(str(m).startswith("blazepose") or str(m).endswith(".tflite") for m in models)
    runs = (1 + len(options.more_videos)) * len(options.gates)
    return targets * (len(models) * runs + (1 if blazepose else 0))
