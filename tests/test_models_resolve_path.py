"""`model.path` files are recognised by the same layout detection as `posed models import`."""

from __future__ import annotations

from pathlib import Path

import pytest

from posed.errors import ModelError
from posed.models.resolve import resolve_path


def test_a_landmark_model_gets_its_detector_from_beside_it(models_dir: Path) -> None:
    resolved = resolve_path(models_dir / "pose_landmark_lite.tflite", None, [])
    assert resolved.family == "blazepose"
    assert resolved.files == {
        "detector": models_dir / "pose_detection.tflite",
        "landmarks": models_dir / "pose_landmark_lite.tflite",
    }


def test_a_posenet_file_is_posenet(models_dir: Path) -> None:
    path = models_dir / "posenet_mobilenet_v1_075_353_481_quant.tflite"
    assert resolve_path(path, None, []).files == {"main": path}


def test_the_detector_alone_is_refused_with_what_to_give_instead(models_dir: Path) -> None:
    with pytest.raises(ModelError, match=r"person detector; give the landmark model as model\.path"):
        resolve_path(models_dir / "pose_detection.tflite", None, [])
