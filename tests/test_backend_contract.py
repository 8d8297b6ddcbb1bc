"""The contract helpers in posed.backend: model-kind validation and run() input checks."""

from __future__ import annotations

import numpy as np
import pytest

from posed.backend import TensorSpec, check_inputs, expect_input, expect_outputs
from posed.errors import BackendError, ModelError
from posed.plugins import load_backend
from posed.tflite_file import read_model_info
from tests.conftest import MODELS

DETECTOR = MODELS / "pose_detection.tflite"
POSENET = MODELS / "posenet_mobilenet_v1_075_353_481_quant.tflite"
LANDMARK_OUTPUTS = [(1, 195), (1, 1), (1, 256, 256, 1), (1, 64, 64, 39), (1, 117)]


def test_expect_input_accepts_the_right_model_and_returns_its_spec() -> None:
    spec = expect_input(read_model_info(DETECTOR), (1, 224, 224, 3), "float32", "BlazePose detector")
    assert spec.name == "input_1"
    # None matches any size; several dtypes may be allowed.
    spec = expect_input(read_model_info(POSENET), (1, None, None, 3), ("uint8", "int8"), "PoseNet")
    assert spec.shape == (1, 353, 481, 3)


def test_expect_input_names_expected_and_actual_on_a_wrong_model() -> None:
    with pytest.raises(ModelError) as caught:
        expect_input(read_model_info(POSENET), (1, 224, 224, 3), "float32", "BlazePose detector")
    message = str(caught.value)
    assert str(POSENET) in message and "is not a BlazePose detector model" in message
    assert "expected input 0 [1, 224, 224, 3] float32" in message
    assert "got 'sub_2' [1, 353, 481, 3] uint8" in message and "model.path" in message


def test_expect_input_works_on_sessions_of_any_backend() -> None:
    for name in ("tflite", "openvino"):
        backend = load_backend(name)
        with backend.open_session(POSENET, backend.config_model(type=name)) as session:
            expect_input(session, (1, 353, 481, 3), "uint8", "PoseNet")
            with pytest.raises(ModelError, match=r"expected input 0 \[1, 256, 256, 3\] float32, got 'sub_2'"):
                expect_input(session, (1, 256, 256, 3), "float32", "BlazePose landmark")
            with pytest.raises(ModelError, match=r"expected input 1 .* has 1 input"):
                expect_input(session, (1, 1), "float32", "two-input", index=1)


def test_expect_outputs_checks_count_and_shapes() -> None:
    landmarks = read_model_info(MODELS / "pose_landmark_lite.tflite")
    assert len(expect_outputs(landmarks, LANDMARK_OUTPUTS, "BlazePose landmark")) == 5
    with pytest.raises(
        ModelError, match=r"expected outputs \[1, 195\].*got 'float_heatmaps' \[1, 23, 31, 17\]"
    ):
        expect_outputs(read_model_info(POSENET), LANDMARK_OUTPUTS, "BlazePose landmark")


def test_check_inputs_refuses_what_does_not_match_exactly() -> None:
    specs = (TensorSpec("image", (1, 4, 4, 3), "uint8"),)
    check_inputs("m.tflite", specs, (np.zeros((1, 4, 4, 3), np.uint8),))
    cases: dict[str, tuple[np.ndarray, ...]] = {
        "takes 1 input": (),
        r"must be uint8 \[1, 4, 4, 3\], got float32 \[1, 4, 4, 3\]": (np.zeros((1, 4, 4, 3), np.float32),),
        r"got uint8 \[4, 4, 3\]": (np.zeros((4, 4, 3), np.uint8),),
    }
    for pattern, arrays in cases.items():
        with pytest.raises(BackendError, match=pattern):
            check_inputs("m.tflite", specs, arrays)
