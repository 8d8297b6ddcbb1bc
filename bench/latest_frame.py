"""Latest-frame-wins under a slow consumer: bounded latency, counted drops.

A 30 fps video played in real time (as a camera would deliver it) feeds a
consumer whose "inference" takes longer than a frame (50 ms by default). With
a one-frame slot the consumer always gets the newest frame, so the end-to-end
latency stays about one inference long, and the frames it had no time for are
dropped and counted instead of queuing up.

    .venv/bin/python bench/latest_frame.py [--seconds 10] [--inference-ms 50] [--fps 30]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from posed.cameras import EndOfStream, open_camera  # noqa: E402
from posed.cameras.config import VideoCamera  # noqa: E402

DEFAULT_VIDEO = REPO.parent / "shared" / "media" / "vtest.avi"


def make_video(source: Path, target: Path, fps: float, frames: int) -> None:
    """Re-encode the first `frames` frames of `source` as an MJPG file that says `fps`."""
    cap = cv2.VideoCapture(str(source), cv2.CAP_FFMPEG)
    writer: cv2.VideoWriter | None = None
    for _ in range(frames):
        ok, bgr = cap.read()
        if not ok:
            break
        if writer is None:
            height, width = bgr.shape[:2]
            writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
        writer.write(bgr)
    cap.release()
    if writer is None:
        raise SystemExit(f"cannot read {source}")
    writer.release()


def percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values) * 1000.0
    return {
        "p50": round(float(np.percentile(array, 50)), 1),
        "p95": round(float(np.percentile(array, 95)), 1),
    }


def run(video: Path, seconds: float, inference_s: float) -> dict[str, object]:
    config = VideoCamera(type="video", path=video, realtime=True, loop=True)
    picked: list[float] = []  # capture -> latest() returned it
    done: list[float] = []  # capture -> its inference finished
    consumed = 0
    with open_camera("bench", config) as cam:
        cam.start()
        first = cam.latest(10.0)
        if first is None:
            raise SystemExit("the camera delivered no frame")
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            try:
                frame = cam.latest(1.0)
            except EndOfStream:
                break
            if frame is None:
                continue
            picked.append(time.monotonic() - frame.monotonic)
            time.sleep(inference_s)  # the model, busy for longer than a camera frame
            done.append(time.monotonic() - frame.monotonic)
            consumed += 1
        elapsed = time.monotonic() - start
        counters = cam.counters()
    captured = counters.captured - 1  # the warm-up frame is not part of the run
    return {
        "seconds": round(elapsed, 2),
        "captured": captured,
        "camera_fps": round(captured / elapsed, 1),
        "consumed": consumed,
        "dropped": counters.dropped,
        "dropped_pct": round(100.0 * counters.dropped / max(1, captured), 1),
        "capture_to_consumed_ms": percentiles(picked),
        "capture_to_done_ms": percentiles(done),
        "inference_ms": round(inference_s * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO, help="frames to re-encode (vtest.avi)")
    parser.add_argument("--fps", type=float, default=30.0, help="frame rate of the camera (30)")
    parser.add_argument("--inference-ms", type=float, default=50.0, help="consumer time per frame (50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the run (10)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / f"camera_{args.fps:g}fps.avi"
        make_video(args.video, video, args.fps, frames=int(args.fps * 10))
        result = run(video, args.seconds, args.inference_ms / 1000.0)
    result["fps"] = args.fps
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"{args.fps:g} fps realtime video, consumer busy {args.inference_ms:g} ms per frame, "
        f"{result['seconds']} s"
    )
    print(
        f"captured {result['captured']} ({result['camera_fps']} fps), consumed {result['consumed']}, "
        f"dropped {result['dropped']} ({result['dropped_pct']} %)"
    )
    for key, label in (
        ("capture_to_consumed_ms", "capture -> consumed"),
        ("capture_to_done_ms", "capture -> done"),
    ):
        stats = result[key]
        assert isinstance(stats, dict)
        print(f"{label:20s} p50 {stats['p50']:6.1f} ms   p95 {stats['p95']:6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
