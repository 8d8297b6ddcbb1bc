"""posed against MediaPipe's two Python pose APIs, on the same frames, in the same run.

Targets: on ../shared/conformance/tfjs-pose-detection/pose_squats.mp4,
    posed with TFLite   >= 1.5x MediaPipe's fps for full,
    posed with OpenVINO >= 2x MediaPipe's fps for full and >= 3x for heavy.

and posed's CPU ms per frame <= 0.8x MediaPipe Tasks' for lite/full/heavy;
posed full >= 1.5x (TFLite) and >= 2x (OpenVINO) the faster MediaPipe API.

Setup, once: two separate venvs, since MediaPipe 0.10.14 (legacy `Pose`) needs
NumPy 1.x and its pip release line cannot sit next to mediapipe 1.2.2 (Tasks):
    bash bench/setup_mediapipe_env.sh
Run, from the repository root, with posed's venv:
    .venv/bin/python bench/compare_mediapipe.py [--seconds 10] [--rounds 2] [--json]

How it measures. Every engine runs in a fresh worker process on the same decoded
RGB frames (the 65 frames of the video, decoded by posed.benchmark.frames and
replayed forwards then backwards, so tracking is never cut). A worker first runs
one pass over all frames (warm-up, and it counts the frames in which a pose was
found, so that an engine that lost the person cannot pass for fast), then feeds
frames back to back for --seconds and reports frames per second, and the CPU
time of the whole process per frame (all threads), which shows how much of the
two cores each engine uses for its speed.
  - MediaPipe: mp.solutions.pose.Pose(model_complexity=0/1/2 for lite/full/heavy,
    static_image_mode=False, smooth_landmarks=True), `process(frame)`. The
    solution stamps frames 33.333 ms apart by itself. Its result is left as the
    protobuf it returns: no payload is built, which favours MediaPipe.
  - MediaPipe Tasks (mediapipe==1.2.2): vision.PoseLandmarker in VIDEO mode
    with the bundles in ../shared/peers/mediapipe-tasks/pose_landmarker_<model>.task,
    num_poses=1, `detect_for_video(image, t)` with t stepping 33 ms (as the
    legacy solution stamps its frames). Its result is left as returned too.
  - posed: posed.benchmark's per-frame step (estimate, tracking and smoothing on,
    then Pose.to_dict and json.dumps as the MQTT publisher does) with the tflite
    backend (XNNPACK) and the openvino backend (CPU), defaults otherwise.
--openvino-setting KEY=VALUE adds a key to posed's openvino backend config
(e.g. inference_precision=bf16 on CPUs with AVX512-BF16 or AMX); --tflite-setting
does the same for the tflite backend (e.g. num_threads=1).
--floor adds the CPU floor: each backend's landmark model alone (posed bench's
raw timer, synthetic input, no crop, no decoding) at the default thread count
and at num_threads=1, CPU ms per run. Every posed frame in tracking mode runs
that model once, so posed's CPU per frame cannot go below it; when the floor is
above 0.8x Tasks' CPU per frame, the CPU target is out of reach for the float
model whatever posed's own code does.
Workers run round-robin (both MediaPipe APIs, posed TFLite, posed OpenVINO for each model),
--rounds times; each figure is the median over rounds, so load that comes and goes
on a shared machine hits every engine alike. The load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
VIDEO = SHARED / "conformance/tfjs-pose-detection/pose_squats.mp4"
MEDIAPIPE_PYTHON = REPO / "bench/.venv-mediapipe/bin/python"
TASKS_PYTHON = REPO / "bench/.venv-mediapipe-tasks/bin/python"
TASKS_BUNDLES = SHARED / "peers/mediapipe-tasks"
COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}
PEERS = ("mediapipe", "tasks")
ENGINES = (*PEERS, "tflite", "openvino")
# The landmark model alone, at the default thread count and at one thread (--floor).
FLOORS = ("tflite:model", "tflite:model-1t", "openvino:model", "openvino:model-1t")
LABELS = {
    "mediapipe": "MP 0.10.14",
    "tasks": "MP Tasks",
    "tflite": "posed TFLite",
    "openvino": "posed OpenVINO",
    "tflite:model": "TFLite model alone",
    "tflite:model-1t": "1 thread",
    "openvino:model": "OpenVINO model alone",
    "openvino:model-1t": "1 thread",
}
# (engine, model, minimum ratio to the faster MediaPipe API's fps on the same model)
TARGETS = (("tflite", "full", 1.5), ("openvino", "full", 2.0))
# posed's CPU ms per frame at most this fraction of MediaPipe Tasks', every model and backend.
CPU_TARGET = 0.8
# The legacy solution stamps its frames this far apart; the Tasks worker does the same.
FRAME_STEP_MS = 33


def _frames(video: Path) -> list[Any]:
    # posed's own decoding and replay order, for both engines; posed.benchmark.frames
    # needs only NumPy and OpenCV, so it imports in MediaPipe's venv too.
    sys.path.insert(0, str(REPO))
    from posed.benchmark.frames import load_frames

    return load_frames(video)


def _timed(process: Any, frames: list[Any], seconds: float) -> dict[str, Any]:
    """One pass over all frames (counting frames with a pose), then `seconds` of replay."""
    from posed.benchmark.frames import replay_order

    found = sum(bool(process(frame)) for frame in frames)
    order = replay_order(len(frames))
    done = 0
    cpu_start = time.process_time()
    start = time.perf_counter()
    while True:
        process(frames[next(order)])
        done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    cpu_ms = (time.process_time() - cpu_start) * 1000.0 / done
    return {
        "fps": done / elapsed,
        "cpu_ms_per_frame": cpu_ms,
        "frames": done,
        "found": found,
        "of": len(frames),
    }


def mediapipe_worker(model: str, video: Path, seconds: float) -> dict[str, Any]:
    import mediapipe as mp

    frames = _frames(video)
    with mp.solutions.pose.Pose(
        static_image_mode=False,
        model_complexity=COMPLEXITY[model],
        smooth_landmarks=True,
        enable_segmentation=False,
    ) as pose:
        return _timed(lambda frame: pose.process(frame).pose_landmarks is not None, frames, seconds)


def tasks_worker(model: str, video: Path, seconds: float, bundles: Path) -> dict[str, Any]:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    frames = _frames(video)
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(bundles / f"pose_landmarker_{model}.task")),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=1,
    )
    stamp = 0

    with vision.PoseLandmarker.create_from_options(options) as landmarker:

        def process(frame: Any) -> bool:
            nonlocal stamp
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=frame)
            result = landmarker.detect_for_video(image, stamp)
            stamp += FRAME_STEP_MS
            return bool(result.pose_landmarks)

        return _timed(process, frames, seconds)


def posed_worker(
    backend_name: str, model: str, video: Path, seconds: float, model_dir: Path, *, extra: dict[str, str]
) -> dict[str, Any]:
    from posed.benchmark.pipeline import FrameStep
    from posed.cli.estimate import backend_settings
    from posed.config.schema import ModelConfig
    from posed.estimator import open_estimator
    from posed.plugins import load_backend
    from posed.types import Frame

    frames = _frames(video)
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate({**backend_settings(backend_name, None), **extra})
    model_config = ModelConfig(name=f"blazepose-{model}")
    with open_estimator(model_config, backend, config, model_dirs=[model_dir]) as estimator:
        step = FrameStep(estimator, backend_name)
        number = 0

        def process(image: Any) -> bool:
            nonlocal number
            step(Frame(image, number, time.monotonic(), time.time()))
            number += 1
            return step.people > 0

        result = _timed(process, frames, seconds)
    result["devices"] = dict(estimator.devices)
    return result


def model_worker(engine: str, model: str, seconds: float, model_dir: Path) -> dict[str, Any]:
    """The landmark model's session alone: CPU ms and wall ms per run (the floor of a tracked frame)."""
    from posed.backend import ROLE_LANDMARKS
    from posed.benchmark.inference import RawTimer
    from posed.cli.estimate import backend_settings
    from posed.plugins import load_backend

    backend_name, variant = engine.split(":")
    backend = load_backend(backend_name)
    settings = backend_settings(backend_name, None) | ({"num_threads": 1} if variant == "model-1t" else {})
    config = backend.config_model.model_validate(settings)
    path = model_dir / f"pose_landmark_{model}.tflite"
    with backend.open_session(path, config, role=ROLE_LANDMARKS) as session:
        timer = RawTimer(session)
        cpu_start = time.process_time()
        start = time.perf_counter()
        timer.run_for(seconds)
        elapsed = time.perf_counter() - start
        runs = len(timer.samples_ms)
        cpu_ms = (time.process_time() - cpu_start) * 1000.0 / runs
    return {"fps": runs / elapsed, "cpu_ms_per_frame": cpu_ms, "frames": runs, "found": runs, "of": runs}


def run_worker(engine: str, model: str, args: argparse.Namespace) -> dict[str, Any]:
    pythons = {"mediapipe": args.mediapipe_python, "tasks": args.tasks_python}
    python = str(pythons.get(engine, sys.executable))
    command = [python, __file__, "--worker", engine, "--model", model, "--seconds", str(args.seconds)]
    command += ["--video", str(args.video), "--model-dir", str(args.model_dir)]
    command += ["--tasks-bundles", str(args.tasks_bundles)]
    if engine == "openvino":
        command += [f"--openvino-setting={setting}" for setting in args.openvino_setting]
    if engine == "tflite":
        command += [f"--tflite-setting={setting}" for setting in args.tflite_setting]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO)
    if result.returncode != 0:
        raise SystemExit(f"{engine} {model} worker failed:\n{result.stderr[-3000:]}")
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def compare(args: argparse.Namespace) -> int:
    from posed.benchmark.records import load_note  # here: workers in MediaPipe's venv never need it

    for python in (args.mediapipe_python, args.tasks_python):
        if not Path(python).exists():
            print(f"{python} is missing: run `bash bench/setup_mediapipe_env.sh`", file=sys.stderr)
            return 2
    print(f"start: {load_note()}", flush=True)
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    engines = (*ENGINES, *FLOORS) if args.floor else ENGINES
    for round_number in range(args.rounds):
        for model in args.models:
            for engine in engines:
                measured = run_worker(engine, model, args)
                runs.setdefault((engine, model), []).append(measured)
                print(
                    f"round {round_number + 1} {engine:9} {model:5} {measured['fps']:6.1f} fps, "
                    f"{measured['cpu_ms_per_frame']:5.1f} CPU ms/frame "
                    f"(pose in {measured['found']}/{measured['of']} frames; {load_note()})",
                    flush=True,
                )
    fps = {key: statistics.median(r["fps"] for r in value) for key, value in runs.items()}
    cpu = {key: statistics.median(r["cpu_ms_per_frame"] for r in value) for key, value in runs.items()}
    print(f"end: {load_note()}\n")
    print("median fps / CPU ms per frame; posed's ratios are to the faster MediaPipe API's fps")
    print(f"{'model':6}" + "".join(f"{LABELS[e]:>24}" for e in ENGINES))
    for model in args.models:
        peer = max(fps[(p, model)] for p in PEERS)
        cells = []
        for engine in ENGINES:
            cell = f"{fps[(engine, model)]:.1f} / {cpu[(engine, model)]:.1f}"
            if engine not in PEERS:
                cell += f" ({fps[(engine, model)] / peer:.2f}x)"
            cells.append(f"{cell:>24}")
        print(f"{model:6}" + "".join(cells))
    print()
    verdicts = []
    for engine, model, minimum in TARGETS:
        if model not in args.models:
            continue
        ratio = fps[(engine, model)] / max(fps[(p, model)] for p in PEERS)
        verdicts.append(_verdict("fps", engine, model, ratio, target=minimum, met=ratio >= minimum))
    for model in args.models:
        for engine in ENGINES[len(PEERS) :]:
            ratio = cpu[(engine, model)] / cpu[("tasks", model)]
            verdicts.append(_verdict("cpu", engine, model, ratio, target=CPU_TARGET, met=ratio <= CPU_TARGET))
    if args.floor:
        _print_floors(args.models, cpu)
    for verdict in verdicts:
        what = "fps / faster MediaPipe's" if verdict["kind"] == "fps" else "CPU ms / MediaPipe Tasks'"
        bound = ">=" if verdict["kind"] == "fps" else "<="
        met = "met" if verdict["met"] else "NOT met"
        print(
            f"posed {verdict['engine']} {verdict['model']}: {what} {verdict['ratio']:.2f} "
            f"(target {bound} {verdict['target']}): {met}"
        )
    if args.json:
        fps_table = {f"{engine}/{model}": round(value, 2) for (engine, model), value in fps.items()}
        cpu_table = {f"{engine}/{model}": round(value, 3) for (engine, model), value in cpu.items()}
        print(json.dumps({"fps": fps_table, "cpu_ms_per_frame": cpu_table, "targets": verdicts}))
    return 0


def _print_floors(models: list[str], cpu: dict[tuple[str, str], float]) -> None:
    """The model-alone CPU per run, and its share of Tasks' CPU per frame (the target is <= 0.8)."""
    print("CPU floor: the landmark model alone, CPU ms per run (its ratio to Tasks' CPU ms per frame)")
    print(f"{'model':6}" + "".join(f"{LABELS[e]:>24}" for e in FLOORS))
    for model in models:
        tasks = cpu[("tasks", model)]
        cells = [f"{cpu[(e, model)]:.1f} ({cpu[(e, model)] / tasks:.2f}x)" for e in FLOORS]
        print(f"{model:6}" + "".join(f"{cell:>24}" for cell in cells))
    print()


def _verdict(kind: str, engine: str, model: str, ratio: float, *, target: float, met: bool) -> dict[str, Any]:
    return {"kind": kind, "engine": engine, "model": model, "ratio": round(ratio, 3), "target": target} | {
        "met": met
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="Timed replay per worker (default 10).")
    parser.add_argument("--rounds", type=int, default=2, help="Round-robin rounds; figures are medians.")
    parser.add_argument("--models", nargs="+", default=list(COMPLEXITY), choices=list(COMPLEXITY))
    parser.add_argument("--video", type=Path, default=VIDEO)
    parser.add_argument("--model-dir", type=Path, default=SHARED / "models")
    parser.add_argument("--mediapipe-python", type=Path, default=MEDIAPIPE_PYTHON, help="0.10.14 venv.")
    parser.add_argument("--tasks-python", type=Path, default=TASKS_PYTHON, help="mediapipe 1.2.2 venv.")
    parser.add_argument("--tasks-bundles", type=Path, default=TASKS_BUNDLES)
    parser.add_argument("--json", action="store_true", help="Also print the figures as one JSON object.")
    parser.add_argument(
        "--openvino-setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Extra openvino backend setting, e.g. inference_precision=bf16 (repeatable).",
    )
    parser.add_argument(
        "--tflite-setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Extra tflite backend setting, e.g. num_threads=1 (repeatable).",
    )
    parser.add_argument(
        "--floor", action="store_true", help="Also time each landmark model alone (the CPU floor)."
    )
    parser.add_argument("--worker", choices=(*ENGINES, *FLOORS), help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=list(COMPLEXITY), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is None:
        return compare(args)
    if args.worker == "mediapipe":
        result = mediapipe_worker(args.model, args.video, args.seconds)
    elif args.worker == "tasks":
        result = tasks_worker(args.model, args.video, args.seconds, args.tasks_bundles)
    elif args.worker in FLOORS:
        result = model_worker(args.worker, args.model, args.seconds, args.model_dir)
    else:
        settings = args.openvino_setting if args.worker == "openvino" else args.tflite_setting
        extra = dict(setting.split("=", 1) for setting in settings)
        result = posed_worker(args.worker, args.model, args.video, args.seconds, args.model_dir, extra=extra)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
