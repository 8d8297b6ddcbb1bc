"""MoveNet's estimator end to end on a real photo: smart cropping is what lets Lightning see a
small, distant person; still images get a second, cropped look; ids and frame-size changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from posed.config.schema import ModelConfig
from posed.estimator import open_estimator
from posed.estimator_contract import PoseEstimator
from posed.movenet.config import MoveNetOptions
from posed.plugins import load_backend
from posed.testing.inputs import load_rgb
from posed.tracking.ids import IdSource
from posed.types import ImageArray
from tests.conftest import CONFORMANCE

POSE = CONFORMANCE / "tfjs-pose-detection" / "pose.jpg"
LIGHTNING = "movenet-singlepose-lightning"
# pose.jpg shrunk to a quarter (250 x 167) and placed low right in a 1920 x 1080 frame:
# a person about 1/7 of the frame high, as a camera across a room sees them.
SCALE, LEFT, TOP = 0.25, 1300, 700
BODY = [0, 5, 6, 11, 12, 13, 14, 15, 16]  # nose, shoulders, hips, knees, ankles


@pytest.fixture(scope="module")
def photo() -> ImageArray:
    return load_rgb(POSE)


@pytest.fixture(scope="module")
def distant(photo: ImageArray) -> ImageArray:
    small = cv2.resize(photo, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_AREA)
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    frame[TOP : TOP + small.shape[0], LEFT : LEFT + small.shape[1]] = small
    return frame


def _open(models_dir: Path, **options: bool) -> Iterator[PoseEstimator]:
    backend = load_backend("tflite")
    config = backend.config_model.model_validate({"type": "tflite"})
    model = ModelConfig(name=LIGHTNING, movenet=MoveNetOptions.model_validate(options))
    with open_estimator(model, backend, config, model_dirs=[models_dir], ids=IdSource()) as estimator:
        yield estimator


@pytest.fixture
def estimator(models_dir: Path) -> Iterator[PoseEstimator]:
    yield from _open(models_dir)


@pytest.fixture
def uncropped(models_dir: Path) -> Iterator[PoseEstimator]:
    yield from _open(models_dir, smart_cropping=False)


def _truth(estimator: PoseEstimator, photo: ImageArray) -> np.ndarray:
    """The body keypoints found on the full-size photo, moved to where the small copy sits."""
    (pose,) = estimator.estimate(photo, None)
    truth: np.ndarray = pose.keypoints[BODY, :2] * SCALE + np.array([LEFT, TOP])
    return truth


def test_smart_cropping_finds_a_small_distant_person_as_well_as_a_near_one(
    estimator: PoseEstimator, uncropped: PoseEstimator, photo: ImageArray, distant: ImageArray
) -> None:
    truth = _truth(estimator, photo)
    estimator.reset()
    for step in range(6):
        (cropped,) = estimator.estimate(distant, step / 10)
        plain = uncropped.estimate(distant, step / 10)
    errors = np.hypot(*(cropped.keypoints[BODY, :2] - truth).T)
    assert errors.max() < 6.0, errors  # measured 2.5 px
    assert cropped.score > 0.6  # measured 0.76
    # Seen whole, the person is 30 px high in Lightning's 192 px input.
    assert not plain or plain[0].score < cropped.score - 0.2  # measured 0.31
    if plain:
        assert np.hypot(*(plain[0].keypoints[BODY, :2] - truth).T).max() > 2 * errors.max()


def test_a_still_image_gets_a_second_cropped_look(
    estimator: PoseEstimator, uncropped: PoseEstimator, distant: ImageArray
) -> None:
    (twice,) = estimator.estimate(distant, None)
    once = uncropped.estimate(distant, None)
    assert twice.score > 0.45  # measured 0.53
    assert not once or once[0].score < twice.score - 0.1  # measured 0.31


def test_one_id_while_found_a_new_one_for_a_still_image_and_after_a_new_frame_size(
    estimator: PoseEstimator, photo: ImageArray
) -> None:
    ids = {pose.id for step in range(4) for pose in estimator.estimate(photo, step / 10)}
    assert len(ids) == 1
    (still,) = estimator.estimate(photo, None)
    assert still.id not in ids
    wide = np.zeros((photo.shape[0], photo.shape[1] + 400, 3), np.uint8)
    wide[:, 200:-200] = photo
    (moved,) = estimator.estimate(wide, 1.0)
    assert moved.id not in ids | {still.id}


def test_a_lost_person_starts_over_with_a_new_id(estimator: PoseEstimator, photo: ImageArray) -> None:
    (first,) = estimator.estimate(photo, 0.0)
    assert estimator.estimate(np.zeros(photo.shape, np.uint8), 0.1) == []  # nobody: the crop starts over
    (again,) = estimator.estimate(photo, 0.2)
    assert again.id != first.id
    # Started over from the first frame's centred square: the same pose as at the start.
    np.testing.assert_allclose(again.keypoints, first.keypoints, atol=1e-3)
