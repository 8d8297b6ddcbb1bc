"""PoseNet's input_resolution: one Coral file resized at load gives every other file's outputs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from posed_tflite.config import TFLiteConfig

from posed.backend import open_resized_session
from posed.cameras.media_files import read_image
from posed.config.schema import ModelConfig
from posed.errors import ModelError, ModelOptionError
from posed.model_files import ResolvedModel
from posed.plugins import load_backend
from posed.posenet.estimator import PoseNetEstimator
from posed.posenet.layout import detect_layout
from posed.posenet.options import PoseNetOptions
from posed.posenet.preprocess import InputBuilder
from posed.posenet.quantfix import corrected_model
from posed.posenet.resolution import auto_resolution, nearest_valid, parse_resolution
from tests.conftest import CONFORMANCE, MODELS
from tests.test_posenet_conformance import CORAL_SETTINGS, read_reference

SIZES = {"353_481": (353, 481), "481_641": (481, 641), "721_1281": (721, 1281)}
BACKENDS = ("tflite", "openvino")


def coral_file(size: str) -> Path:
    return MODELS / f"posenet_mobilenet_v1_075_{size}_quant.tflite"


@pytest.fixture(scope="module")
def couple() -> np.ndarray:
    return read_image(CONFORMANCE / "coral-posenet" / "test_couple.jpg")


def _config(name: str):
    backend = load_backend(name)
    return backend, backend.config_model.model_validate({"type": name})


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize(
    ("source", "target"), [("721_1281", "353_481"), ("721_1281", "481_641"), ("353_481", "721_1281")]
)
def test_resized_file_is_bit_identical_to_the_dedicated_file(
    backend_name: str, source: str, target: str, couple: np.ndarray
) -> None:
    """The three Coral files are one network: resizing one at load gives another's exact outputs."""
    backend, config = _config(backend_name)
    height, width = SIZES[target]
    with (
        open_resized_session(backend, coral_file(source), config, (1, height, width, 3)) as resized,
        backend.open_session(coral_file(target), config) as dedicated,
    ):
        assert resized.inputs[0].shape == dedicated.inputs[0].shape == (1, height, width, 3)
        assert [o.shape for o in resized.outputs] == [o.shape for o in dedicated.outputs]

        image = InputBuilder(detect_layout(dedicated.inputs, dedicated.outputs))(couple)
        got = [np.array(a) for a in resized.run(image)]
        want = [np.array(a) for a in dedicated.run(image)]
    for a, b in zip(got, want, strict=True):
        assert a.dtype == np.uint8
        assert np.array_equal(a, b), int(np.abs(a.astype(int) - b.astype(int)).max())


def _open(backend_name: str, size: str, tmp_path: Path, **options: object) -> PoseNetEstimator:
    backend, config = _config(backend_name)
    settings = CORAL_SETTINGS.model_copy(update=options)
    resolved = ResolvedModel("posenet-mobilenet-075", "posenet", {"main": coral_file(size)})
    return PoseNetEstimator.open(
        resolved,
        PoseNetOptions.model_validate(settings.model_dump()),
        backend,
        config,
        corrected_dir=tmp_path,
    )


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_resized_353x481_decodes_corals_reference(
    backend_name: str, couple: np.ndarray, tmp_path: Path
) -> None:
    """Decoded poses at 353x481 via resizing equal the dedicated file's, and so Coral's CSV."""
    with (
        _open(backend_name, "481_641", tmp_path, input_resolution=(353, 481)) as resized,
        _open(backend_name, "353_481", tmp_path) as dedicated,
    ):
        assert resized.layout.input_size == (481, 353)
        poses = resized.estimate(couple)
        same = dedicated.estimate(couple)
    reference = read_reference("353_481")
    assert len(poses) == len(same) == len(reference)
    to_model = np.array([481 / couple.shape[1], 353 / couple.shape[0]])
    for pose, twin, ref in zip(poses, same, reference, strict=True):
        assert np.array_equal(pose.keypoints, twin.keypoints)
        sure = ref.keypoints[:, 2] >= 0.5
        distance = np.hypot(*(pose.keypoints[:, :2] * to_model - ref.keypoints[:, :2]).T)
        assert float(distance[sure].max()) <= 4.0


def test_invalid_size_names_the_nearest_valid_sizes(tmp_path: Path) -> None:
    with pytest.raises(ModelOptionError, match=r"width 480 -> 465 or 481") as caught:
        _open("tflite", "481_641", tmp_path, input_resolution=(353, 480))
    assert caught.value.key == "model.posenet.input_resolution"
    assert caught.value.exit_code == 78


def test_nearest_valid_and_parse() -> None:
    assert nearest_valid(513, 16) == (513,)
    assert nearest_valid(500, 16) == (497, 513)
    assert nearest_valid(20, 16) == (33,)
    assert parse_resolution("353x481") == (353, 481)
    assert parse_resolution("257") == 257
    assert parse_resolution("AUTO") == "auto"
    with pytest.raises(ValueError):
        parse_resolution("353x")


def test_auto_rule() -> None:
    """Aspect ratio of the frame, area nearest the budget, each side snapped to k * stride + 1."""
    height, width = auto_resolution(1280, 720, 481 * 641, 16)
    assert (height - 1) % 16 == 0 and (width - 1) % 16 == 0
    assert abs(width / height - 1280 / 720) < 0.05
    assert abs(height * width - 481 * 641) / (481 * 641) < 0.05
    assert auto_resolution(641, 481, 481 * 641, 16) == (481, 641)
    assert auto_resolution(100000, 10, 10**6, 16) == (33, 2049)  # clamped to the valid range


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_auto_reopens_for_the_frame_and_keeps_runs_in_order(
    backend_name: str, couple: np.ndarray, tmp_path: Path
) -> None:
    """`auto` fits the model to the camera's frames; poses match a fixed session at that size."""
    wide = np.ascontiguousarray(np.concatenate([couple, couple[:, ::-1]], axis=1))
    with _open(backend_name, "481_641", tmp_path, input_resolution="auto") as auto:
        first = auto.estimate(couple)
        fitted = (auto.layout.input_height, auto.layout.input_width)
        assert fitted == auto_resolution(couple.shape[1], couple.shape[0], 481 * 641, 16)
        second = auto.estimate(wide)
        refitted = (auto.layout.input_height, auto.layout.input_width)
        if auto.can_overlap:  # a resize with a run in flight keeps both frames' poses, in order
            auto.submit(couple)
            auto.submit(wide)
            overlapped = [auto.collect(), auto.collect()]
            assert [len(p) for p in overlapped] == [len(first), len(second)]
    assert refitted == auto_resolution(wide.shape[1], wide.shape[0], 481 * 641, 16) != fitted
    with _open(backend_name, "481_641", tmp_path, input_resolution=fitted) as fixed:
        expected = fixed.estimate(couple)
    assert len(first) == len(expected) >= 2
    for a, b in zip(first, expected, strict=True):
        assert np.array_equal(a.keypoints, b.keypoints)


def test_edgetpu_file_refuses_another_size_even_with_cpu_fallback(tmp_path: Path) -> None:
    """An Edge TPU model runs only at its compiled size: a clear error, never the CPU instead."""
    model = corrected_model(coral_file("481_641"), tmp_path)
    shutil.copy(model, tmp_path / "net.tflite")
    # A stand-in for the compiled file: check_compiled_size reads only its input shape.
    shutil.copy(coral_file("481_641"), tmp_path / "net_edgetpu.tflite")
    shutil.copy(coral_file("353_481"), tmp_path / "other_edgetpu.tflite")
    backend = load_backend("tflite")
    config = TFLiteConfig(type="tflite", delegate="edgetpu", fallback="cpu")
    with pytest.raises(ModelError, match=r"compiled for the Edge TPU at input 481x641.*353x481, 481x641"):
        open_resized_session(backend, tmp_path / "net.tflite", config, (1, 513, 513, 3))


def test_backend_without_resize_support_is_refused(tmp_path: Path) -> None:
    class FixedSizeBackend:
        name = "fixed"

        def open_session(self, model_path: Path, config: object, *, role: str = "main") -> None:
            raise AssertionError("must not be called with a size it cannot honour")

    with pytest.raises(ModelError, match="cannot resize"):
        open_resized_session(FixedSizeBackend(), coral_file("481_641"), object(), (1, 353, 481, 3))  # type: ignore[arg-type]


def test_config_accepts_sizes_and_refuses_out_of_range() -> None:
    assert ModelConfig.model_validate({"name": "x", "posenet": {"input_resolution": [353, 481]}})
    assert ModelConfig.model_validate(
        {"name": "x", "posenet": {"input_resolution": "auto", "auto_pixels": 200000}}
    )
    for bad in (5000, [353], "big", 0):
        with pytest.raises(ValueError):
            ModelConfig.model_validate({"name": "x", "posenet": {"input_resolution": bad}})
    with pytest.raises(ValueError, match="auto_pixels"):
        ModelConfig.model_validate({"name": "x", "posenet": {"auto_pixels": 200000}})


def test_check_points_at_the_input_resolution_line(tmp_path: Path) -> None:
    config = tmp_path / "posed.yaml"
    config.write_text(
        "device_id: t\n"
        "backend: {type: tflite}\n"
        "model:\n"
        "  name: posenet-mobilenet-075\n"
        "  posenet:\n"
        "    input_resolution: [350, 481]\n"
        f"cameras:\n  a: {{type: images, path: {CONFORMANCE / 'coral-posenet'}}}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "posed.cli.main", "check", "-c", str(config), "--model-dir", str(MODELS)],
        capture_output=True,
        text=True,
        env={"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2, done.stderr
    assert f"{config}:6: model.posenet.input_resolution: 350x481 does not fit" in done.stderr
    assert "height 350 -> 337 or 353" in done.stderr


def test_estimate_cli_takes_input_resolution(tmp_path: Path) -> None:
    image = CONFORMANCE / "coral-posenet" / "test_couple.jpg"
    done = subprocess.run(
        [sys.executable, "-m", "posed.cli.main", "estimate", "--model", "posenet-mobilenet-075",
         "--model-dir", str(MODELS), "--input-resolution", "353x481", str(image)],
        capture_output=True, text=True, env={"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    (result,) = json.loads(done.stdout)
    assert (result["width"], result["height"]) == (1920, 1278)
    assert len(result["poses"]) == len(read_reference("353_481"))
