"""posed's BlazePose logic fed MediaPipe 0.10.14's per-frame streams must give MediaPipe's outputs exactly.

Promise guarded: everything posed computes around the two networks in
tracking mode (crop, tensor decoding, heatmap refinement, projection, the
one-euro and visibility filters, the auxiliary landmarks' next ROI, and the
estimator's chaining of them with its clock) is MediaPipe's arithmetic bit for
bit. Tracking feeds each frame's result into the next crop, so a single ulp
anywhere grows into pixels over the squat video; this test names the stage and
frame where the first ulp appears, independently of the network runtime.

How: bench/mediapipe_video_streams.py runs MediaPipe's own graph on the squat
video in its venv (bench/setup_mediapipe_env.sh, built by .ci/setup; set
$POSED_MEDIAPIPE_PYTHON to use another) and records, per frame, the ROI, the
crop's pixels, the landmark model's raw tensors and every intermediate
landmark stream. Each posed stage is then given MediaPipe's inputs, and the
whole estimator is run with sessions that answer MediaPipe's tensors.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from posed.backend import TensorSpec
from posed.blazepose.detector import Detection
from posed.blazepose.estimator import BlazePoseEstimator
from posed.blazepose.landmarks import (
    CROP_BORDER,
    INPUT_SIZE,
    decode_landmarks,
    project,
    project_world,
    refine_from_heatmap,
)
from posed.blazepose.roi import NormRect, crop_geometry, remove_letterbox
from posed.blazepose.tracker import Tracker
from posed.blazepose.warp import PerspectiveSampler, crop_to_image_matrix, rect_corners
from posed.config.schema import BlazePoseOptions
from posed.types import ImageArray
from tests.conftest import CONFORMANCE, REPO

MODELS = ("lite", "full", "heavy")
VIDEO = CONFORMANCE / "tfjs-pose-detection/pose_squats.mp4"
MEDIAPIPE_PYTHON = Path(os.environ.get("POSED_MEDIAPIPE_PYTHON", REPO / "bench/.venv-mediapipe/bin/python"))
F32 = np.float32
Streams = dict[str, Any]


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Streams]:
    if not MEDIAPIPE_PYTHON.exists():
        pytest.fail(f"MediaPipe 0.10.14's venv is missing ({MEDIAPIPE_PYTHON}): run .ci/setup")
    folder = tmp_path_factory.mktemp("mediapipe_streams")
    script = str(REPO / "bench/mediapipe_video_streams.py")
    # One MediaPipe process per model, side by side (each runs its networks on one thread).
    runs = {
        model: subprocess.Popen(
            [
                str(MEDIAPIPE_PYTHON),
                script,
                "--model",
                model,
                "--video",
                str(VIDEO),
                "--out",
                str(folder / model),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for model in MODELS
    }
    out: dict[str, Streams] = {}
    for model, run in runs.items():
        stdout, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stdout[-2000:] + stderr[-4000:]
        with np.load(folder / f"{model}.npz") as data:
            out[model] = dict(data)
    return out


def _frames() -> Iterator[ImageArray]:
    capture = cv2.VideoCapture(str(VIDEO))
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                return
            yield np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()


def _rect(values: np.ndarray) -> NormRect:
    return NormRect(*(float(v) for v in values))


def _fields(rect: NormRect) -> np.ndarray:
    return np.array([rect.x_center, rect.y_center, rect.width, rect.height, rect.rotation], dtype=np.float32)


def _same(stage: str, frame: int, mine: np.ndarray, theirs: np.ndarray) -> None:
    mine, theirs = np.asarray(mine), np.asarray(theirs)
    differ = np.argwhere(mine != theirs)
    assert differ.size == 0, (
        f"frame {frame}, {stage}: {len(differ)} values differ, first at {differ[0].tolist()}: "
        f"{mine[tuple(differ[0])]!r} != {theirs[tuple(differ[0])]!r}"
    )


@pytest.mark.parametrize("model", MODELS)
def test_each_stage_fed_mediapipes_inputs_gives_its_outputs(model: str, streams: dict[str, Streams]) -> None:
    mp = streams[model]
    width, height = (int(v) for v in mp["size_wh"])
    tracker = Tracker(smooth_landmarks=True)
    sampler = PerspectiveSampler(INPUT_SIZE, INPUT_SIZE)
    pixels = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)
    count = 0
    for i, image in enumerate(_frames()):
        rect = _rect(mp["roi"][i])
        geometry = crop_geometry(rect, width, height, INPUT_SIZE, INPUT_SIZE)
        corners = rect_corners(
            geometry.center_x, geometry.center_y, geometry.width, geometry.height, geometry.rotation
        )
        sampler.build_maps(crop_to_image_matrix(corners, INPUT_SIZE, INPUT_SIZE))
        sampler.sample(image, pixels, border=CROP_BORDER)
        _same("crop pixels", i, pixels, mp["landmark_pixels"][i])

        raw = decode_landmarks(mp["landmark_tensor"][i].reshape(39, 5))
        _same("decoded landmarks", i, raw, mp["raw_crop"][i])
        refined = mp["raw_crop"][i].copy()
        refine_from_heatmap(refined, mp["heatmap_tensor"][i])
        _same("heatmap refinement", i, refined, mp["refined_crop"][i])

        projected = mp["refined_crop"][i][:35].copy()
        remove_letterbox(projected[:, :3], geometry.padding)
        project(projected, rect)
        unfiltered = np.concatenate([mp["unfiltered_landmarks"][i], mp["unfiltered_aux"][i]])
        _same("letterbox removal and projection", i, projected, unfiltered)
        world = project_world(mp["world_tensor"][i].reshape(39, 3)[:33], rect)
        _same("world projection", i, world, mp["unfiltered_world"][i])

        # The legacy solution's clock: 33 333 us per frame, the first at 33 333 us.
        smoothed, smoothed_world = tracker.update(
            unfiltered.copy(), mp["unfiltered_world"][i].copy(), (i + 1) * 33_333_000, width, height
        )
        _same("auxiliary landmark smoothing", i, smoothed[33:, :3], mp["aux_landmarks"][i][:, :3])
        _same("landmark smoothing", i, smoothed[:33, :3], mp["landmarks"][i][:, :3])
        _same("visibility smoothing", i, smoothed[:33, 3], mp["landmarks"][i][:, 3])
        _same("world smoothing", i, smoothed_world, mp["world"][i])
        assert tracker.rect is not None
        _same("next ROI", i, _fields(tracker.rect), mp["next_roi"][i])
        count += 1
    assert count == mp["roi"].shape[0] == 65


class _Answers:
    """A landmark session that answers MediaPipe's tensors for the current frame and keeps its input."""

    inputs = (TensorSpec("input", (1, INPUT_SIZE, INPUT_SIZE, 3), "float32"),)
    outputs = (
        TensorSpec("landmarks", (1, 195), "float32"),
        TensorSpec("presence", (1, 1), "float32"),
        TensorSpec("segmentation", (1, INPUT_SIZE, INPUT_SIZE, 1), "float32"),
        TensorSpec("heatmap", (1, 64, 64, 39), "float32"),
        TensorSpec("world", (1, 117), "float32"),
    )
    device = "CPU"

    def __init__(self, mp: Streams) -> None:
        self._mp = mp
        self.frame = 0
        self.seen: list[np.ndarray] = []

    def run(self, *inputs: np.ndarray) -> tuple[np.ndarray, ...]:
        self.seen.append(inputs[0][0].copy())
        i, mp = self.frame, self._mp
        return (
            mp["landmark_tensor"][i][None],
            np.array([[mp["presence_tensor"][i]]], dtype=np.float32),
            np.zeros((1, INPUT_SIZE, INPUT_SIZE, 1), dtype=np.float32),
            mp["heatmap_tensor"][i][None],
            mp["world_tensor"][i][None],
        )

    def close(self) -> None:
        pass


class _Detector(_Answers):
    inputs = (TensorSpec("input", (1, 224, 224, 3), "float32"),)
    outputs = (  # type: ignore[assignment]
        TensorSpec("boxes", (1, 2254, 12), "float32"),
        TensorSpec("scores", (1, 2254, 1), "float32"),
    )


@pytest.mark.parametrize("model", MODELS)
def test_tracking_fed_mediapipes_tensors_gives_its_landmarks_exactly(
    model: str, streams: dict[str, Streams]
) -> None:
    mp = streams[model]
    width, height = (int(v) for v in mp["size_wh"])
    landmarks = _Answers(mp)
    estimator = BlazePoseEstimator("replay", _Detector(mp), landmarks, BlazePoseOptions())  # type: ignore[arg-type]
    # The detector's decoding is checked on pose.jpg (test_blazepose_mediapipe); here it answers
    # MediaPipe's detection, the only one of the video (frame 0).
    detections = iter([mp["detection"][0]])

    def detect(image: ImageArray) -> Detection:
        found = next(detections)
        return Detection(float(found[0]), tuple(float(v) for v in found[1:5]), found[5:13].reshape(4, 2))  # type: ignore[arg-type]

    estimator._detector.detect = detect  # type: ignore[method-assign]
    scale = np.array([width, height], dtype=np.float32)
    with estimator:
        for i, image in enumerate(_frames()):
            landmarks.frame = i
            [pose] = estimator.estimate(image, (i + 1) * 0.033333)
            assert (estimator.last_trace.detection is not None) == bool(mp["ran_detector"][i])
            assert estimator.last_trace.rect is not None
            _same("ROI", i, _fields(estimator.last_trace.rect), mp["roi"][i])
            pixels = np.rint(landmarks.seen[-1].astype(np.float64) * 255.0).astype(np.uint8)
            _same("crop pixels", i, pixels, mp["landmark_pixels"][i])
            # posed's pixels are the float32 products of the normalised landmarks and the image size.
            _same("landmarks (px)", i, pose.keypoints[:, :2], mp["landmarks"][i][:, :2] * scale)
            _same("visibility", i, pose.keypoints[:, 2], mp["landmarks"][i][:, 3])
            assert pose.keypoints3d is not None
            _same("world landmarks", i, pose.keypoints3d, mp["world"][i])
