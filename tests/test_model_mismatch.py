"""A model whose tensors do not fit the pose model is refused with a clear message, on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from posed.blazepose.estimator import BlazePoseEstimator
from posed.config.schema import BlazePoseOptions
from posed.errors import ModelError
from posed.model_files import ResolvedModel
from posed.plugins import load_backend
from posed.posenet.estimator import PoseNetEstimator
from posed.posenet.options import PoseNetOptions

BACKENDS = ["tflite", "openvino"]


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_blazepose_refuses_swapped_detector_and_landmark_files(backend_name: str, models_dir: Path) -> None:
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate({"type": backend_name})
    swapped = ResolvedModel(
        "swapped",
        "blazepose",
        {
            "detector": models_dir / "pose_landmark_lite.tflite",
            "landmarks": models_dir / "pose_detection.tflite",
        },
    )
    with pytest.raises(ModelError) as caught:
        BlazePoseEstimator.open(swapped, BlazePoseOptions(), backend, config)
    message = str(caught.value)
    assert "not a BlazePose detector" in message and "(1, 224, 224, 3)" in message
    assert "(1, 256, 256, 3)" in message  # says what it got


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_blazepose_refuses_a_posenet_file_as_landmark_model(backend_name: str, models_dir: Path) -> None:
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate({"type": backend_name})
    posenet = models_dir / "posenet_mobilenet_v1_075_353_481_quant.tflite"
    wrong = ResolvedModel(
        "wrong", "blazepose", {"detector": models_dir / "pose_detection.tflite", "landmarks": posenet}
    )
    with pytest.raises(ModelError, match="not a BlazePose landmark model"):
        BlazePoseEstimator.open(wrong, BlazePoseOptions(), backend, config)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_posenet_refuses_a_blazepose_file(backend_name: str, models_dir: Path) -> None:
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate({"type": backend_name})
    wrong = ResolvedModel("wrong", "posenet", {"main": models_dir / "pose_landmark_lite.tflite"})
    with pytest.raises(ModelError, match="PoseNet"):
        PoseNetEstimator.open(wrong, PoseNetOptions(), backend, config)
