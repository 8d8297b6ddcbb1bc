"""`posed estimate`: one-shot estimation for trying models and tuning.

Images are estimated one by one with no tracking; the result is one JSON list.
A video is estimated with tracking and the motion gate, as in the daemon (`--no-gate`
runs the estimator on every frame); the result is JSON Lines.
`--draw OUT` also writes the input with the poses drawn on it (posed.draw):
an image for an image, a folder of images for several, a video at the input's
frame rate for a video. Ctrl-C stops after the frame in progress: the output so
far stays complete (whole JSON lines, a playable video) and the exit code is 130.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext
from pathlib import Path

from posed.cameras.config import DEFAULT_MAX_PIXELS
from posed.cameras.media_files import IMAGE_SUFFIXES, read_image, video_frames, video_info
from posed.cli.annotate import VIDEO_SUFFIXES, VideoOut, write_image
from posed.cli.estimate_events import execute_events
from posed.cli.flags import backend_config, model_config
from posed.cli.names import add_model_dir_argument, check_inputs_exist, check_model_name
from posed.cli.progress import ProgressBar, report_skipped
from posed.cli.run import add_no_gate_argument
from posed.daemon.signals import SignalEvents, stopped_code
from posed.draw import draw_poses
from posed.errors import EXIT_OK, EXIT_USAGE, CameraError, PosedError
from posed.estimator import open_estimator
from posed.estimator_contract import PoseEstimator
from posed.evaluation.frames import file_frame, gated
from posed.gate.loop import GatedEstimation
from posed.models.resolve import model_search_path
from posed.people.config import PhantomConfig
from posed.people.phantoms import PhantomFilter
from posed.plugins import load_backend
from posed.posenet.options import PoseNetOptions
from posed.posenet.resolution import Resolution, parse_resolution
from posed.tracking.ids import IdSource


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="Images, or one video.")
    parser.add_argument("--model", default="blazepose-full", help="Model name or .tflite path.")
    parser.add_argument("--backend", default="tflite", help="Backend entry-point name.")
    parser.add_argument(
        "--device",
        default=None,
        help="Backend device (OpenVINO: CPU, GPU...; TFLite: cpu, edgetpu; kserve: its server, host:port) "
        "(default: the backend's own: TFLite on the CPU with XNNPACK, OpenVINO CPU).",
    )
    add_model_dir_argument(parser)
    posenet = PoseNetOptions.model_fields  # the config's defaults, shown (None here means "not given")
    parser.add_argument(
        "--max-poses",
        type=int,
        default=None,
        help=f"PoseNet: most poses per image (default: {posenet['max_pose_detections'].default}).",
    )
    parser.add_argument(
        "--score-threshold",
        type=float,
        default=None,
        help=f"PoseNet: minimum score (default: {posenet['score_threshold'].default}).",
    )
    parser.add_argument(
        "--nms-radius",
        type=float,
        default=None,
        help=f"PoseNet: NMS radius, model pixels (default: {posenet['nms_radius'].default:g}).",
    )
    parser.add_argument(
        "--decoding",
        choices=["single", "multi"],
        default=None,
        help=f"PoseNet decoding (default: {posenet['decoding'].default}).",
    )
    add_input_resolution(parser)
    parser.add_argument(
        "--no-smoothing", action="store_true", help="BlazePose and MoveNet: turn keypoint smoothing off."
    )
    parser.add_argument(
        "--multipose-max-dimension",
        type=int,
        default=None,
        help="MoveNet MultiPose: the frame's long side in model pixels, a multiple of 32 "
        "(model.movenet.multipose_max_dimension; default: 256).",
    )
    parser.add_argument(
        "--num-poses",
        type=int,
        default=None,
        help="BlazePose: most people at once (model.blazepose.num_poses).",
    )
    parser.add_argument(
        "--person-detector",
        choices=["blazepose", "posenet"],
        default=None,
        help="BlazePose with --num-poses > 1: the person detector (model.blazepose.detector).",
    )
    add_precision(parser)
    parser.add_argument(
        "--fps",
        type=float,
        default=None,
        help="Video: timestamps as if frames came at this rate (default: the file's own timestamps).",
    )
    parser.add_argument(
        "--draw",
        type=Path,
        default=None,
        metavar="OUT",
        help="Also write the input with the poses drawn on it: an image (.png, .jpg) for an image, "
        "a folder for several images, a video (.mp4, .avi) for a video (default: draw nothing).",
    )
    add_no_gate_argument(parser)
    parser.add_argument(
        "--max-pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help="Skip images larger than N pixels (width x height, read from the file's header before "
        "decoding), as the images camera's max_pixels does.",
    )
    parser.add_argument(
        "--keep-phantoms",
        action="store_true",
        help="Video: report every pose the model finds, also those that never moved since they "
        "appeared (default: dropped, as in the daemon; people.phantoms).",
    )
    parser.add_argument(
        "--events",
        action="store_true",
        help="Print event JSON Lines (zones, falls, reps, gestures) instead of poses; "
        "INPUT is one video or one folder of images (a sequence at --fps, default 1).",
    )
    parser.add_argument(
        "--events-config",
        type=Path,
        default=None,
        metavar="FILE",
        help="With --events: a YAML file with an `events:` section and zones under "
        "`cameras.estimate.zones` (default: the built-in defaults, falls and gestures on, no zones).",
    )


def add_precision(parser: argparse.ArgumentParser) -> None:
    """`--precision`, shared by `estimate` and `bench`."""
    parser.add_argument(
        "--precision",
        choices=("float", "int8"),
        default="float",
        help="BlazePose: the shipped float files, or their int8 variants for the backend, made by "
        "`posed models quantize` (model.precision) (default: float).",
    )


def add_input_resolution(parser: argparse.ArgumentParser) -> None:
    """`--input-resolution`, shared by `estimate` and `bench`."""
    parser.add_argument(
        "--input-resolution",
        type=_resolution,
        default=None,
        metavar="N|HxW|auto",
        help="PoseNet: model input size, e.g. 353x481 or 513 (default: the model file's own).",
    )


def _resolution(text: str) -> Resolution:
    try:
        return parse_resolution(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not N, HxW or auto (e.g. 353x481)") from None


def execute(args: argparse.Namespace) -> int:
    inputs: list[Path] = args.inputs
    if args.events or args.events_config is not None:
        return execute_events(args)
    videos = [p for p in inputs if p.suffix.lower() not in IMAGE_SUFFIXES]
    if videos and len(inputs) > 1:
        print("posed estimate: give several images, or one video", file=sys.stderr)
        return EXIT_USAGE
    # Everything the user typed is checked before the model loads, which takes seconds.
    check_inputs_exist(inputs)
    check_draw_target(args.draw, inputs, video=bool(videos))
    dirs = model_search_path(cli_dir=args.model_dir)
    check_model_name(args.model, dirs)
    backend = load_backend(args.backend)
    model = model_config(args, static=not videos)
    config = backend_config(backend, args.device)
    # Each run numbers its people from 1, also when called twice in one process (tests, scripts).
    with open_estimator(model, backend, config, model_dirs=dirs, ids=IdSource()) as estimator:
        if videos:
            frames = gated(estimator, no_gate=args.no_gate)
            phantoms = PhantomConfig(enabled=not args.keep_phantoms)
            return _estimate_video(frames, videos[0], args.fps, args.draw, PhantomFilter(phantoms))
        return _estimate_images(estimator, inputs, args.draw, args.max_pixels)


def check_draw_target(out: Path | None, inputs: list[Path], *, video: bool) -> None:
    if out is None:
        return
    if video and out.suffix.lower() not in VIDEO_SUFFIXES:
        raise PosedError(
            f"--draw {out}: a video is drawn into a video file ({', '.join(sorted(VIDEO_SUFFIXES))})"
        )
    if not video and len(inputs) > 1 and not out.is_dir():
        raise PosedError(f"--draw {out}: with several images, give an existing folder to draw them into")
    if not video and len(inputs) == 1 and out.suffix.lower() not in IMAGE_SUFFIXES and not out.is_dir():
        raise PosedError(f"--draw {out}: an image is drawn into an image file (.png, .jpg) or a folder")
    folder = out if out.is_dir() else out.parent
    if not folder.is_dir():
        raise PosedError(f"--draw {out}: the folder {folder} does not exist")


def _estimate_images(estimator: PoseEstimator, paths: list[Path], draw: Path | None, max_pixels: int) -> int:
    results = []
    code: int | None = None
    skipped = 0
    with SignalEvents() as signals:  # Ctrl-C ends the loop between two images
        for path in paths:
            try:
                image = read_image(path, max_pixels)
            except CameraError as exc:  # one bad file must not cost the others' results
                print(f"posed estimate: skipping {exc}", file=sys.stderr)
                skipped += 1
                continue
            poses = estimator.estimate(image, None)
            if draw is not None:
                write_image(draw / path.name if draw.is_dir() else draw, draw_poses(image, poses))
            results.append(
                {
                    "input": str(path),
                    "width": int(image.shape[1]),
                    "height": int(image.shape[0]),
                    "poses": [pose.to_dict() for pose in poses],
                }
            )
            if signals.stop_requested and len(results) + skipped < len(paths):
                print(
                    f"posed estimate: interrupted; the JSON holds the {len(results)} image(s) done",
                    file=sys.stderr,
                )
                code = stopped_code(signals.last_stop_signal)
                break
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")
    return code if code is not None else report_skipped(skipped, len(paths), "image(s)")


def _estimate_video(
    frames: GatedEstimation, path: Path, fps: float | None, draw: Path | None, people: PhantomFilter
) -> int:
    file_fps, count = video_info(path)
    done = 0
    with (
        VideoOut(draw, fps or file_fps) if draw is not None else nullcontext() as out,
        ProgressBar(count or None, unit="frame", label=path.name) as progress,
        SignalEvents() as signals,  # Ctrl-C (or SIGTERM) ends the loop between two frames
    ):
        for number, stamp, image in video_frames(path, fps):
            (done_frame,) = frames.push(file_frame(number, stamp, image))
            poses = people.update(stamp, image, done_frame.poses)
            if out is not None:
                out.write(draw_poses(image, poses))
            line = {
                "frame": number,
                "timestamp": round(stamp, 6),
                "gated": done_frame.gated,
                "poses": [p.to_dict() for p in poses],
            }
            sys.stdout.write(json.dumps(line) + "\n")
            done += 1
            progress.advance()
            if signals.stop_requested:
                progress.write(
                    f"posed estimate: interrupted after {done} frame(s); the JSON Lines hold all of them"
                )
                return stopped_code(signals.last_stop_signal)
    return EXIT_OK
