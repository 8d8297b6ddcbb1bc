"""`posed estimate`: one-shot estimation for trying models and tuning.

Images are estimated one by one with no tracking; the result is one JSON list.
A video is estimated with tracking, as in the daemon; the result is JSON Lines.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from posed.backend import BackendConfig
from posed.config.schema import BlazePoseOptions, ModelConfig, PoseNetOptions
from posed.errors import EXIT_OK, EXIT_USAGE, CameraError
from posed.estimator import PoseEstimator, open_estimator
from posed.models.resolve import model_search_path
from posed.plugins import load_backend
from posed.types import ImageArray

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="Images, or one video.")
    parser.add_argument("--model", default="blazepose-full", help="Model name or .tflite path.")
    parser.add_argument("--backend", default="tflite", help="Backend entry-point name.")
    parser.add_argument(
        "--device", default=None, help="Backend device (OpenVINO: CPU, GPU...; TFLite: cpu, edgetpu)."
    )
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="Directory searched first for named models."
    )
    parser.add_argument("--max-poses", type=int, default=None, help="PoseNet: most poses per image.")
    parser.add_argument("--score-threshold", type=float, default=None, help="PoseNet: minimum score.")
    parser.add_argument("--nms-radius", type=float, default=None, help="PoseNet: NMS radius, model pixels.")
    parser.add_argument("--decoding", choices=["single", "multi"], default=None, help="PoseNet decoding.")
    parser.add_argument("--no-smoothing", action="store_true", help="BlazePose: turn landmark smoothing off.")
    parser.add_argument(
        "--fps",
        type=float,
        default=None,
        help="Video: timestamps as if frames came at this rate (default: the file's own timestamps).",
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
        help="With --events: a YAML file with an `events:` section and zones under `cameras.estimate.zones`.",
    )


def backend_settings(backend: str, device: str | None) -> dict[str, Any]:
    settings: dict[str, Any] = {"type": backend}
    if device is None:
        return settings
    if backend == "tflite":
        if device.startswith(("usb", "pci", "edgetpu")):
            settings["delegate"] = "edgetpu"
            if device != "edgetpu":
                settings["edgetpu_device"] = device
        else:
            settings["delegate"] = {"cpu": "xnnpack"}.get(device, device)
    else:
        settings["device"] = device
    return settings


def model_config(args: argparse.Namespace, *, static: bool) -> ModelConfig:
    posenet: dict[str, Any] = {
        key: value
        for key, value in {
            "max_pose_detections": args.max_poses,
            "score_threshold": args.score_threshold,
            "nms_radius": args.nms_radius,
            "decoding": args.decoding,
        }.items()
        if value is not None
    }
    blazepose = BlazePoseOptions(static_image_mode=static, enable_smoothing=not args.no_smoothing)
    source: dict[str, Any] = (
        {"path": Path(args.model)} if args.model.endswith(".tflite") else {"name": args.model}
    )
    return ModelConfig(**source, blazepose=blazepose, posenet=PoseNetOptions(**posenet))


def execute(args: argparse.Namespace) -> int:
    inputs: list[Path] = args.inputs
    if args.events or args.events_config is not None:
        return _execute_events(args)
    videos = [p for p in inputs if p.suffix.lower() not in IMAGE_SUFFIXES]
    if videos and len(inputs) > 1:
        print("posed estimate: give several images, or one video", file=sys.stderr)
        return EXIT_USAGE
    backend = load_backend(args.backend)
    backend_config: BackendConfig = backend.config_model.model_validate(
        backend_settings(args.backend, args.device)
    )
    model = model_config(args, static=not videos)
    dirs = model_search_path(cli_dir=args.model_dir)
    with open_estimator(model, backend, backend_config, model_dirs=dirs) as estimator:
        if videos:
            _estimate_video(estimator, videos[0], args.fps)
        else:
            _estimate_images(estimator, inputs)
    return EXIT_OK


def read_image(path: Path) -> ImageArray:
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise CameraError(f"cannot read image {path}: missing, unreadable or not an image")
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def _estimate_images(estimator: PoseEstimator, paths: list[Path]) -> None:
    results = []
    for path in paths:
        image = read_image(path)
        poses = estimator.estimate(image, None)
        results.append(
            {
                "input": str(path),
                "width": int(image.shape[1]),
                "height": int(image.shape[0]),
                "poses": [pose.to_dict() for pose in poses],
            }
        )
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


def video_frames(path: Path, fps: float | None) -> Iterator[tuple[int, float, ImageArray]]:
    """(frame number, timestamp in seconds, RGB image) for every frame of a video file."""
    import cv2

    if not path.is_file():
        raise CameraError(f"video file not found: {path}")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise CameraError(f"cannot open video {path}: unsupported format or corrupt file")
    try:
        number = 0
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            stamp = number / fps if fps else capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            yield number, stamp, np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            number += 1
    finally:
        capture.release()


def _estimate_video(estimator: PoseEstimator, path: Path, fps: float | None) -> None:
    for number, stamp, image in video_frames(path, fps):
        poses = estimator.estimate(image, stamp)
        line = {"frame": number, "timestamp": round(stamp, 6), "poses": [p.to_dict() for p in poses]}
        sys.stdout.write(json.dumps(line) + "\n")


def _execute_events(args: argparse.Namespace) -> int:
    from posed.config.loader import load_model
    from posed.events.config import EventsFile
    from posed.events.engine import EventEngine

    if not args.events:
        print("posed estimate: --events-config goes with --events", file=sys.stderr)
        return EXIT_USAGE
    if len(args.inputs) != 1:
        print("posed estimate --events: give one video or one folder of images", file=sys.stderr)
        return EXIT_USAGE
    settings = EventsFile() if args.events_config is None else load_model(args.events_config, EventsFile)
    engine = EventEngine(settings.events, settings.cameras.estimate.zones)
    source: Path = args.inputs[0]
    frames = image_sequence(source, args.fps or 1.0) if source.is_dir() else video_frames(source, args.fps)
    backend = load_backend(args.backend)
    backend_config: BackendConfig = backend.config_model.model_validate(
        backend_settings(args.backend, args.device)
    )
    dirs = model_search_path(cli_dir=args.model_dir)
    with open_estimator(
        model_config(args, static=False), backend, backend_config, model_dirs=dirs
    ) as estimator:
        for number, stamp, image in frames:
            poses = estimator.estimate(image, stamp)
            # The analyzers run on the frame's media time, which is also the event's timestamp.
            for event in engine.update(stamp, poses, int(image.shape[1]), int(image.shape[0])):
                sys.stdout.write(json.dumps({**event.to_dict(), "frame": number}) + "\n")
    return EXIT_OK


def image_sequence(folder: Path, fps: float) -> Iterator[tuple[int, float, ImageArray]]:
    """The images of a folder in name order, as frames `1/fps` seconds apart."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise CameraError(f"no images in {folder} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    for number, path in enumerate(paths):
        yield number, number / fps, read_image(path)
