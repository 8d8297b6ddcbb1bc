"""Run `posed bench`: every backend/device x model asked for, one record each.

Within one combination raw inference and the pipeline are timed in this process
in alternating half-second blocks, on the same backend config, so that their
ratio holds even when the load of a shared machine comes and goes; latency is
measured right after, at 90% of the pipeline rate just found.
`startup_s` and `rss_mb` come from fresh processes (posed.benchmark.process).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posed.backend import (
    ROLE_DETECTOR,
    ROLE_LANDMARKS,
    ROLE_MAIN,
    Backend,
    BackendConfig,
    backend_settings,
    open_resized_session,
)
from posed.benchmark.frames import DEFAULT_CLIP_FPS, clip_fps, default_media, load_frames
from posed.benchmark.inference import RawTimer, time_model
from posed.benchmark.latency import measure_latency
from posed.benchmark.pipeline import FrameStep, PipelineTimer
from posed.benchmark.process import measure_process, write_config
from posed.benchmark.records import BenchRecord, spread
from posed.config.schema import BlazePoseOptions, ModelConfig
from posed.errors import ModelNotFoundError, PosedError
from posed.estimator import open_estimator
from posed.gate.config import MotionGateConfig
from posed.model_files import ResolvedModel
from posed.models.resolve import known_models, model_search_path, resolve_model
from posed.movenet.layout import detect_layout as detect_movenet_layout
from posed.movenet.resample import multipose_size
from posed.plugins import discover, load_backend
from posed.posenet.layout import detect_layout as detect_posenet_layout
from posed.posenet.options import PoseNetOptions
from posed.posenet.resolution import Resolution, as_height_width, auto_resolution, check_resolution
from posed.tflite_file import read_model_info
from posed.types import ImageArray

log = logging.getLogger(__name__)

# The simulated camera runs this far below the measured capacity (latest-frame-wins).
CAMERA_RATE_FRACTION = 0.9
DETECTOR_MODEL = "blazepose-detector"
# Raw inference and the pipeline are timed in alternating blocks of about this length.
INTERLEAVE_BLOCK_S = 0.5


@dataclass(frozen=True, slots=True)
class BenchOptions:
    backends: Sequence[str] = ()  # empty: every runnable backend
    device: str | None = None  # None: every device the backend sees
    models: Sequence[str] = ()  # names or .tflite paths; empty: every known model found
    model_dir: Path | None = None
    video: Path | None = None  # None: the default media of each model family
    more_videos: Sequence[Path] = ()  # measured too, after `video` (an empty room beside a person)
    gates: Sequence[bool] = (True,)  # motion gate on, off, or both (each a record)
    camera_fps: float | None = None  # frames stamped at this rate; None: each clip's own
    shared_dir: Path = Path("../shared")
    seconds: float = 5.0
    input_resolution: Resolution | None = None  # PoseNet models run at this size
    num_poses: int | None = None  # BlazePose models track this many people
    precision: str = "float"  # "int8": BlazePose's int8 variants (`posed models quantize`)


@dataclass(frozen=True, slots=True)
class Failure:
    backend: str
    device: str
    model: str
    error: str


@dataclass(frozen=True, slots=True)
class Target:
    """One backend/device, with its validated config and the raw settings it came from."""

    name: str
    backend: Backend
    device: str | None
    settings: dict[str, Any]
    config: BackendConfig


def run_bench(
    options: BenchOptions,
    on_record: Callable[[BenchRecord], None],
    on_failure: Callable[[Failure], None],
) -> None:
    """Measure every combination, reporting each record or failure as soon as it is known.

    Models are the outer loop so that each input file is decoded once; the
    BlazePose detector's record of each backend/device comes last.
    """
    dirs = model_search_path(cli_dir=options.model_dir)
    models = [model_config(m) for m in options.models] or found_models(dirs)
    models = [with_options(m, options) for m in models]
    if not models:
        raise ModelNotFoundError(
            f"no known model found in {', '.join(map(str, dirs))}; pass --model-dir or --model"
        )
    targets: list[Target] = []
    for name, backend, device in combinations(options):
        settings = backend_settings(backend, device)
        try:
            config = backend.config_model.model_validate(settings)
        except ValueError as exc:
            on_failure(Failure(name, str(device), "*", str(exc)))
            continue
        targets.append(Target(name, backend, device, settings, config))
    frames = _FrameCache(options)
    detectors: dict[str, Path] = {}  # target name -> the BlazePose detector file it ran
    with tempfile.TemporaryDirectory(prefix="posed-bench-") as scratch:
        for model, video, gate in [
            (m, v, g) for m in models for v in (options.video, *options.more_videos) for g in options.gates
        ]:
            label = model.name or str(model.path)
            for target in targets:
                try:
                    # Per backend: an int8 variant is made for one backend.
                    resolved = resolve_model(model, dirs, backend=target.name)
                except PosedError as exc:
                    on_failure(Failure(target.name, str(target.device), label, str(exc)))
                    continue
                if resolved.family == "blazepose":
                    detectors[target.name] = resolved.files["detector"]
                try:
                    record = measure_one(
                        target,
                        model,
                        resolved,
                        frames,
                        options,
                        dirs=dirs,
                        scratch=Path(scratch),
                        video=video,
                        gate=gate,
                    )
                except PosedError as exc:
                    on_failure(Failure(target.name, str(target.device), label, str(exc)))
                    continue
                on_record(record)
    for target in targets:
        detector = detectors.get(target.name)
        if detector is None:
            continue
        try:
            used, samples = time_model(
                target.backend, target.config, detector, ROLE_DETECTOR, options.seconds
            )
        except PosedError as exc:
            on_failure(Failure(target.name, str(target.device), DETECTOR_MODEL, str(exc)))
            continue
        name = DETECTOR_MODEL if options.precision == "float" else f"{DETECTOR_MODEL} {options.precision}"
        on_record(BenchRecord(target.name, used, name, raw_inference_ms=spread(samples, 50, 95)))


def measure_one(
    target: Target,
    model: ModelConfig,
    resolved: ResolvedModel,
    frames: _FrameCache,
    options: BenchOptions,
    *,
    dirs: Sequence[Path],
    scratch: Path,
    video: Path | None = None,
    gate: bool = True,
) -> BenchRecord:
    backend, config = target.backend, target.config
    role = ROLE_LANDMARKS if resolved.family == "blazepose" else ROLE_MAIN
    media, images, clip_fps = frames.get(_media_family(resolved, role), video)
    clip_fps = options.camera_fps or clip_fps
    gate_config = MotionGateConfig(enabled=gate)
    name, input_shape = resolved.name, None
    if resolved.family == "movenet":
        input_shape = _movenet_input_shape(resolved.files[role], model, images[0])
        if input_shape is not None:
            name = f"{resolved.name}@{input_shape[1]}x{input_shape[2]}"
    if resolved.family == "posenet" and model.posenet.input_resolution is not None:
        input_shape = _posenet_input_shape(resolved.files[role], model, images[0])
        name = f"{resolved.name}@{input_shape[1]}x{input_shape[2]}"
    if resolved.family == "blazepose" and model.blazepose.num_poses > 1:
        name = f"{name} num_poses={model.blazepose.num_poses}"
    with (
        open_resized_session(backend, resolved.files[role], config, input_shape, role=role) as session,
        open_estimator(model, backend, config, model_dirs=dirs) as estimator,
    ):
        step = FrameStep(estimator, backend.name, gate=gate_config)
        raw, pipeline = RawTimer(session), PipelineTimer(step, images, clip_fps)
        # Alternate short blocks so that both see the same load on a busy machine.
        blocks = max(1, round(options.seconds / INTERLEAVE_BLOCK_S))
        for _ in range(blocks):
            raw.run_for(options.seconds / blocks)
            pipeline.run_for(options.seconds / blocks)
        device = session.device
        fps, cpu_ms = pipeline.fps, pipeline.cpu_ms_per_frame
        # A fresh gate: the latency run is on the capture clock, not the clip's.
        latency_step = FrameStep(estimator, backend.name, gate=gate_config)
        latency = measure_latency(latency_step, images, fps * CAMERA_RATE_FRACTION, options.seconds)
    log.info(
        "%s %s: camera %.1f fps, %d frames, %d dropped",
        backend.name,
        resolved.name,
        latency.camera_fps,
        latency.captured,
        latency.dropped,
    )
    child_settings = dict(target.settings)
    if "cache_dir" in backend.config_model.model_fields and "cache_dir" not in child_settings:
        # A warm compiled-model cache is part of the definition of startup_s.
        child_settings["cache_dir"] = str(scratch / f"cache-{backend.name}")
    workdir = Path(tempfile.mkdtemp(dir=scratch))
    config_path = write_config(
        workdir,
        child_settings,
        model.model_dump(mode="json", exclude_defaults=True),
        media,
        options.model_dir,
    )
    figures = measure_process(config_path, options.seconds)
    return BenchRecord(
        backend=backend.name,
        device=device,
        model=name,
        video=media.name,
        gate=gate,
        gated_fraction=pipeline.gated_fraction,
        cpu_ms_per_video_s=cpu_ms * clip_fps,
        raw_inference_ms=spread(raw.samples_ms, 50, 95),
        pipeline_fps=fps,
        latency_ms=spread(latency.latencies_ms, 50, 99),
        rss_mb=figures.rss_mb,
        startup_s=figures.startup_s,
        cpu_ms_per_frame=cpu_ms,
    )


def _media_family(resolved: ResolvedModel, role: str) -> str:
    """Whose default footage a model is timed on: one person (squats) or several (vtest.avi)."""
    if resolved.family != "movenet":
        return resolved.family

    info = read_model_info(resolved.files[role])
    return "posenet" if detect_movenet_layout(info.inputs, info.outputs).kind == "multi" else "blazepose"


def _movenet_input_shape(path: Path, model: ModelConfig, image: ImageArray) -> tuple[int, ...] | None:
    """MultiPose: the input the frames are resized and padded to (the raw timer runs at it)."""
    info = read_model_info(path)
    layout = detect_movenet_layout(info.inputs, info.outputs)
    if not layout.dynamic_input:
        return None
    box = multipose_size(int(image.shape[0]), int(image.shape[1]), model.movenet.multipose_max_dimension)
    return (1, *box.padded, 3)


def model_config(model: str) -> ModelConfig:
    """Tracking mode with MediaPipe's defaults; PoseNet multi-person with tfjs's."""
    if model.endswith(".tflite"):
        # Absolute, because the startup child reads it from a config in another directory.
        return ModelConfig(path=Path(model).resolve())
    return ModelConfig(name=model)


def with_options(model: ModelConfig, options: BenchOptions) -> ModelConfig:
    """`model` with the model options given to the bench (input resolution, num_poses, precision)."""
    if options.input_resolution is not None:
        model = with_input_resolution(model, options.input_resolution)
    if options.num_poses is not None:
        model = with_num_poses(model, options.num_poses)
    if options.precision != "float":
        model = with_precision(model, options.precision)
    return model


def with_input_resolution(model: ModelConfig, resolution: Resolution) -> ModelConfig:
    """`model` with PoseNet's input_resolution set (BlazePose models ignore it)."""
    posenet = model.posenet.model_copy(update={"input_resolution": resolution})
    return model.model_copy(update={"posenet": PoseNetOptions.model_validate(posenet.model_dump())})


def with_num_poses(model: ModelConfig, num_poses: int) -> ModelConfig:
    """`model` with BlazePose's num_poses set (PoseNet models ignore it)."""
    blazepose = model.blazepose.model_dump() | {"num_poses": num_poses}
    return model.model_copy(update={"blazepose": BlazePoseOptions.model_validate(blazepose)})


def with_precision(model: ModelConfig, precision: str) -> ModelConfig:
    """`model` with model.precision set, validated (int8 needs a model name)."""
    return ModelConfig.model_validate(model.model_dump() | {"precision": precision})


def _posenet_input_shape(path: Path, model: ModelConfig, frame: ImageArray) -> tuple[int, int, int, int]:
    """The input shape the estimator will use on `frame`, for timing the raw model alike."""
    info = read_model_info(path)
    own = detect_posenet_layout(info.inputs, info.outputs, custom_ops=info.custom_ops)
    wanted = model.posenet.input_resolution
    if wanted == "auto":
        budget = model.posenet.auto_pixels or own.input_height * own.input_width
        size = auto_resolution(int(frame.shape[1]), int(frame.shape[0]), budget, own.stride)
    else:
        assert wanted is not None
        size = as_height_width(wanted)
        check_resolution(*size, own.stride)
    return (1, *size, 3)


def found_models(dirs: Sequence[Path]) -> list[ModelConfig]:
    """Every known model whose files are in the model directories."""
    found = []
    for name in known_models():
        config = ModelConfig(name=name)
        try:
            resolve_model(config, dirs)
        except ModelNotFoundError:
            continue
        found.append(config)
    return found


def combinations(options: BenchOptions) -> Iterator[tuple[str, Backend, str | None]]:
    """(backend name, backend, device) for every backend/device asked for."""
    for name in options.backends or list(discover()):
        backend = load_backend(name)
        if options.device is not None:
            yield name, backend, options.device
            continue
        status = backend.probe()
        if not status.runnable:
            if options.backends:
                raise PosedError(f"backend {name} cannot run here: {status.detail}; {status.fix}")
            log.warning("skipping backend %s: %s", name, status.detail)
            continue
        if not options.backends and not _configurable_alone(backend):
            log.warning("skipping backend %s: it needs settings; pass --backend %s --device ...", name, name)
            continue
        for device in status.devices or (None,):
            yield name, backend, device


def _configurable_alone(backend: Backend) -> bool:
    """Whether `{type: name}` is a valid config (the remote backend needs its server's address)."""
    try:
        backend.config_model.model_validate({"type": backend.name})
    except ValueError:
        return False
    return True


class _FrameCache:
    """The decoded frames of the input file in use; one file is held at a time."""

    def __init__(self, options: BenchOptions) -> None:
        self._options = options
        self._path: Path | None = None
        self._images: list[ImageArray] = []
        self._fps = DEFAULT_CLIP_FPS

    def get(self, family: str, video: Path | None) -> tuple[Path, list[ImageArray], float]:
        """The file's path, its frames, and its frame rate (the camera rate it stands for)."""
        path = video or default_media(family, self._options.shared_dir)
        if path != self._path:
            self._images = []  # drop the previous file's frames before decoding the next
            self._images = load_frames(path)
            self._fps = clip_fps(path)
            self._path = path
        return path, self._images, self._fps


def shared_dir_default() -> Path:
    return Path(os.environ.get("POSED_SHARED_DIR", "../shared"))
