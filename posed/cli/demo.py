"""`posed demo`: see posed work right after the install, with nothing to configure.

    posed demo [--video PATH | --camera] [--seconds N] [--out FILE] [--mirror URL]

It fetches the model into the user's store if it is missing (as `posed models
fetch` does: same sources, checksums and progress), downloads the sample clip
once into the cache (posed.samples), plays it in real time through the daemon's
worker, prints one summary line per second, writes the frames with the poses
drawn on them into a video file, and publishes over MQTT when a broker answers.
"""

from __future__ import annotations

import argparse
import functools
import os
import socket
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from posed.cameras import open_camera
from posed.cameras.config import V4L2Camera, VideoCamera
from posed.cameras.media_files import video_info
from posed.cli.annotate import VideoOut
from posed.cli.demo_events import DEFAULT_EXERCISES, DemoEvents, demo_events_config
from posed.cli.demo_preview import DemoPreview, start_preview
from posed.cli.demo_session import DemoSink, run_session
from posed.cli.models import report_fetch
from posed.cli.run import add_no_gate_argument
from posed.config.schema import ModelConfig
from posed.daemon.publishing import events_published
from posed.daemon.signals import SignalEvents
from posed.daemon.worker import Worker
from posed.errors import EXIT_FAILURE, EXIT_OK, ModelNotFoundError, PosedError
from posed.estimator import open_estimator
from posed.events.stage import EventStage
from posed.gate.config import MotionGateConfig
from posed.models.fetch import Fetcher, FetchFailedError
from posed.models.registry import packaged_registry
from posed.models.resolve import model_search_path, resolve_named
from posed.models.sources import SourceOptions
from posed.models.store import store_dir
from posed.mqtt.config import MqttConfig
from posed.mqtt.publisher import Publisher
from posed.people.config import PeopleConfig
from posed.people.stage import PeopleStage
from posed.plugins import load_backend
from posed.samples import (
    SQUATS,
    SampleUnavailableError,
    cached_sample,
    ensure_sample,
    sample_frame,
    samples_dir,
)

if TYPE_CHECKING:
    from posed.cameras.config import CameraConfig
    from posed.estimator import PoseEstimator
    from posed.mqtt.events_discovery import CameraEvents
    from posed.mqtt.publisher import Publisher
    from posed.samples import SampleUnavailableError

DEMO_MODEL = "blazepose-full"
DEVICE_ID = "demo"
CAMERA_NAME = "demo"
CAMERA_FPS = 15  # asked of a webcam: smooth enough, and BlazePose full keeps up on a laptop
WORKER_STOP_WAIT = 5.0  # seconds for the frame in flight to finish after Ctrl-C or --seconds
VIDEO_MAX_S = 120.0  # seconds of drawn video kept, so a demo left running does not fill the disk
PREVIEW_PORT = 8090  # the daemon's preview port by default
_V4L2_SYSFS = Path("/sys/class/video4linux")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--video",
        type=Path,
        default=None,
        metavar="PATH",
        help="Play your own video file (default: the sample clip).",
    )
    source.add_argument(
        "--camera", action="store_true", help="Use the first V4L2 (USB) camera instead of a clip."
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        metavar="N",
        help="Stop after N seconds (default: run until Ctrl-C; the clip loops).",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("posed-demo.mp4"),
        metavar="FILE",
        help=f"Video file with the poses drawn, up to its first {VIDEO_MAX_S:g} s.",
    )
    parser.add_argument(
        "--preview-port",
        type=int,
        default=PREVIEW_PORT,
        metavar="PORT",
        help="Port of the live preview page on 127.0.0.1; any free one if it is taken.",
    )
    parser.add_argument("--no-preview", action="store_true", help="Do not serve the live preview page.")
    parser.add_argument("--model", default=DEMO_MODEL, help="Model to run; fetched if it is missing.")
    parser.add_argument(
        "--backend", default="tflite", help="Backend entry-point name (see `posed backends`)."
    )
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="Model store (default: the usual search path's first)."
    )
    parser.add_argument(
        "--mirror",
        default=None,
        metavar="URL",
        help="Get the model files and the sample clip from this web directory instead of their official "
        "URLs (default: $POSED_MODEL_MIRROR, else the official URLs).",
    )
    parser.add_argument(
        "--broker",
        default="127.0.0.1:1883",
        metavar="HOST:PORT",
        help="MQTT broker to publish to if it answers.",
    )
    parser.add_argument(
        "--exercise",
        action="append",
        default=None,
        metavar="NAME",
        help="Exercise whose reps to count (repeatable): squat, push_up, jumping_jack, bicep_curl, "
        "lunge (default: squat). Falls and gestures are always watched for.",
    )
    parser.add_argument("--no-events", action="store_true", help="Do not run the event analyzers.")
    add_no_gate_argument(parser)


def execute(args: argparse.Namespace) -> int:
    if args.seconds is not None and args.seconds <= 0:
        raise PosedError("--seconds must be positive")
    if not args.out.parent.is_dir():
        raise PosedError(f"--out {args.out}: the folder {args.out.parent} does not exist")
    mirror = args.mirror or os.environ.get("POSED_MODEL_MIRROR") or None
    host, port = parse_broker(args.broker)
    events_config = None if args.no_events else demo_events_config(args.exercise or DEFAULT_EXERCISES)
    camera_config, label, fps = choose_source(args, mirror)
    ensure_model(args.model, args.model_dir, mirror)
    until = f"for {args.seconds:g} s" if args.seconds is not None else "until Ctrl-C"
    say(f"playing {label} {until}")
    estimator = open_demo_estimator(args.model, args.backend, args.model_dir)
    worker: Worker | None = None
    preview: DemoPreview | None = None
    try:
        # Closed in reverse: camera, video file, preview page, publisher (`offline` last).
        with ExitStack() as stack:
            published = None if events_config is None else events_published(events_config, ())
            publisher = connect_broker(host, port, estimator.model_name, args.backend, published)
            if publisher is not None:
                stack.callback(publisher.close)
            if not args.no_preview:
                preview, note = start_preview(CAMERA_NAME, args.preview_port)
                say(note)
                if preview is not None:
                    stack.callback(preview.close)
            out = stack.enter_context(VideoOut(args.out, fps))
            on_status = publisher.publish_camera_status if publisher is not None else None
            camera = open_camera(CAMERA_NAME, camera_config, on_status=on_status, previews=not args.no_gate)
            stack.callback(camera.close)
            sink = DemoSink(
                out, publisher, tap=preview.tap if preview else None, max_out=round(fps * VIDEO_MAX_S)
            )
            events = DemoEvents(publisher, say)
            stage = None
            if events_config is not None:
                stage = EventStage(events, tap=preview.tap if preview else None)
                stage.configure(events_config, {CAMERA_NAME: {}})
            people = PeopleStage()  # phantoms dropped, as in the daemon
            people.configure(PeopleConfig(), [CAMERA_NAME])
            worker = Worker(  # owns the estimator from here
                camera,
                estimator,
                sink,
                events=stage,
                people=people,
                gate=MotionGateConfig(enabled=not args.no_gate),
                in_progress=None if stage is None else functools.partial(stage.watching, CAMERA_NAME),
            )
            shown = preview

            def refresh() -> None:
                if shown is not None and worker is not None:
                    shown.refresh(
                        {CAMERA_NAME: worker},
                        {CAMERA_NAME: camera},
                        publisher,
                        device_id=DEVICE_ID,
                        backend=args.backend,
                    )

            try:
                with SignalEvents() as signals:  # Ctrl-C and SIGTERM stop it cleanly
                    outcome = run_session(
                        camera,
                        worker,
                        sink,
                        seconds=args.seconds,
                        mqtt_state=lambda: mqtt_state(publisher),
                        say=say,
                        stop_requested=lambda: signals.stop_requested,
                        wait=signals.wait,
                        every_second=refresh,
                    )
            finally:
                worker.stop()
                worker.join(WORKER_STOP_WAIT)
                worker.close()
    finally:
        if worker is None:
            estimator.close()
    frames = sink.total_frames
    say(
        f"stopped after {outcome.elapsed:.1f} s ({outcome.ended}): {frames} frames, "
        f"{sink.frames_with_people} with a person"
    )
    if events_config is not None:
        say(events.summary())
    if out.frames:
        cut = f", the first {VIDEO_MAX_S:g} s" if out.frames < frames else ""
        say(f"the poses, drawn: {args.out.resolve()} ({out.frames} frames at {out.fps:g} fps{cut})")
    else:
        args.out.unlink(missing_ok=True)
    if outcome.ended.startswith("error"):
        return EXIT_FAILURE
    return EXIT_OK


def say(line: str) -> None:
    print(line, flush=True)


def parse_broker(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":") if ":" in text else (text, ":", "1883")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise PosedError(f"--broker {text!r}: expected HOST:PORT, e.g. 127.0.0.1:1883")
    return host, int(port)


# -- the input -------------------------------------------------------------------------------------


def choose_source(args: argparse.Namespace, mirror: str | None) -> tuple[CameraConfig, str, float]:
    """(camera config, what to call it, frame rate of the drawn video)."""
    if args.camera:
        device = first_v4l2_camera()
        return V4L2Camera(type="v4l2", device=str(device), fps=CAMERA_FPS), f"camera {device}", CAMERA_FPS
    if args.video is not None:
        path: Path = args.video
    else:
        path = sample_clip(mirror)
        sample_frame(path)  # a still of it beside the clip, to try `posed estimate --draw` on an image
    if not path.is_file():
        raise PosedError(f"--video {path}: no such file")
    fps, _ = video_info(path)
    return VideoCamera(type="video", path=path, realtime=True, loop=True), str(path), fps


def sample_clip(mirror: str | None) -> Path:
    found = cached_sample()
    if found is not None:
        return found
    say(f"downloading the sample clip {SQUATS.filename} ({SQUATS.size / 1e6:.1f} MB, {SQUATS.licence}), once")
    try:
        return ensure_sample(mirror=mirror)
    except SampleUnavailableError as exc:
        raise PosedError(sample_missing_message(exc)) from exc


def sample_missing_message(exc: SampleUnavailableError) -> str:
    """Why the sample clip is not at hand, and every way to go on without the network."""
    ways = (
        f"Get it from your own web directory with --mirror URL (or $POSED_MODEL_MIRROR); "
        f"or copy {SQUATS.filename} into {samples_dir()}/ yourself; "
        "or play a video you have: posed demo --video PATH (or --camera)"
    )
    why = str(exc).rstrip()
    if not why.endswith((".", "?", "!")):
        why += "."
    return f"{'offline: ' if exc.offline else ''}{why} {ways}"


def first_v4l2_camera(sysfs: Path = _V4L2_SYSFS, dev: Path = Path("/dev")) -> Path:
    """The lowest-numbered /dev/videoN that captures video (index 0 of its device, not a metadata node)."""
    nodes = sorted(sysfs.glob("video*"), key=lambda p: int(p.name[5:]) if p.name[5:].isdigit() else 1 << 30)
    for node in nodes:
        index = node / "index"
        try:
            if index.read_text().strip() != "0":
                continue
        except OSError:
            pass
        device = dev / node.name
        if device.exists():
            return device
    raise PosedError("--camera: no V4L2 camera found (no /dev/video*); plug one in, or use --video PATH")


# -- the model -------------------------------------------------------------------------------------


def ensure_model(name: str, model_dir: Path | None, mirror: str | None) -> None:
    """Fetch `name` into the store, as `posed models fetch NAME` would, if it is not installed."""
    try:
        resolve_named(name, model_search_path(cli_dir=model_dir))
        return
    except ModelNotFoundError:
        if name not in packaged_registry().models:
            raise
    store = store_dir(cli_dir=model_dir)
    say(f"{name} is not installed: fetching it into {store} (as `posed models fetch {name}` does)")
    with Fetcher(store, SourceOptions(mirror=mirror)) as fetcher:
        try:
            results = fetcher.fetch_model(name)
        except FetchFailedError as exc:
            raise PosedError(
                f"{exc}. Without the network: posed demo --mirror URL (your own web directory of the "
                f"files under their upstream names), or `posed models fetch {name} --from DIR` first"
            ) from exc
        report_fetch(name, results, fetcher.store)


def open_demo_estimator(model: str, backend_name: str, model_dir: Path | None) -> PoseEstimator:
    backend = load_backend(backend_name)
    status = backend.probe()
    if not status.runnable:
        raise PosedError(f"backend {backend_name!r} cannot run here: {status.detail}; see `posed backends`")
    config = backend.config_model.model_validate({"type": backend_name})
    source = {"path": Path(model)} if model.endswith(".tflite") else {"name": model}
    return open_estimator(
        ModelConfig(**source), backend, config, model_dirs=model_search_path(cli_dir=model_dir)
    )


# -- MQTT ------------------------------------------------------------------------------------------


def broker_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def connect_broker(
    host: str, port: int, model: str, backend: str, events: CameraEvents | None = None
) -> Publisher | None:
    """A started publisher when a broker answers on host:port; None (and how to get one) otherwise.

    `events`: what the demo camera's analyzers publish (None: no event topics)."""
    if not broker_answers(host, port):
        say(
            f"no MQTT broker answers on {host}:{port}: running without publishing. To publish, start one "
            "(e.g. `sudo apt install mosquitto mosquitto-clients`) or pass --broker HOST:PORT, "
            "and run posed demo again"
        )
        return None
    config = MqttConfig(host=host, port=port)
    publisher = Publisher(
        config,
        DEVICE_ID,
        cameras=[CAMERA_NAME],
        model=model,
        backend=backend,
        events=None if events is None else {CAMERA_NAME: events},
    )
    publisher.start()
    topic = f"{config.topic_prefix}/{DEVICE_ID}/#"
    say(
        f"publishing to the MQTT broker on {host}:{port}; "
        f"watch: mosquitto_sub -h {host} -p {port} -t '{topic}' -v"
    )
    return publisher


def mqtt_state(publisher: Publisher | None) -> str:
    if publisher is None:
        return "off"
    return "connected" if publisher.connected else "disconnected"
