"""The motion gate's figures, every ratio from one run: empty room, noise, entry, four cameras.

    .venv/bin/python bench/motion_gate.py [--models blazepose-full posenet-mobilenet-075-353x481]
        [--seconds 8] [--rounds 4] [--shared ../shared] [--model-dir DIR] [--json]

Clips (read in place, decoded into memory, never written anywhere):
  - empty room: the first 20 s of footage/sit_sofa_corner_5fps.mp4, scaled to 1280x720;
  - noisy empty room: the same with Gaussian noise (sigma 3 grey levels, fixed seed) and a
    1 Hz brightness flicker of +-5 % on the clip's own clock;
  - person: conformance/tfjs-pose-detection/pose_squats.mp4 (720x1280).
Every clip is fed through posed's own per-frame step (posed.benchmark.pipeline: the motion
gate, the estimator, the MQTT document), as fast as it goes, with frame i stamped at
i / --camera-fps seconds: the gate's keep-alive (once a second) then costs what it would on
a camera at that rate (default 15 fps, the rate of the empty room's baseline figure). The
empty room is also measured at the clip's own 5 fps, where the keep-alive is 1 frame in 5.

1. CPU per frame (process CPU, every thread) of each clip with the gate on and off; each
   condition has its own estimator, and the conditions run in interleaved blocks of
   --seconds / --rounds, so that the ratios hold on a shared machine whose load changes.
   Figures: empty_on / person_on (target <= 0.1), noisy_on / person_on (<= 0.1).
2. Entry: the whole of sit_sofa_corner_5fps.mp4 at its own size, gate on and off; the time
   of the first frame with a pose after the empty first 20 s (the person enters at 21.0 s;
   target: gate on no later than gate off, and within 0.6 s of the entry), and the frames
   with a pose during the empty 20 s.
3. Four cameras (one the person clip, three the empty room, gate on) against that one
   camera alone: CPU of one round over the four against CPU per frame alone (target <= 1.3).
4. The gate's own CPU per frame at 1280x720 (posed.gate.stage counters).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from posed.benchmark.frames import load_frames
from posed.benchmark.pipeline import FrameStep, PipelineTimer, process_cpu_seconds
from posed.benchmark.records import load_note
from posed.cli.estimate import backend_settings
from posed.config.schema import ModelConfig
from posed.estimator import open_estimator
from posed.estimator_contract import PoseEstimator
from posed.gate.config import MotionGateConfig
from posed.gate.loop import GatedEstimation
from posed.gate.stage import MotionGate
from posed.models.resolve import model_search_path
from posed.plugins import load_backend
from posed.tracking.ids import IdSource
from posed.types import Frame, ImageArray

ENTRY_CLIP = Path("footage/sit_sofa_corner_5fps.mp4")
PERSON_CLIP = Path("conformance/tfjs-pose-detection/pose_squats.mp4")
EMPTY_SECONDS = 20.0  # the empty part of the entry clip
ENTRY_AT = 21.0  # the person steps in (footage/labels.json)
CLIP_FPS = 5.0  # both clips
NOISE_SIGMA = 3.0
FLICKER = 0.05
FLICKER_HZ = 1.0


def empty_room(shared: Path) -> list[ImageArray]:
    """The entry clip's empty first 20 s, scaled to 1280x720, RGB."""
    capture = cv2.VideoCapture(str(shared / ENTRY_CLIP))
    frames: list[ImageArray] = []
    try:
        while len(frames) < round(EMPTY_SECONDS * CLIP_FPS):
            ok, bgr = capture.read()
            if not ok:
                break
            scaled = cv2.resize(bgr, (1280, 720), interpolation=cv2.INTER_LINEAR)
            frames.append(np.ascontiguousarray(cv2.cvtColor(scaled, cv2.COLOR_BGR2RGB), dtype=np.uint8))
    finally:
        capture.release()
    if not frames:
        raise SystemExit(f"cannot read {shared / ENTRY_CLIP}")
    return frames


def noisy(frames: Sequence[ImageArray], fps: float) -> list[ImageArray]:
    """Sensor noise and a 1 Hz flicker, frame i at i / fps seconds; a fixed seed."""
    rng = np.random.default_rng(3)
    out = []
    for number, image in enumerate(frames):
        gain = 1.0 + FLICKER * np.sin(2.0 * np.pi * FLICKER_HZ * number / fps)
        shaken = image.astype(np.float32) * gain + rng.normal(0.0, NOISE_SIGMA, image.shape)
        out.append(np.clip(shaken, 0, 255).astype(np.uint8))
    return out


@dataclass
class Condition:
    name: str
    timer: PipelineTimer
    step: FrameStep


MODEL_DIR: list[Path | None] = [None]  # --model-dir


def open_model(name: str, backend_name: str) -> PoseEstimator:
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate(backend_settings(backend_name, None))
    dirs = model_search_path(cli_dir=MODEL_DIR[0])
    return open_estimator(ModelConfig(name=name), backend, config, model_dirs=dirs, ids=IdSource())


def cpu_per_frame(
    model: str,
    backend: str,
    runs: Sequence[tuple[str, list[ImageArray], bool, float]],
    seconds: float,
    rounds: int,
) -> dict[str, dict[str, float]]:
    """cpu_ms_per_frame and gated_fraction per (name, frames, gate, camera fps), interleaved."""
    estimators = []
    conditions = []
    rates = {}
    try:
        for name, images, gate, fps in runs:
            estimator = open_model(model, backend)
            estimators.append(estimator)
            step = FrameStep(estimator, backend, gate=MotionGateConfig(enabled=gate), overlap=False)
            conditions.append(Condition(name, PipelineTimer(step, images, fps), step))
            rates[name] = fps
        for _ in range(rounds):
            for condition in conditions:
                condition.timer.run_for(seconds / rounds)
        return {
            c.name: {
                "camera_fps": rates[c.name],
                "cpu_ms_per_frame": c.timer.cpu_ms_per_frame,
                "cpu_ms_per_video_s": c.timer.cpu_ms_per_frame * rates[c.name],
                "gated_fraction": c.timer.gated_fraction,
                "frames": float(c.timer.frames),
            }
            for c in conditions
        }
    finally:
        for estimator in estimators:
            estimator.close()


def entry(model: str, backend: str, shared: Path) -> dict[str, dict[str, float | None]]:
    """First pose after the empty part, and poses during it, with the gate on and off."""
    out: dict[str, dict[str, float | None]] = {}
    for gate in (True, False):
        with open_model(model, backend) as estimator:
            frames = GatedEstimation(estimator, MotionGate(MotionGateConfig(enabled=gate)), overlap=False)
            capture = cv2.VideoCapture(str(shared / ENTRY_CLIP))
            first: float | None = None
            empty_poses = 0
            ran = 0
            number = 0
            try:
                while True:
                    ok, bgr = capture.read()
                    if not ok:
                        break
                    stamp = number / CLIP_FPS
                    rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
                    (done,) = frames.push(Frame(rgb, number, stamp, stamp, media_time=stamp))
                    ran += not done.gated
                    if done.poses and stamp < EMPTY_SECONDS:
                        empty_poses += 1
                    if done.poses and stamp >= EMPTY_SECONDS and first is None:
                        first = stamp
                    number += 1
            finally:
                capture.release()
        out["on" if gate else "off"] = {
            "first_pose_s": first,
            "delay_s": None if first is None else first - ENTRY_AT,
            "empty_frames_with_poses": float(empty_poses),
            "estimated_fraction": ran / max(number, 1),
        }
    return out


def four_cameras(
    model: str,
    backend: str,
    *,
    person: list[ImageArray],
    empty: list[ImageArray],
    fps: float,
    seconds: float,
    rounds: int,
) -> dict[str, float]:
    """CPU of one round over 1 person + 3 empty cameras against one person camera alone (gate on)."""
    estimators = [open_model(model, backend) for _ in range(5)]
    try:
        gate = MotionGateConfig()
        alone = PipelineTimer(FrameStep(estimators[0], backend, gate=gate, overlap=False), person, fps)
        # The empty cameras start at different points of the clip, as unrelated cameras would.
        shifted = [empty[k * len(empty) // 3 :] + empty[: k * len(empty) // 3] for k in range(3)]
        group = [
            PipelineTimer(FrameStep(estimators[1], backend, gate=gate, overlap=False), person, fps),
            *(
                PipelineTimer(FrameStep(estimators[2 + k], backend, gate=gate, overlap=False), clip, fps)
                for k, clip in enumerate(shifted)
            ),
        ]
        group_cpu, group_rounds = 0.0, 0
        for _ in range(rounds):
            alone.run_for(seconds / rounds)
            deadline = time.perf_counter() + seconds / rounds
            start = process_cpu_seconds()
            while time.perf_counter() < deadline:
                for timer in group:
                    timer.run_frames(1)
                group_rounds += 1
            group_cpu += process_cpu_seconds() - start
        per_round = group_cpu * 1000.0 / max(group_rounds, 1)
        return {
            "one_camera_cpu_ms_per_frame": alone.cpu_ms_per_frame,
            "four_cameras_cpu_ms_per_round": per_round,
            "ratio": per_round / alone.cpu_ms_per_frame if alone.cpu_ms_per_frame > 0 else float("nan"),
        }
    finally:
        for estimator in estimators:
            estimator.close()


def gate_cost(empty: list[ImageArray]) -> float:
    """The gate's own CPU ms per frame at 1280x720 (from full RGB frames, no preview)."""
    gate = MotionGate(MotionGateConfig())
    for round_ in range(5):
        for number, image in enumerate(empty):
            stamp = (round_ * len(empty) + number) / CLIP_FPS
            gate.decide(Frame(image, number, stamp, stamp, media_time=stamp), watching=False)
    counters = gate.counters()
    return counters.cpu_seconds * 1000.0 / counters.looked


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["blazepose-full", "posenet-mobilenet-075-353x481"])
    parser.add_argument("--backend", default="tflite")
    parser.add_argument(
        "--camera-fps",
        type=float,
        default=15.0,
        help="The rate of the camera the clips stand for (default: 15); the empty room is also "
        "measured at the clips' own 5 fps.",
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="Timed seconds per condition.")
    parser.add_argument("--rounds", type=int, default=4, help="Interleaved blocks per condition.")
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("POSED_SHARED_DIR", "../shared")))
    parser.add_argument("--model-dir", type=Path, default=None, help="Directory of named models.")
    parser.add_argument("--json", action="store_true", help="One JSON document on stdout.")
    args = parser.parse_args(argv)
    MODEL_DIR[0] = args.model_dir
    shared: Path = args.shared
    for needed in (ENTRY_CLIP, PERSON_CLIP):
        if not (shared / needed).is_file():
            print(f"bench/motion_gate.py: {shared / needed} is missing (--shared DIR)", file=sys.stderr)
            return 2
    print(f"start: {load_note()}", file=sys.stderr)
    fps: float = args.camera_fps
    empty = empty_room(shared)
    person = load_frames(shared / PERSON_CLIP)
    runs = [
        ("person_on", person, True, fps),
        ("person_off", person, False, fps),
        ("empty_on", empty, True, fps),
        ("empty_off", empty, False, fps),
        ("noisy_on", noisy(empty, fps), True, fps),
        (f"empty_on_{CLIP_FPS:g}fps", empty, True, CLIP_FPS),
    ]
    report: dict[str, object] = {"camera_fps": fps, "gate_cpu_ms_per_frame_1280x720": gate_cost(empty)}
    for model in args.models:
        cpu = cpu_per_frame(model, args.backend, runs, args.seconds, args.rounds)
        person_ms = cpu["person_on"]["cpu_ms_per_frame"]
        report[model] = {
            "cpu": cpu,
            "empty_on_over_person_on": cpu["empty_on"]["cpu_ms_per_frame"] / person_ms,
            "noisy_on_over_person_on": cpu["noisy_on"]["cpu_ms_per_frame"] / person_ms,
            "empty_on_over_empty_off": cpu["empty_on"]["cpu_ms_per_frame"]
            / cpu["empty_off"]["cpu_ms_per_frame"],
            "empty_on_at_clip_fps_over_person_on": cpu[f"empty_on_{CLIP_FPS:g}fps"]["cpu_ms_per_frame"]
            / person_ms,
            "entry": entry(model, args.backend, shared),
            "four_cameras": four_cameras(
                model,
                args.backend,
                person=person,
                empty=empty,
                fps=fps,
                seconds=args.seconds,
                rounds=args.rounds,
            ),
        }
        print(f"{model}: done, {load_note()}", file=sys.stderr)
    print(f"end: {load_note()}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(format_report(report))
    return 0


def format_report(report: dict[str, object]) -> str:
    lines = [
        f"camera rate {report['camera_fps']:g} fps; gate alone at 1280x720: "
        f"{report['gate_cpu_ms_per_frame_1280x720']:.3f} ms CPU per frame"
    ]
    for model, figures in report.items():
        if not isinstance(figures, dict):
            continue
        cpu = figures["cpu"]
        lines.append(f"\n{model}")
        lines.append("  run            fps  cpu ms/frame  cpu ms/s of video  gated")
        for name, row in cpu.items():
            lines.append(
                f"  {name:<13} {row['camera_fps']:4g}  {row['cpu_ms_per_frame']:12.2f}"
                f"  {row['cpu_ms_per_video_s']:17.1f}  {row['gated_fraction']:5.0%}"
            )
        lines.append(
            f"  empty room, gate on / person, gate on: {figures['empty_on_over_person_on']:.3f} (<= 0.1)"
        )
        lines.append(
            f"  noisy room, gate on / person, gate on: {figures['noisy_on_over_person_on']:.3f} (<= 0.1)"
        )
        lines.append(f"  empty room, gate on / gate off:        {figures['empty_on_over_empty_off']:.3f}")
        lines.append(
            f"  the same at the clip's {CLIP_FPS:g} fps / person: "
            f"{figures['empty_on_at_clip_fps_over_person_on']:.3f} (keep-alive: 1 frame in {CLIP_FPS:g})"
        )
        for gate, row in figures["entry"].items():
            first, delay = row["first_pose_s"], row["delay_s"]
            lines.append(
                f"  entry, gate {gate}: first pose at {'-' if first is None else f'{first:.1f} s'}"
                f" ({'-' if delay is None else f'{delay:+.1f} s'} from the entry at {ENTRY_AT} s);"
                f" empty-room frames with a pose: {row['empty_frames_with_poses']:.0f};"
                f" estimator ran on {row['estimated_fraction']:.0%} of frames"
            )
        four = figures["four_cameras"]
        lines.append(
            f"  four cameras (1 person + 3 empty) / one camera: {four['ratio']:.2f} (<= 1.3)"
            f" [{four['four_cameras_cpu_ms_per_round']:.2f} vs {four['one_camera_cpu_ms_per_frame']:.2f} ms]"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
