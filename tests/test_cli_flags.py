"""Model and backend flags of `posed estimate` and `posed bench` are checked as strictly as the
config file: a value the config would refuse is exit 2 naming the flag and what would be valid,
before any model loads, never a pydantic traceback."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from posed.cli.estimate import add_arguments
from posed.cli.flags import model_config
from posed.cli.main import main
from tests.conftest import CONFORMANCE

POSE_JPG = CONFORMANCE / "tfjs-pose-detection" / "pose.jpg"

POSENET = ["--model", "posenet-mobilenet-075"]
BAD_FLAGS = [
    (
        ["--score-threshold", "2", *POSENET],
        "--score-threshold: input should be less than or equal to 1, not 2.0",
    ),
    (["--max-poses", "0", *POSENET], "--max-poses: input should be greater than or equal to 1, not 0"),
    (["--nms-radius", "-1", *POSENET], "--nms-radius: input should be greater than 0, not -1.0"),
    (
        ["--input-resolution", "13", *POSENET],
        "--input-resolution: input should be greater than or equal to 33, not 13",
    ),
    (["--num-poses", "99"], "--num-poses: input should be less than or equal to 10, not 99"),
    (["--backend", "openvino", "--device", "B@D"], "--device: 'B@D' is not an OpenVINO device: use CPU, GPU"),
    (["--precision", "int8", "--model", "x/pose_landmark_lite.tflite"], "`precision: int8` goes with"),
]


@pytest.fixture
def no_model_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a model was opened although a flag was invalid")

    monkeypatch.setattr("posed.cli.estimate.open_estimator", refuse)


@pytest.mark.parametrize(("flags", "said"), BAD_FLAGS)
def test_estimate_refuses_a_bad_flag_by_name(
    flags: list[str], said: str, models_dir: Path, no_model_loads: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["estimate", str(POSE_JPG), "--model-dir", str(models_dir), *flags])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"posed estimate: {said}"), err
    assert "pydantic" not in err and "Traceback" not in err


BENCH_FLAGS = ("--num-poses", "--input-resolution", "--precision", "--backend")  # the flags bench takes


@pytest.mark.parametrize(("flags", "said"), [case for case in BAD_FLAGS if case[0][0] in BENCH_FLAGS])
def test_bench_refuses_a_bad_flag_before_measuring(
    flags: list[str], said: str, models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = [] if "--backend" in flags else ["--backend", "tflite"]
    code = main(["bench", "--seconds", "0.1", *backend, "--model-dir", str(models_dir), *flags])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert f"posed bench: {said}" in captured.err
    assert captured.out == "" and "measured" not in captured.err


def test_good_flags_pass_through_to_the_model_section() -> None:
    """The same flags, valid, reach the config's own fields (and the defaults stay the config's)."""

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    flags = ["--score-threshold", "0.3", "--max-poses", "3", "--input-resolution", "353x481"]
    args = parser.parse_args(["x.jpg", *POSENET, *flags, "--precision", "float"])
    model = model_config(args, static=True)
    assert model.name == "posenet-mobilenet-075" and model.precision == "float"
    assert model.posenet.score_threshold == 0.3 and model.posenet.max_pose_detections == 3
    assert model.posenet.input_resolution == (353, 481)
    assert model.blazepose.static_image_mode and model.blazepose.num_poses == 1
