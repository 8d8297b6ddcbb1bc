"""Finding a lying person BlazePose lost, by detecting on the picture turned by +-90 degrees.

BlazePose's detector is trained on people roughly upright in the picture; a person lying
along the image's x axis is often not found at all once the tracker loses them. This
measures, on real clips, what turning the crop around where the person was last seen
(twice the last box, square) by +90 and -90 degrees and running BlazePose on it (detector
and landmarks, no tracking) would find, and what it costs: milliseconds per attempt
against a normal tracked frame. Only frames where the tracked estimator found nobody,
within `--window` seconds after a person was last seen, are tried; the daemon would do it
only while a fall is in progress.

    .venv/bin/python bench/rotated_lying.py [CLIP ...] [--window 10] [--model blazepose-full]

Default clips: the labelled footage in ../shared/footage where the fallen person is lost.
Prints one JSON line per clip.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from posed.cli.estimate import video_frames  # noqa: E402
from posed.config.schema import BlazePoseOptions, ModelConfig  # noqa: E402
from posed.estimator import open_estimator  # noqa: E402
from posed.plugins import load_backend  # noqa: E402
from posed.tracking.ids import IdSource  # noqa: E402
from posed.types import ImageArray  # noqa: E402

FOOTAGE = REPO.parent / "shared" / "footage"
MODELS = REPO.parent / "shared" / "models"
DEFAULT_CLIPS = ["fall_urfd_clideo_a.mp4", "sit_chair_then_fall_corner.mp4", "fall_selfrec_04.mp4"]
TURNS = {"+90": cv2.ROTATE_90_CLOCKWISE, "-90": cv2.ROTATE_90_COUNTERCLOCKWISE}


def square_crop(image: ImageArray, box: tuple[float, float, float, float]) -> ImageArray:
    """Twice the box's longer side, square, around its centre, clipped to the image."""
    x, y, w, h = box
    side = 2.0 * max(w, h)
    cx, cy = x + w / 2.0, y + h / 2.0
    height, width = image.shape[:2]
    x0, y0 = max(0, int(cx - side / 2)), max(0, int(cy - side / 2))
    x1, y1 = min(width, int(cx + side / 2)), min(height, int(cy + side / 2))
    return np.ascontiguousarray(image[y0:y1, x0:x1])


def measure(clip: Path, model: str, window: float) -> dict[str, object]:
    backend = load_backend("tflite")
    config = backend.config_model.model_validate({"type": "tflite", "num_threads": 1})
    tracked_model = ModelConfig(name=model)
    static_model = ModelConfig(name=model, blazepose=BlazePoseOptions(static_image_mode=True))
    lost = found = 0
    normal: list[float] = []
    attempts: list[float] = []
    found_at: list[float] = []
    with (
        open_estimator(tracked_model, backend, config, model_dirs=[MODELS], ids=IdSource()) as tracked,
        open_estimator(static_model, backend, config, model_dirs=[MODELS], ids=IdSource()) as still,
    ):
        last: tuple[float, tuple[float, float, float, float]] | None = None
        for _, stamp, image in video_frames(clip, None):
            started = time.perf_counter()
            poses = tracked.estimate(image, stamp)
            normal.append(time.perf_counter() - started)
            if poses:
                last = (stamp, poses[0].box)
                continue
            if last is None or stamp - last[0] > window:
                continue
            lost += 1
            crop = square_crop(image, last[1])
            started = time.perf_counter()
            hit = any(
                still.estimate(np.asarray(cv2.rotate(crop, turn), dtype=np.uint8)) for turn in TURNS.values()
            )
            attempts.append(time.perf_counter() - started)
            if hit:
                found += 1
                found_at.append(round(stamp, 2))
    return {
        "clip": clip.name,
        "frames": len(normal),
        "lost_frames_tried": lost,
        "found_by_turning": found,
        "found_at_s": found_at[:20],
        "tracked_frame_ms_median": round(1000 * float(np.median(normal)), 1),
        "turned_attempt_ms_median": round(1000 * float(np.median(attempts)), 1) if attempts else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("clips", nargs="*", type=Path, default=[FOOTAGE / c for c in DEFAULT_CLIPS])
    parser.add_argument("--window", type=float, default=10.0, help="Seconds after last seen to keep trying.")
    parser.add_argument("--model", default="blazepose-full")
    args = parser.parse_args()
    missing = [str(c) for c in args.clips if not c.is_file()]
    if missing:
        raise SystemExit(f"clips not found: {', '.join(missing)} (the footage lives in {FOOTAGE})")
    for clip in args.clips:
        print(json.dumps(measure(clip, args.model, args.window)), flush=True)


if __name__ == "__main__":
    main()
