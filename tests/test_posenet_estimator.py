"""The PoseNet estimator: options, coordinates of the input image, lifecycle, and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from posed.backend import Backend, BackendConfig
from posed.cameras.media_files import read_image
from posed.config.schema import ModelConfig
from posed.errors import ClosedError
from posed.estimator import open_estimator
from posed.keypoints import COCO_17
from posed.plugins import load_backend
from posed.posenet.estimator import PoseNetEstimator
from posed.posenet.options import PoseNetOptions
from tests.conftest import CONFORMANCE, MODELS, POSED, REPO

MODEL = "posenet-mobilenet-075-353x481"
IMAGE = CONFORMANCE / "coral-posenet" / "test_couple.jpg"


@pytest.fixture(scope="module")
def couple(shared: Path) -> np.ndarray:
    return read_image(IMAGE)


@pytest.fixture(scope="module")
def tflite() -> tuple[Backend, BackendConfig]:
    backend = load_backend("tflite")
    return backend, backend.config_model.model_validate({"type": "tflite"})


def estimate(
    tflite: tuple[Backend, BackendConfig], image: np.ndarray, **options: object
) -> list[tuple[float, np.ndarray, tuple[float, float, float, float]]]:
    model = ModelConfig(name=MODEL, posenet=PoseNetOptions.model_validate(options))
    with open_estimator(model, *tflite, model_dirs=[MODELS]) as est:
        return [(p.score, p.keypoints.copy(), p.box) for p in est.estimate(image, None)]


def test_protocol_and_lifecycle(
    private_cache: Path, tflite: tuple[Backend, BackendConfig], couple: np.ndarray
) -> None:
    model = ModelConfig(name=MODEL)
    est = open_estimator(model, *tflite, model_dirs=[MODELS])
    assert isinstance(est, PoseNetEstimator)
    with est:
        assert est.model_name == MODEL
        assert est.keypoint_names == COCO_17
        assert est.devices == {"main": "cpu:xnnpack"}
        poses = est.estimate(couple, None)
        assert len(poses) == 2  # the default options (threshold 0.5, radius 20) find the couple
        for pose in poses:
            assert pose.names == COCO_17 and pose.keypoints.shape == (17, 3)
            x, y, w, h = pose.box
            kps = pose.keypoints
            assert x == pytest.approx(kps[:, 0].min()) and x + w == pytest.approx(kps[:, 0].max())
            assert y == pytest.approx(kps[:, 1].min()) and y + h == pytest.approx(kps[:, 1].max())
            assert pose.score == pytest.approx(float(kps[:, 2].mean()), abs=1e-5)  # no overlap here
        est.reset()
        assert len(est.estimate(couple, 1.0)) == 2  # no state: video frames decode alike
    with pytest.raises(ClosedError):
        est.estimate(couple, None)
    assert list(
        (private_cache / "posed" / "corrected").glob("posenet_mobilenet_v1_075_353_481_quant.*.tflite")
    )


def test_keypoints_are_in_input_image_pixels(
    private_cache: Path, tflite: tuple[Backend, BackendConfig], couple: np.ndarray
) -> None:
    """The same poses, whether the image comes at full size or pre-resized to the model input."""
    full = estimate(tflite, couple)
    small = cv2.resize(couple, (481, 353), interpolation=cv2.INTER_NEAREST_EXACT)
    resized = estimate(tflite, small)
    scale = np.array([1920 / 481, 1278 / 353])
    assert len(full) == len(resized) == 2
    for (_, big, _), (_, little, _) in zip(full, resized, strict=True):
        np.testing.assert_allclose(big[:, :2], little[:, :2] * scale, rtol=1e-5, atol=1e-3)
    heights = [kps[:, 1].max() - kps[:, 1].min() for _, kps, _ in full]
    assert min(heights) > 500  # two people standing, seen whole, in a 1278 px tall photo


def test_flip_horizontal(
    private_cache: Path, tflite: tuple[Backend, BackendConfig], couple: np.ndarray
) -> None:
    plain = estimate(tflite, couple)
    flipped = estimate(tflite, couple, flip_horizontal=True)
    width = couple.shape[1]
    assert len(plain) == len(flipped)
    for (score, kps, _), (flip_score, flip_kps, box) in zip(plain, flipped, strict=True):
        assert flip_score == score
        np.testing.assert_allclose(flip_kps[:, 0], width - 1 - kps[:, 0], atol=1e-3)
        np.testing.assert_array_equal(flip_kps[:, 1:], kps[:, 1:])
        assert box[0] == pytest.approx(width - 1 - kps[:, 0].max(), abs=1e-3)


def test_single_person(
    private_cache: Path, tflite: tuple[Backend, BackendConfig], couple: np.ndarray
) -> None:
    multi = estimate(tflite, couple)
    (single,) = estimate(tflite, couple, decoding="single", score_threshold=0.99)  # no threshold applies
    score, kps, _ = single
    assert score == pytest.approx(float(kps[:, 2].mean()), abs=1e-5)
    # Each keypoint is the strongest anywhere, so it belongs to one of the two people.
    for k in range(17):
        if kps[k, 2] > 0.9:
            distance = min(np.hypot(*(m[k, :2] - kps[k, :2])) for _, m, _ in multi)
            assert distance < 40, COCO_17[k]


def test_max_poses_threshold_and_radius(
    private_cache: Path, tflite: tuple[Backend, BackendConfig], couple: np.ndarray
) -> None:
    assert len(estimate(tflite, couple, max_pose_detections=1)) == 1
    assert len(estimate(tflite, couple, score_threshold=0.95)) == 0
    loose = estimate(tflite, couple, score_threshold=0.05, nms_radius=4, max_pose_detections=20)
    assert len(loose) > 2  # weak duplicates survive a small radius and a low threshold


def test_cli_estimate_posenet(shared: Path, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    result = subprocess.run(
        [*POSED, "estimate", "--model", "posenet-mobilenet-075-481x641", "--model-dir", str(MODELS),
         "--max-poses", "10", "--score-threshold", "0.2", "--nms-radius", "10", str(IMAGE)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(result.stdout)
    assert (entry["width"], entry["height"]) == (1920, 1278)
    poses = entry["poses"]
    assert len(poses) == 2  # as Coral's reference for these settings
    assert [kp["name"] for kp in poses[0]["keypoints"]] == list(COCO_17)
    assert poses[0]["score"] >= poses[1]["score"] > 0.7
    assert all(0 <= kp["x"] < 1920 and 0 <= kp["y"] < 1278 for kp in poses[0]["keypoints"])
