"""Several cameras on one machine: per-camera fps, starvation, latency; per-camera vs serialized inference.

    .venv/bin/python bench/many_cameras.py [--cameras 4] [--camera-fps 15] [--seconds 8] [--rounds 3]
        [--backend tflite] [--model blazepose-full] [--setting num_threads=1]

Each camera is a paced feeder thread that stamps in-memory frames of the model
family's default media at --camera-fps into posed's own latest-frame-wins
FrameSlot; each has the daemon's real posed.daemon.worker.Worker with its own
estimator (BlazePose tracking state is per stream), and a sink that builds and
encodes the MQTT pose document as the publisher does. Two variants alternate,
round by round, on the same estimators:
  - per-camera: what the daemon does today, every camera's inference runs
    whenever its worker is ready (the backends' threads then compete);
  - serialized: one inference at a time across all cameras (a process-wide lock
    around estimate()), which is what one interpreter shared by all cameras
    would give, at a quarter of the model memory.
Printed per variant (medians over rounds): each camera's processed fps, the
fairness min/max of those, latency (capture stamp to published) p50/p99 over
all cameras, the share of frames dropped, and process CPU ms per frame.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from posed.backend import backend_settings
from posed.benchmark.frames import default_media, load_frames, replay_order
from posed.benchmark.pipeline import process_cpu_seconds
from posed.benchmark.records import load_note
from posed.cameras.slot import FrameSlot
from posed.config.schema import ModelConfig
from posed.daemon.worker import Worker
from posed.estimator import open_estimator
from posed.estimator_contract import PoseEstimator
from posed.models.resolve import resolve_model
from posed.mqtt import payloads
from posed.plugins import load_backend
from posed.types import Frame, ImageArray, Pose

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))


class PacedCamera:
    """A camera at a fixed rate: the newest frame waits in a FrameSlot (older ones are dropped)."""

    def __init__(self, name: str, images: Sequence[ImageArray], fps: float, offset: int) -> None:
        self.name = name
        self._images = images
        self._period = 1.0 / fps
        self._order: Iterator[int] = replay_order(len(images))
        for _ in range(offset):  # cameras see different frames
            next(self._order)
        self._slot = FrameSlot()
        self._run = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, name=f"camera-{name}", daemon=True)
        self.captured = 0
        self._number = 0

    def start(self) -> None:
        self._thread.start()

    def latest(self, timeout: float) -> Frame | None:
        return self._slot.take(timeout)

    def running(self, on: bool) -> None:
        if on:
            self.captured = 0
            self._run.set()
        else:
            self._run.clear()

    @property
    def dropped(self) -> int:
        return self._slot.dropped

    def close(self) -> None:
        self._stop.set()
        self._run.set()
        self._thread.join(5.0)
        self._slot.close()

    def _feed(self) -> None:
        due = time.monotonic()
        while not self._stop.is_set():
            self._run.wait()
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            due = max(due + self._period, time.monotonic() - self._period)
            image = self._images[next(self._order)]
            self._slot.put(Frame(image, self._number, time.monotonic(), time.time()), wait=False)
            self._number += 1
            self.captured += 1


class EncodingSink:
    """Builds and encodes the pose document like the publisher; records each frame's latency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {}

    def publish_poses(
        self,
        camera: str,
        frame: Frame,
        poses: Sequence[Pose],
        *,
        inference_ms: float,
        width: int,
        height: int,
    ) -> None:
        document = payloads.poses(
            device_id="bench",
            camera=camera,
            frame_number=frame.number,
            captured_at=frame.wall,
            latency_ms=(time.time() - frame.wall) * 1000.0,
            inference_ms=inference_ms,
            model="bench",
            backend="bench",
            width=width,
            height=height,
            people=poses,
        )
        payloads.encode(document)
        latency = (time.monotonic() - frame.monotonic) * 1000.0
        with self._lock:
            self.latencies.setdefault(camera, []).append(latency)


class Serialized:
    """An estimator whose estimate() takes a lock shared by all cameras."""

    def __init__(self, inner: PoseEstimator, lock: threading.Lock, enabled: threading.Event) -> None:
        self._inner, self._lock, self._enabled = inner, lock, enabled

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def estimate(self, image: ImageArray, timestamp: float | None = None) -> list[Pose]:
        if not self._enabled.is_set():
            return self._inner.estimate(image, timestamp)
        with self._lock:
            return self._inner.estimate(image, timestamp)


def run(args: argparse.Namespace) -> None:
    backend = load_backend(args.backend)
    settings = backend_settings(backend, None)
    settings.update(dict(item.split("=", 1) for item in args.setting))
    config = backend.config_model.model_validate(settings)
    model = ModelConfig(name=args.model)
    family = resolve_model(model, [args.model_dir]).family
    images = load_frames(default_media(family, SHARED))
    serialize = threading.Event()
    lock = threading.Lock()
    results: dict[str, list[dict[str, float]]] = {"per-camera": [], "serialized": []}
    cameras: list[PacedCamera] = []
    workers: list[Worker] = []
    sink = EncodingSink()
    try:
        for index in range(args.cameras):
            # The worker owns its estimator and closes it (Worker.close).
            estimator = open_estimator(model, backend, config, model_dirs=[args.model_dir])
            camera = PacedCamera(f"cam{index}", images, args.camera_fps, offset=index * 7)
            cameras.append(camera)
            workers.append(Worker(camera, Serialized(estimator, lock, serialize), sink))  # type: ignore[arg-type]
            camera.start()
            workers[-1].start()
        for number in range(args.rounds * 2):
            variant = ("per-camera", "serialized")[(number + number // 2) % 2]
            (serialize.set if variant == "serialized" else serialize.clear)()
            results[variant].append(_one_round(cameras, sink, args.seconds))
            print(
                f"round {number // 2 + 1} {variant:10} {_line(results[variant][-1])}  ({load_note()})",
                flush=True,
            )
    finally:
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.join(30.0)
            worker.close()
        for camera in cameras:
            camera.close()
    print()
    for variant, rounds in results.items():
        medians = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        print(f"{variant:10} {_line(medians)}")


def _one_round(cameras: Sequence[PacedCamera], sink: EncodingSink, seconds: float) -> dict[str, float]:
    time.sleep(0.3)  # let the previous variant's frames drain
    with sink._lock:
        sink.latencies.clear()
    dropped = [c.dropped for c in cameras]
    cpu = process_cpu_seconds()
    start = time.monotonic()
    for camera in cameras:
        camera.running(True)
    time.sleep(seconds)
    for camera in cameras:
        camera.running(False)
    elapsed = time.monotonic() - start
    cpu = process_cpu_seconds() - cpu
    with sink._lock:
        latencies = {name: list(values) for name, values in sink.latencies.items()}
    fps = [len(latencies.get(c.name, [])) / elapsed for c in cameras]
    everything = np.concatenate([np.asarray(v) for v in latencies.values()]) if latencies else np.zeros(1)
    captured = sum(c.captured for c in cameras)
    dropped_now = sum(c.dropped - d for c, d in zip(cameras, dropped, strict=True))
    frames = sum(len(v) for v in latencies.values())
    figures = {f"fps_{c.name}": f for c, f in zip(cameras, fps, strict=True)}
    return figures | {
        "fps_total": sum(fps),
        "fairness": min(fps) / max(fps) if max(fps) > 0 else 0.0,
        "latency_p50": float(np.percentile(everything, 50)),
        "latency_p99": float(np.percentile(everything, 99)),
        "dropped_share": dropped_now / captured if captured else 0.0,
        "cpu_ms_per_frame": cpu * 1000.0 / frames if frames else 0.0,
    }


def _line(figures: dict[str, float]) -> str:
    per_camera = " ".join(f"{v:5.1f}" for k, v in figures.items() if k.startswith("fps_cam"))
    return (
        f"fps [{per_camera}] total {figures['fps_total']:5.1f} min/max {figures['fairness']:.2f} "
        f"latency p50/p99 {figures['latency_p50']:6.1f}/{figures['latency_p99']:6.1f} ms "
        f"dropped {figures['dropped_share'] * 100:4.1f}% cpu {figures['cpu_ms_per_frame']:5.1f} ms/frame"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--camera-fps", type=float, default=15.0)
    parser.add_argument("--seconds", type=float, default=8.0, help="Per variant per round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", default="tflite")
    parser.add_argument("--model", default="blazepose-full")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Backend setting, e.g. num_threads=1.",
    )
    parser.add_argument("--model-dir", type=Path, default=SHARED / "models")
    args = parser.parse_args()
    print(f"start: {load_note()}", flush=True)
    run(args)
    print(f"end: {load_note()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
