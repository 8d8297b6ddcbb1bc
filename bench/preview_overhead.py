"""What the preview page costs the pipeline: disabled, enabled with no viewer, one viewer.

The daemon's own Worker runs BlazePose on the tfjs squats video read as fast as it
can be processed (realtime: false, so every frame is estimated and fps is the
pipeline's throughput). Segments of each mode alternate in one run (A B C, then
C B A, ...) so that a change in the shared machine's load hits every mode alike.

- disabled: the workers' tap exists (it always does), no server;
- idle: the page's server runs, nobody watches (the promise: within 2 % of disabled);
- viewer: one WebSocket client takes every frame the page sends (max_fps JPEGs).

On a shared machine fps swings with the neighbours' load, so the report also gives
the ratios of adjacent segments (median over rounds), the process CPU time per
processed frame (far less load-sensitive), what the workers' tap costs per frame
with no viewer, and the CPU an idle server uses on its own.

    .venv/bin/python bench/preview_overhead.py [--rounds 10] [--seconds 4] [--modes disabled,idle,viewer]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from posed.cameras import open_camera  # noqa: E402
from posed.cameras.config import VideoCamera  # noqa: E402
from posed.config.schema import ModelConfig  # noqa: E402
from posed.daemon.worker import Worker  # noqa: E402
from posed.estimator import PoseEstimator, open_estimator  # noqa: E402
from posed.plugins import load_backend  # noqa: E402
from posed.preview.config import PreviewConfig  # noqa: E402
from posed.preview.server import PreviewServer  # noqa: E402
from posed.preview.tap import CameraView, PreviewTap  # noqa: E402
from posed.types import Frame  # noqa: E402

SHARED = REPO.parent / "shared"
VIDEO = SHARED / "conformance" / "tfjs-pose-detection" / "pose_squats.mp4"
MODES = ("disabled", "idle", "viewer")
WARMUP = 1.0  # seconds of each segment not counted


def observe_cost_ns(frame: Frame, calls: int = 1_000_000) -> float:
    """What `PreviewTap.observe` costs a worker per frame while nobody watches."""
    tap = PreviewTap()
    observe = tap.observe
    started = time.perf_counter()
    for _ in range(calls):
        observe("bench", frame, ())
    return (time.perf_counter() - started) / calls * 1e9


def idle_server_cpu_ms_per_s(seconds: float = 3.0) -> float:
    """Process CPU while the page's server runs with nothing else to do."""
    with PreviewServer(PreviewConfig(enabled=True, port=0), PreviewTap()):
        time.sleep(0.5)
        cpu0, t0 = time.process_time(), time.monotonic()
        time.sleep(seconds)
        return 1000 * (time.process_time() - cpu0) / (time.monotonic() - t0)


class Discard:
    """The publisher's place: the bench measures the pipeline up to the hand-over."""

    def publish_poses(self, camera: str, frame: Frame, poses: object, **_: object) -> None:
        pass


class KeepOpen:
    """An estimator shared by the segments: the worker's close() must not close it."""

    def __init__(self, estimator: PoseEstimator) -> None:
        self._estimator = estimator
        self.model_name = estimator.model_name
        self.devices = estimator.devices

    def __getattr__(self, name: str) -> object:
        return getattr(self._estimator, name)

    def close(self) -> None:
        pass


@contextmanager
def viewer(url: str) -> Iterator[list[int]]:
    """A WebSocket client that takes every frame sent, until the block ends."""
    import aiohttp  # noqa: PLC0415 (optional extra)

    received = [0]
    stop = threading.Event()

    async def watch() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            while not stop.is_set():
                try:
                    message = await ws.receive(timeout=0.5)
                except TimeoutError:
                    continue
                if message.type == aiohttp.WSMsgType.BINARY:
                    received[0] += 1
                elif message.type != aiohttp.WSMsgType.TEXT:
                    return

    thread = threading.Thread(target=lambda: asyncio.run(watch()), daemon=True)
    thread.start()
    try:
        yield received
    finally:
        stop.set()
        thread.join(5)


def segment(
    mode: str, camera: object, estimator: KeepOpen, seconds: float, max_fps: float
) -> dict[str, float]:
    tap = PreviewTap()
    tap.set_cameras({"bench": CameraView(zones={})})
    received = [0]
    with ExitStack() as stack:
        if mode != "disabled":
            server = stack.enter_context(
                PreviewServer(PreviewConfig(enabled=True, port=0, max_fps=max_fps), tap)
            )
            if mode == "viewer":
                received = stack.enter_context(viewer(server.url + "api/cameras/bench/ws"))
        worker = Worker(camera, estimator, Discard(), tap)  # type: ignore[arg-type]
        worker.start()
        time.sleep(WARMUP)
        frames0, cpu0, t0 = worker.processed, time.process_time(), time.monotonic()
        sent0 = received[0]
        time.sleep(seconds)
        frames, elapsed = worker.processed - frames0, time.monotonic() - t0
        cpu, sent = time.process_time() - cpu0, received[0] - sent0
        worker.stop()
        worker.join(10)
    return {
        "fps": frames / elapsed,
        "cpu_ms_per_frame": 1000 * cpu / max(frames, 1),
        "sent_fps": sent / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=10, help="Segments of each mode.")
    parser.add_argument("--seconds", type=float, default=4.0, help="Counted seconds per segment.")
    parser.add_argument("--model", default="blazepose-lite")
    parser.add_argument("--backend", default="tflite")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-fps", type=float, default=5.0)
    parser.add_argument(
        "--modes", default=",".join(MODES), help="Which modes to alternate (disabled must be one)."
    )
    args = parser.parse_args()

    backend = load_backend(args.backend)
    backend_config = backend.config_model.model_validate({"type": args.backend, "num_threads": args.threads})
    load_before = os.getloadavg()
    modes = tuple(args.modes.split(","))
    if "disabled" not in modes or not set(modes) <= set(MODES):
        parser.error(f"--modes: a comma-separated subset of {','.join(MODES)} that includes disabled")
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
    with (
        open_estimator(
            ModelConfig(name=args.model), backend, backend_config, model_dirs=[SHARED / "models"]
        ) as est,
        open_camera("bench", VideoCamera(type="video", path=VIDEO, realtime=False, loop=True)) as camera,
    ):
        camera.start()
        sample = camera.latest(10.0)
        assert sample is not None
        observe_ns = observe_cost_ns(sample)
        idle_cpu = idle_server_cpu_ms_per_s()
        shared = KeepOpen(est)
        for round_ in range(args.rounds):
            order = modes if round_ % 2 == 0 else modes[::-1]
            for mode in order:
                result = segment(mode, camera, shared, args.seconds, args.max_fps)
                results[mode].append(result)
                print(
                    f"round {round_ + 1} {mode:8s} {result['fps']:6.2f} fps  "
                    f"{result['cpu_ms_per_frame']:6.1f} ms CPU/frame  sent {result['sent_fps']:.1f}/s",
                    flush=True,
                )
    load_after = os.getloadavg()
    summary = {}
    for mode, runs in results.items():
        fps = np.array([r["fps"] for r in runs])
        summary[mode] = {
            "fps_mean": round(float(fps.mean()), 2),
            "fps_min": round(float(fps.min()), 2),
            "fps_max": round(float(fps.max()), 2),
            "cpu_ms_per_frame": round(float(np.mean([r["cpu_ms_per_frame"] for r in runs])), 2),
            "sent_fps": round(float(np.mean([r["sent_fps"] for r in runs])), 2),
        }
    base = summary["disabled"]["fps_mean"]

    def paired(mode: str, key: str) -> float:
        pairs = [r[key] / d[key] for r, d in zip(results[mode], results["disabled"], strict=True)]
        return round(float(np.median(pairs)), 4)

    report = {
        "model": args.model,
        "backend": f"{args.backend} ({args.threads} thread(s))",
        "rounds": args.rounds,
        "seconds": args.seconds,
        "max_fps": args.max_fps,
        "modes": summary,
        **{
            f"{mode}_vs_disabled": {
                "fps_of_means": round(summary[mode]["fps_mean"] / base, 4),
                "fps_median_of_pairs": paired(mode, "fps"),
                "cpu_per_frame_median_of_pairs": paired(mode, "cpu_ms_per_frame"),
            }
            for mode in modes
            if mode != "disabled"
        },
        "tap_observe_ns_no_viewer": round(observe_ns, 1),
        "idle_server_cpu_ms_per_s": round(idle_cpu, 2),
        "loadavg_before": [round(v, 2) for v in load_before],
        "loadavg_after": [round(v, 2) for v in load_after],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
