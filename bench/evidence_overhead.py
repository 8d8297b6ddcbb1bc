"""What snapshots and clips cost: the inference thread's share, the recorder's, and memory.

    .venv/bin/python bench/evidence_overhead.py [--video ../shared/footage/fall_selfrec_02.mp4]

1. `observe()` on the worker's thread (decides, queues) against the rendering and JPEG
   encoding the recorder's thread does for it: the inference loop pays only the first.
2. Each camera's clip ring at the default settings (3 s + 3 s at 5 fps, 640 px wide,
   quality 70) filled from the video's frames: the bytes it holds.
3. The store's in-memory index over 1,000 events (tracemalloc).
One run; medians over the repetitions. No footage is written anywhere but a temp folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import cv2
import numpy as np

from posed.evidence.config import ClipsConfig, SnapshotsConfig
from posed.evidence.privacy import encode_jpeg, render
from posed.evidence.recorder import CLIP_MAX_WIDTH, CLIP_QUALITY, EvidenceRecorder, ring_frames
from posed.evidence.ring import EncodedFrame, JpegRing
from posed.evidence.store import EvidenceStore, StoreLimits
from posed.keypoints import BLAZEPOSE_33
from posed.types import Frame, Pose

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = REPO.parent / "shared" / "footage" / "fall_selfrec_02.mp4"
FALL = {"schema_version": 1, "type": "fall", "person": 1, "timestamp": 0.0, "state": "detected", "zone": None}


class NullSink:
    def publish_snapshot(self, camera: str, kind: str, jpeg: bytes) -> None:
        pass


def frames(video: Path, limit: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(video))
    out = []
    while len(out) < limit:
        ok, image = capture.read()
        if not ok:
            break
        out.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    capture.release()
    if not out:
        raise SystemExit(f"cannot read {video}")
    return out


def a_pose(width: int, height: int) -> Pose:
    rng = np.random.default_rng(1)
    keypoints = np.column_stack(
        [rng.uniform(0.3, 0.7, 33) * width, rng.uniform(0.2, 0.9, 33) * height, np.full(33, 0.9)]
    ).astype(np.float32)
    return Pose(0.9, keypoints, BLAZEPOSE_33, (0.3 * width, 0.2 * height, 0.4 * width, 0.7 * height), id=1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    images = frames(args.video, 200)
    height, width = images[0].shape[:2]
    pose = a_pose(width, height)
    print(f"video {args.video.name}: {len(images)} frames of {width}x{height}")

    with tempfile.TemporaryDirectory() as tmp:
        config = SnapshotsConfig(enabled=True, directory=Path(tmp), min_free_megabytes=0)
        with EvidenceRecorder(NullSink(), config, {"cam": "full"}) as recorder:
            calls = []
            for n in range(args.repeat):
                frame = Frame(images[n % len(images)], n, time.monotonic(), time.time())
                started = time.perf_counter()
                recorder.observe("cam", frame, [pose], [FALL])
                calls.append((time.perf_counter() - started) * 1000)
                time.sleep(0.05)
        on_worker = statistics.median(calls)
        for privacy in ("full", "blur", "skeleton"):
            made = []
            for n in range(args.repeat):
                started = time.perf_counter()
                encode_jpeg(render(images[n % len(images)], [pose], privacy, max_width=1280), 85)
                made.append((time.perf_counter() - started) * 1000)
            cost = statistics.median(made)
            print(f"snapshot ({privacy}): {cost:.2f} ms on the recorder's thread")
        print(f"observe() with a fall event: {on_worker:.3f} ms on the worker's thread")

    clips = ClipsConfig(enabled=True)
    ring = JpegRing(ring_frames(SnapshotsConfig(clips=clips)), round(clips.max_buffer_megabytes * 1e6))
    sizes = []
    for n, image in enumerate(images):
        jpeg = encode_jpeg(render(image, [pose], "full", max_width=CLIP_MAX_WIDTH), CLIP_QUALITY)
        sizes.append(len(jpeg))
        ring.push(EncodedFrame(float(n), jpeg))
    print(
        f"clip ring per camera: {len(ring)} frames, {ring.bytes / 1e6:.2f} MB "
        f"(frame median {statistics.median(sizes) / 1e3:.1f} kB; bound {ring.max_bytes / 1e6:.0f} MB)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        limits = StoreLimits(max_count=1000, max_bytes=10**12, max_age=1e9, min_free_bytes=0)
        with EvidenceStore(Path(tmp), limits) as store:
            event = {**FALL, "snapshot": {"id": "0" * 30, "path": f"{tmp}/{'0' * 30}.jpg"}}
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(1000):
                store.put(store.new_id("cam", "fall", time.time()), event, {"jpg": b"j"})
            used = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
        print(f"store index: {used / 1e3:.0f} kB for 1,000 events ({used / 1000:.0f} bytes each)")


if __name__ == "__main__":
    main()
