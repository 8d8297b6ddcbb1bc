"""BlazePose against Google's own expected results, on both backends, with the real models.

pose.jpg and pose_squats.mp4 come from tfjs-models' pose-detection tests; their
expected landmarks were produced by MediaPipe, for the full model only. The lite
and heavy models are checked against their own MediaPipe 0.10.14 references in
test_blazepose_mediapipe.py, as is every stage of the pipeline. OpenVINO runs in
f32 here: on CPUs with bf16 support its default precision is bf16, which moves
world landmarks past the tolerance.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from posed.backend import BackendConfig, BackendStatus, InferenceSession, Role, TensorSpec
from posed.blazepose.estimator import BlazePoseEstimator
from posed.config.schema import BlazePoseOptions, ModelConfig
from posed.errors import ClosedError
from posed.estimator import open_estimator
from posed.estimator_contract import PoseEstimator
from posed.keypoints import BLAZEPOSE_33
from posed.models.resolve import resolve_named
from posed.plugins import load_backend
from posed.types import ImageArray
from tests.conftest import CONFORMANCE, POSED, REPO

DATA = CONFORMANCE / "tfjs-pose-detection"
BACKEND_SETTINGS: dict[str, dict[str, Any]] = {
    "tflite": {"type": "tflite"},
    "openvino": {"type": "openvino", "inference_precision": "f32"},
}
# Google's tfjs tolerances for the full model.
IMAGE_TOLERANCE_PX = 11.0
WORLD_TOLERANCE_M = 0.11
VIDEO_MAX_PX = 28.0
VIDEO_MEAN_PX = 4.0


def _open(backend_name: str, model: str, models_dir: Path, **options: Any) -> PoseEstimator:
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate(BACKEND_SETTINGS[backend_name])
    model_config = ModelConfig(name=f"blazepose-{model}", blazepose=BlazePoseOptions(**options))
    return open_estimator(model_config, backend, config, model_dirs=[models_dir])


def _read_rgb(path: Path) -> ImageArray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, path
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def _squat_frames() -> Iterator[ImageArray]:
    capture = cv2.VideoCapture(str(DATA / "pose_squats.mp4"))
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                return
            yield np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()


@pytest.fixture(scope="module")
def pose_image(shared: Path) -> ImageArray:
    return _read_rgb(DATA / "pose.jpg")


@pytest.fixture(scope="module")
def expected_image() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "pose.expected.json").read_text())
    return data


@pytest.fixture(scope="module")
def expected_video() -> npt.NDArray[np.float64]:
    return np.array(json.loads((DATA / "pose_squats.full.json").read_text()), dtype=np.float64)


@pytest.fixture(scope="module")
def full_tflite(models_dir: Path) -> Iterator[PoseEstimator]:
    with _open("tflite", "full", models_dir) as estimator:
        yield estimator


@pytest.mark.parametrize("backend_name", ["tflite", "openvino"])
def test_still_image_matches_mediapipe(
    backend_name: str, models_dir: Path, pose_image: ImageArray, expected_image: dict[str, Any]
) -> None:
    with _open(backend_name, "full", models_dir, static_image_mode=True) as estimator:
        poses = estimator.estimate(pose_image, None)
    assert len(poses) == 1
    pose = poses[0]
    error = np.linalg.norm(pose.keypoints[:, :2] - np.array(expected_image["landmarks"]), axis=1)
    assert error.max() <= IMAGE_TOLERANCE_PX, f"max {error.max():.2f} px at {BLAZEPOSE_33[error.argmax()]}"
    assert pose.keypoints3d is not None
    world_error = np.abs(pose.keypoints3d - np.array(expected_image["world_landmarks_m"]))
    assert world_error.max() <= WORLD_TOLERANCE_M, f"world max {world_error.max():.3f} m"


@pytest.mark.parametrize("backend_name", ["tflite", "openvino"])
def test_video_tracking_matches_mediapipe(
    backend_name: str, models_dir: Path, expected_video: npt.NDArray[np.float64]
) -> None:
    errors = []
    with _open(backend_name, "full", models_dir) as estimator:
        for number, frame in enumerate(_squat_frames()):
            poses = estimator.estimate(frame, number / 30)
            assert len(poses) == 1, f"frame {number}"
            errors.append(np.linalg.norm(poses[0].keypoints[:, :2] - expected_video[number, :, :2], axis=1))
    assert len(errors) == len(expected_video) == 65
    error = np.array(errors)
    assert error.max() <= VIDEO_MAX_PX, f"max {error.max():.2f} px"
    assert error.mean() <= VIDEO_MEAN_PX, f"mean {error.mean():.2f} px"


def test_pose_contract(full_tflite: PoseEstimator, pose_image: ImageArray) -> None:
    assert full_tflite.model_name == "blazepose-full"
    assert full_tflite.keypoint_names == BLAZEPOSE_33
    assert set(full_tflite.devices) == {"detector", "landmarks"}
    pose = full_tflite.estimate(pose_image, None)[0]
    assert pose.names == BLAZEPOSE_33
    assert pose.keypoints.shape == (33, 3) and pose.keypoints.dtype == np.float32
    assert pose.z is not None and pose.z.shape == (33,)
    assert pose.keypoints3d is not None and pose.keypoints3d.shape == (33, 3)
    assert 0.5 <= pose.score <= 1.0
    assert ((pose.keypoints[:, 2] >= 0) & (pose.keypoints[:, 2] <= 1)).all()
    x, y, w, h = pose.box
    assert x >= 0 and y >= 0 and x + w <= 1000 and y + h <= 667 and w > 100 and h > 100
    # Hips are the world origin.
    np.testing.assert_allclose(pose.keypoints3d[[23, 24]].mean(axis=0), 0.0, atol=0.05)


@pytest.mark.parametrize("kind", ["black", "noise"])
def test_no_person_gives_no_pose(full_tflite: PoseEstimator, kind: str) -> None:
    rng = np.random.default_rng(5)
    image = (
        np.zeros((480, 640, 3), dtype=np.uint8)
        if kind == "black"
        else rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    )
    assert full_tflite.estimate(image, None) == []
    assert full_tflite.estimate(image, 100.0) == []
    assert full_tflite.estimate(image, 100.1) == []
    full_tflite.reset()


class _CountingSession:
    """Counts runs of a real session."""

    def __init__(self, session: InferenceSession) -> None:
        self._session = session
        self.runs = 0

    @property
    def inputs(self) -> tuple[TensorSpec, ...]:
        return self._session.inputs

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self._session.outputs

    @property
    def device(self) -> str:
        return self._session.device

    def run(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        self.runs += 1
        return self._session.run(*inputs)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _CountingBackend:
    """The real TFLite backend, with the sessions it opens counted per role."""

    def __init__(self) -> None:
        self._backend = load_backend("tflite")
        self.name = "tflite"
        self.config_model: type[BackendConfig] = self._backend.config_model
        self.sessions: dict[Role, _CountingSession] = {}

    def probe(self) -> BackendStatus:
        return self._backend.probe()

    def open_session(
        self, model_path: Path, config: BackendConfig, *, role: Role = "main"
    ) -> InferenceSession:
        session = _CountingSession(self._backend.open_session(model_path, config, role=role))
        self.sessions[role] = session
        return session


def test_tracking_runs_the_detector_only_to_find_a_person(
    models_dir: Path, expected_video: npt.NDArray[np.float64]
) -> None:
    backend = _CountingBackend()
    config = backend.config_model.model_validate({"type": "tflite"})
    resolved = resolve_named("blazepose-full", [models_dir])
    frames = list(zip(range(20), _squat_frames(), strict=False))
    blank = np.zeros_like(frames[0][1])
    # The person is there for 10 frames, gone for 3, then back.
    sequence = [*frames[:10], *[(None, blank)] * 3, *frames[10:]]
    with BlazePoseEstimator.open(resolved, BlazePoseOptions(), backend, config) as estimator:
        detector = backend.sessions["detector"]
        found = []
        detector_runs = []
        for step, (number, frame) in enumerate(sequence):
            before = detector.runs
            poses = estimator.estimate(frame, step / 30)
            detector_runs.append(detector.runs - before)
            found.append(len(poses))
            if number is not None and poses:
                error = np.linalg.norm(poses[0].keypoints[:, :2] - expected_video[number, :, :2], axis=1)
                assert error.max() <= VIDEO_MAX_PX, f"frame {number}: {error.max():.1f} px"
            if number is None:
                assert estimator.tracked_roi is None
    assert found == [1] * 10 + [0] * 3 + [1] * 10
    # Detector: first frame; not on the first blank (the tracked crop finds nobody), then
    # on the other two blanks, and once when the person is back.
    assert detector_runs == [1] + [0] * 9 + [0, 1, 1] + [1] + [0] * 9
    assert backend.sessions["landmarks"].runs == 10 + 1 + 10


def test_flip_horizontal_mirrors_coordinates_and_sides(models_dir: Path, pose_image: ImageArray) -> None:
    with _open("tflite", "full", models_dir, flip_horizontal=True) as estimator:
        mirrored = estimator.estimate(pose_image, None)[0]
    with _open("tflite", "full", models_dir) as estimator:
        plain = estimator.estimate(pose_image, None)[0]
    width = pose_image.shape[1]
    # Selfie view: the model sees the mirror image, where the person's left looks like a right.
    swap = [BLAZEPOSE_33.index(_other_side(name)) for name in BLAZEPOSE_33]
    dx = np.abs((width - 1 - mirrored.keypoints[swap, 0]) - plain.keypoints[:, 0])
    dy = np.abs(mirrored.keypoints[swap, 1] - plain.keypoints[:, 1])
    assert dx.max() <= 15 and dy.max() <= 15


def _other_side(name: str) -> str:
    return re.sub("left|right", lambda side: {"left": "right", "right": "left"}[side.group()], name)


def test_segmentation_mask(models_dir: Path, pose_image: ImageArray, full_tflite: PoseEstimator) -> None:
    assert isinstance(full_tflite, BlazePoseEstimator)
    full_tflite.estimate(pose_image, None)
    assert full_tflite.last_segmentation is None  # off by default
    with _open("tflite", "full", models_dir, enable_segmentation=True) as estimator:
        assert isinstance(estimator, BlazePoseEstimator)
        pose = estimator.estimate(pose_image, None)[0]
        mask = estimator.last_segmentation
        assert mask is not None and mask.shape == (667, 1000) and mask.dtype == np.float32
        assert mask.min() >= 0.0 and mask.max() <= 1.0
        torso = pose.keypoints[[11, 12, 23, 24], :2].astype(int)
        assert (mask[torso[:, 1], torso[:, 0]] > 0.5).all()
        assert mask[:40, :40].max() < 0.1 and mask[-40:, -40:].max() < 0.1
        estimator.estimate(np.zeros_like(pose_image), 1.0)
        assert estimator.last_segmentation is None


def test_closed_estimator_refuses_work(models_dir: Path, pose_image: ImageArray) -> None:
    estimator = _open("tflite", "lite", models_dir)
    estimator.close()
    estimator.close()
    with pytest.raises(ClosedError):
        estimator.estimate(pose_image, None)


def test_cli_estimate_image_and_video(
    models_dir: Path, expected_image: dict[str, Any], expected_video: npt.NDArray[np.float64]
) -> None:
    base = [*POSED, "estimate", "--model", "blazepose-full", "--model-dir", str(models_dir)]
    image = subprocess.run(
        [*base, str(DATA / "pose.jpg")], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert image.returncode == 0, image.stderr
    [result] = json.loads(image.stdout)
    assert (result["width"], result["height"]) == (1000, 667)
    [pose] = result["poses"]
    points = np.array([[kp["x"], kp["y"]] for kp in pose["keypoints"]])
    assert [kp["name"] for kp in pose["keypoints"]] == list(BLAZEPOSE_33)
    assert np.linalg.norm(points - np.array(expected_image["landmarks"]), axis=1).max() <= 11.0
    assert len(pose["keypoints3d"]) == 33

    video = subprocess.run(
        [*base, str(DATA / "pose_squats.mp4"), "--fps", "30", "--keep-phantoms", "--no-gate"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert video.returncode == 0, video.stderr
    lines = [json.loads(line) for line in video.stdout.splitlines()]
    assert [line["frame"] for line in lines] == list(range(65))
    points = np.array([[[kp["x"], kp["y"]] for kp in line["poses"][0]["keypoints"]] for line in lines])
    error = np.linalg.norm(points - expected_video[:, :, :2], axis=2)
    assert error.max() <= VIDEO_MAX_PX and error.mean() <= VIDEO_MEAN_PX, (error.max(), error.mean())
