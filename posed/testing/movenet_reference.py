"""Hold posed's MoveNet to poses made by tfjs pose-detection itself (bench/movenet_reference.py).

The reference file records, per run, the poses tfjs returned for each frame. This module
replays the same frames through posed's estimator, pairs the poses and measures how far
apart they are, in pixels of the frame and in keypoint score. Used by the conformance
tests and by bench/movenet_conformance.py, which prints the figures.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from posed.estimator_contract import PoseEstimator
from posed.types import ImageArray, Pose

Array = npt.NDArray[np.float64]
SQUAT_STEP_S = 0.2  # pose_squats.mp4's frames are 200 ms apart (5 fps), as the reference was made


@dataclass(frozen=True, slots=True)
class ReferencePose:
    score: float
    keypoints: Array  # 17 x 3: x, y (pixels), score


@dataclass(frozen=True, slots=True)
class Agreement:
    """How far posed's poses are from tfjs's over a run."""

    frames: int
    poses: int  # pairs compared
    unmatched: int  # poses one side found and the other did not
    max_px: float
    mean_px: float
    p95_px: float
    max_score: float  # largest keypoint score difference
    max_pose_score: float

    def row(self, name: str) -> str:
        return (
            f"{name:<34} {self.frames:>6} {self.poses:>6} {self.unmatched:>9} {self.max_px:>8.2f} "
            f"{self.p95_px:>8.2f} {self.mean_px:>8.3f} {self.max_score:>9.4f} {self.max_pose_score:>10.4f}"
        )


HEADER = (
    f"{'run':<34} {'frames':>6} {'poses':>6} {'unmatched':>9} {'max px':>8} {'p95 px':>8} "
    f"{'mean px':>8} {'max dscore':>9} {'dposescore':>10}"
)


def load_reference(path: Path) -> dict[str, list[list[ReferencePose]]]:
    """Run name -> frames -> poses, as tfjs returned them."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: [
            [ReferencePose(float(p["score"]), np.asarray(p["keypoints"], dtype=np.float64)) for p in frame]
            for frame in frames
        ]
        for name, frames in document["runs"].items()
    }


def read_frames(path: Path) -> list[ImageArray]:
    """RGB frames of an image or video, decoded with OpenCV as the reference generator decoded them."""
    capture = cv2.VideoCapture(str(path))
    frames: list[ImageArray] = []
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            frames.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8))
    finally:
        capture.release()
    if not frames:
        raise FileNotFoundError(f"no frames in {path}")
    return frames


def estimate_run(
    estimator: PoseEstimator, frames: Sequence[ImageArray], step_s: float | None
) -> list[list[Pose]]:
    """posed's poses per frame; `step_s` None: every frame a still image, else timestamps from 0."""
    return [
        estimator.estimate(image, None if step_s is None else i * step_s) for i, image in enumerate(frames)
    ]


def compare(reference: Sequence[Sequence[ReferencePose]], posed: Sequence[Sequence[Pose]]) -> Agreement:
    """Pair poses frame by frame (nearest mean keypoint distance) and measure the differences."""
    if len(reference) != len(posed):
        raise ValueError(f"{len(reference)} reference frames, {len(posed)} estimated")
    distances: list[Array] = []
    scores: list[float] = [0.0]
    pose_scores: list[float] = [0.0]
    unmatched = pairs = 0
    for expected, found in zip(reference, posed, strict=True):
        free = list(range(len(found)))
        for ref in expected:
            if not free:
                unmatched += 1
                continue
            gaps = [np.hypot(*(found[i].keypoints[:, :2] - ref.keypoints[:, :2]).T) for i in free]
            best = int(np.argmin([g.mean() for g in gaps]))
            match = found[free.pop(best)]
            distances.append(gaps[best])
            scores.append(float(np.abs(match.keypoints[:, 2] - ref.keypoints[:, 2]).max()))
            pose_scores.append(abs(match.score - ref.score))
            pairs += 1
        unmatched += len(free)
    flat = np.concatenate(distances) if distances else np.zeros(1)
    return Agreement(
        frames=len(reference),
        poses=pairs,
        unmatched=unmatched,
        max_px=float(flat.max()),
        mean_px=float(flat.mean()),
        p95_px=float(np.percentile(flat, 95)),
        max_score=max(scores),
        max_pose_score=max(pose_scores),
    )
