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
from collections.abc import Iterator
from pathlib import Path

from posed.cli.estimate import (
    IMAGE_SUFFIXES,
    backend_config,
    file_frame,
    gated,
    model_config,
    read_image,
    stopped_code,
    video_frames,
)
from posed.cli.names import check_inputs_exist, check_model_name
from posed.config.loader import load_model
from posed.errors import EXIT_OK, EXIT_USAGE, CameraError
from posed.estimator import open_estimator
from posed.events.config import EventsFile
from posed.events.engine import EventEngine
from posed.models.resolve import model_search_path
from posed.plugins import load_backend
from posed.types import ImageArray

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
    frames = (
        image_sequence(source, args.fps or IMAGES_FPS) if source.is_dir() else video_frames(source, args.fps)
    )
    backend = load_backend(args.backend)
    config = backend_config(backend, args.device)
    from posed.daemon.signals import SignalEvents

    model = model_config(args, static=False)  # a sequence: tracked and smoothed, as in the daemon
    with (
        open_estimator(model, backend, config, model_dirs=dirs) as estimator,
        SignalEvents() as signals,
    ):
        # Through the motion gate, as in the daemon: a fall in progress keeps it open.
        gate = gated(estimator, no_gate=args.no_gate, in_progress=lambda: engine.watching)
        for number, stamp, image in frames:
            (done,) = gate.push(file_frame(number, stamp, image))
            poses = done.poses
            for event in engine.update(stamp, poses, int(image.shape[1]), int(image.shape[0])):
                sys.stdout.write(json.dumps({**event.to_dict(), "frame": number}) + "\n")
            if signals.stop_requested:
                print(f"posed estimate: interrupted after frame {number}", file=sys.stderr)
                return stopped_code(signals.last_stop_signal)
    return EXIT_OK


def image_sequence(folder: Path, fps: float) -> Iterator[tuple[int, float, ImageArray]]:
    """The images of a folder in name order, as frames `1/fps` seconds apart."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise CameraError(f"no images in {folder} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    for number, path in enumerate(paths):
        yield number, number / fps, read_image(path)
