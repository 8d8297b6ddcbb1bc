"""`posed estimate --events`: the daemon's analyzers on a video or a folder of images.

Prints one JSON line per event (posed/schemas/events.json, plus the frame number)
instead of poses. The analyzers run on each frame's media time, in seconds from
the start of the file (or number / --fps for images), which is also the event's
`timestamp`: a file gives the events real time would.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from posed.cameras.media_files import IMAGE_SUFFIXES, image_sequence, video_frames
from posed.cli.flags import backend_config, model_config
from posed.cli.names import check_inputs_exist, check_model_name
from posed.cli.progress import report_skipped
from posed.config.loader import load_model
from posed.daemon.signals import SignalEvents, stopped_code
from posed.errors import EXIT_USAGE
from posed.estimator import open_estimator
from posed.evaluation.frames import frame_events, frame_poses
from posed.events.config import EventsFile
from posed.events.engine import EventEngine
from posed.events.wording import plural, tally_key, tally_summary
from posed.models.resolve import model_search_path
from posed.people.phantoms import PhantomFilter
from posed.plugins import load_backend

IMAGES_FPS = 1.0  # a folder of images without --fps: one a second


def execute_events(args: argparse.Namespace) -> int:
    if not args.events:
        print("posed estimate: --events-config goes with --events", file=sys.stderr)
        return EXIT_USAGE
    if len(args.inputs) != 1 or args.draw is not None:
        print("posed estimate --events: give one video or one folder of images (no --draw)", file=sys.stderr)
        return EXIT_USAGE
    source: Path = args.inputs[0]
    if not source.is_dir():
        check_inputs_exist([source])
    settings = EventsFile() if args.events_config is None else load_model(args.events_config, EventsFile)
    dirs = model_search_path(cli_dir=args.model_dir)
    check_model_name(args.model, dirs)
    engine = EventEngine(settings.events, settings.cameras.estimate.zones)
    skipped: list[Path] = []
    phantoms = settings.people.phantoms
    people = PhantomFilter(phantoms.model_copy(update={"enabled": False}) if args.keep_phantoms else phantoms)
    frames = (
        image_sequence(source, args.fps or IMAGES_FPS, skipped, args.max_pixels)
        if source.is_dir()
        else video_frames(source, args.fps)
    )
    backend = load_backend(args.backend)
    config = backend_config(backend, args.device)
    model = model_config(args, static=False)  # a sequence: tracked and smoothed, as in the daemon
    tally: Counter[str] = Counter()
    count = 0
    with (
        open_estimator(model, backend, config, model_dirs=dirs) as estimator,
        SignalEvents() as signals,
    ):
        # Through the motion gate, as in the daemon: a fall in progress keeps it open.
        seen_frames = frame_poses(
            frames, estimator, people, no_gate=args.no_gate, in_progress=lambda: engine.watching
        )
        for seen in seen_frames:
            count += 1
            for event in frame_events(seen, engine):
                payload = event.to_dict()
                tally[tally_key(payload)] += 1
                sys.stdout.write(json.dumps({**payload, "frame": seen.number}) + "\n")
            if signals.stop_requested:
                print(f"posed estimate: interrupted after frame {seen.number}", file=sys.stderr)
                print(summary_line(count, tally), file=sys.stderr)
                return stopped_code(signals.last_stop_signal)
    print(summary_line(count, tally), file=sys.stderr)
    total = sum(1 for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if source.is_dir() else 1
    return report_skipped(len(skipped), total, "image(s)")


def summary_line(frames: int, tally: Mapping[str, int]) -> str:
    """The run in one line on stderr, so that a file without events does not end in silence:
    `posed estimate --events: 65 frames, 2 events: 2 squat reps, no fall`."""
    events = sum(tally.values())
    found = f"{plural(events, 'event')}: {tally_summary(tally)}" if events else "no events"
    return f"posed estimate --events: {plural(frames, 'frame')}, {found}"
