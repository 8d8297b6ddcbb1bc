"""`posed evaluate LABELS`: score the event analyzers on labelled clips.

Each clip runs through exactly what `posed estimate --events` runs (the tracked,
smoothed estimator, then the analyzers on the frame's media time), with its last
frame held for `--hold` seconds, as a fallen person who stays down would look.
One line per clip and a summary on stdout; `--json OUT` writes the figures too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from posed.backend import Backend, BackendConfig
from posed.cli.estimate import add_precision
from posed.cli.flags import backend_config, model_config
from posed.cli.names import add_model_dir_argument, check_inputs_exist, check_model_name
from posed.cli.run import add_no_gate_argument
from posed.config.loader import load_model
from posed.daemon.signals import SignalEvents, stopped_code
from posed.errors import EXIT_OK, EXIT_USAGE, PosedError
from posed.evaluation.labels import LabelsFile, clip_path
from posed.evaluation.runner import ClipRunner, RunnerSettings
from posed.evaluation.scoring import clip_line, score_clip, summarize, summary_line
from posed.events.config import EventsFile
from posed.models.resolve import model_search_path
from posed.plugins import load_backend

DEFAULT_HOLD = 10.0
MAX_HOLD = 3600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "labels", type=Path, metavar="LABELS", help="Labels file (JSON or YAML; see the docs)."
    )
    parser.add_argument(
        "--clips",
        nargs="+",
        default=None,
        metavar="NAME",
        help="Only these clips of the labels file (default: all of them).",
    )
    parser.add_argument(
        "--json", type=Path, default=None, metavar="OUT", help="Also write the figures as JSON."
    )
    parser.add_argument(
        "--hold",
        type=float,
        default=DEFAULT_HOLD,
        help="Seconds the last frame of each clip is held (a person who stays down); 0 to 3600.",
    )
    parser.add_argument(
        "--events-config",
        type=Path,
        default=None,
        metavar="FILE",
        help="An `events:` section and zones under `cameras.estimate.zones`, as for "
        "`posed estimate --events` (default: the built-in defaults; each clip's labelled "
        "exercise is turned on for it).",
    )
    parser.add_argument("--model", default="blazepose-full", help="Model name or .tflite path.")
    parser.add_argument("--backend", default="tflite", help="Backend entry-point name.")
    parser.add_argument(
        "--device", default=None, help="Backend device, as for `posed estimate` (default: the backend's own)."
    )
    add_model_dir_argument(parser)
    add_precision(parser)
    add_no_gate_argument(parser)
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="Keep each clip's poses in DIR and reuse them while the clip, the flags and posed's "
        "estimator code are unchanged: for iterating on analyzer settings. Figures you report "
        "should come from a run without it (default: no cache).",
    )
    # What `posed estimate` would take and evaluate leaves at the config's defaults.
    parser.set_defaults(
        max_poses=None,
        score_threshold=None,
        nms_radius=None,
        decoding=None,
        input_resolution=None,
        no_smoothing=False,
        num_poses=None,
        person_detector=None,
        multipose_max_dimension=None,
    )


def execute(args: argparse.Namespace) -> int:
    if not 0 <= args.hold <= MAX_HOLD:
        print(
            f"posed evaluate: --hold must be within 0..{MAX_HOLD:g} seconds, not {args.hold:g}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    # Everything typed is checked before the model loads.
    check_inputs_exist([args.labels], "labels file")
    labels = load_model(args.labels, LabelsFile)
    names = list(labels.clips) if args.clips is None else list(args.clips)
    unknown = [n for n in names if n not in labels.clips]
    if unknown:
        raise PosedError(
            f"--clips: {unknown[0]!r} is not in {args.labels}; its clips: {', '.join(labels.clips)}"
        )
    check_inputs_exist([clip_path(args.labels, n) for n in names], "clip")
    dirs = model_search_path(cli_dir=args.model_dir)
    check_model_name(args.model, dirs)
    settings = EventsFile() if args.events_config is None else load_model(args.events_config, EventsFile)
    if args.json is not None and not args.json.parent.is_dir():
        raise PosedError(f"--json {args.json}: the folder {args.json.parent} does not exist")

    runner_settings = RunnerSettings(
        model=args.model,
        backend=args.backend,
        device=args.device,
        precision=args.precision,
        model_dir=args.model_dir,
        hold=args.hold,
        cache=args.cache,
        no_gate=args.no_gate,
    )
    scores = []
    started = time.monotonic()
    with (
        ClipRunner(
            runner_settings,
            lambda: model_config(args, static=False),
            lambda: _backend(args.backend, args.device),
        ) as runner,
        SignalEvents() as signals,
    ):
        for name in names:
            run = runner.run(clip_path(args.labels, name), labels.clips[name], settings)
            score = score_clip(
                name,
                labels.clips[name],
                run.events,
                hold=args.hold,
                frames=run.frames,
                seconds=run.seconds,
                cached=run.cached,
            )
            scores.append(score)
            print(clip_line(score), flush=True)
            if signals.stop_requested and name != names[-1]:
                print(f"posed evaluate: interrupted after {name}", file=sys.stderr)
                return stopped_code(signals.last_stop_signal)
    summary = summarize(scores)
    print(summary_line(summary))
    if args.json is not None:
        document = {
            "labels": str(args.labels),
            "settings": {
                **runner_settings.key(),
                "events": settings.model_dump(mode="json"),
                "cached": args.cache is not None,
            },
            "seconds": round(time.monotonic() - started, 1),
            "clips": [asdict(s) | {"rep_error": s.rep_error} for s in scores],
            "summary": asdict(summary),
        }
        args.json.write_text(json.dumps(document, indent=1) + "\n")
    return EXIT_OK


def _backend(name: str, device: str | None) -> tuple[Backend, BackendConfig]:
    """The backend `--backend`/`--device` name; a device it refuses is a FlagError."""
    backend = load_backend(name)
    return backend, backend_config(backend, device)
