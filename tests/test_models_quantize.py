"""`posed models quantize` and `model.precision: int8`, with the real quantizers (NNCF, ai-edge-quantizer).

Both variants of blazepose-lite are made once per session, calibrated on 12 frames
of the squat video (the command's own path, as a user runs it), into a private store.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from posed.config.schema import BlazePoseOptions, ModelConfig
from posed.errors import ModelOptionError
from posed.estimator import open_estimator
from posed.models.resolve import resolve_model
from posed.models.variants import VariantNotMadeError
from posed.plugins import load_backend
from tests.conftest import CONFORMANCE, MODELS, POSED, SHARED

SQUATS = CONFORMANCE / "tfjs-pose-detection/pose_squats.mp4"
POSE_JPG = CONFORMANCE / "tfjs-pose-detection/pose.jpg"
REFERENCE = CONFORMANCE / "mediapipe-0.10.14/pose.lite.json"
FRAMES = 12
SOURCES = {"detector": "pose_detection.tflite", "landmarks": "pose_landmark_lite.tflite"}
TOOLS = {"openvino": "nncf", "tflite": "ai-edge-quantizer"}
SETTINGS: dict[str, dict[str, Any]] = {
    "tflite": {"type": "tflite", "num_threads": 1},
    "openvino": {"type": "openvino", "inference_precision": "f32", "num_threads": 1},
}
# Measured with these 12 calibration frames: mean 3-6 px, max 8-25 px from MediaPipe on
# pose.jpg (1000x667); float is within 0.02 px. "Finds the person" allows about twice that.
STILL_MEAN_PX = 12.0
STILL_MAX_PX = 50.0


@dataclass(frozen=True)
class Made:
    store: Path
    env: dict[str, str]
    stdout: str


def _env(tmp: Path) -> dict[str, str]:
    # A private cache: the user's ~/.cache/posed/models must neither help nor be written.
    return {**os.environ, "XDG_CACHE_HOME": str(tmp / "xdg")}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    """blazepose-lite quantized for both backends, once for the session."""
    tmp = tmp_path_factory.mktemp("int8")
    store = tmp / "store"
    store.mkdir()
    for name in SOURCES.values():
        shutil.copyfile(MODELS / name, store / name)
    env = _env(tmp)
    result = subprocess.run(
        [*POSED, "models", "quantize", "blazepose-lite", "--model-dir", str(store),
         "--calibration", str(SQUATS), "--frames", str(FRAMES)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return Made(store, env, result.stdout)


def _models(made: Made, *args: str, store: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*POSED, "models", *args, "--model-dir", str(store or made.store)],
        capture_output=True, text=True, env=made.env, timeout=600,
    )  # fmt: skip


@pytest.mark.parametrize("backend", list(TOOLS))
def test_each_variant_has_a_recipe_saying_how_it_was_made(made: Made, backend: str) -> None:
    """Promise: every variant is recorded: tool and version, calibration source and count, source and
    output sha256, options."""
    for role, source in SOURCES.items():
        stem = Path(source).stem
        recipe = json.loads((made.store / f"{stem}.int8-{backend}.recipe.json").read_text())
        assert (recipe["backend"], recipe["role"]) == (backend, role)
        assert (recipe["tool"], recipe["tool_version"]) == (TOOLS[backend], version(TOOLS[backend]))
        assert recipe["calibration"]["sources"] == [str(SQUATS)]
        assert recipe["calibration"]["frames"] == FRAMES
        # The detector runs on every frame; the landmark model on each frame with a person.
        assert recipe["calibration"]["samples"] == FRAMES
        assert recipe["source"] == {"filename": source, "sha256": _sha256(MODELS / source)}
        suffixes = (".xml", ".bin") if backend == "openvino" else (".tflite",)
        expected = {f"{stem}.int8-{backend}{suffix}" for suffix in suffixes}
        assert set(recipe["outputs"]) == expected
        for filename, digest in recipe["outputs"].items():
            assert _sha256(made.store / filename) == digest
        assert recipe["options"]
        registry = json.loads((made.store / "registry.json").read_text())
        assert all(registry["files"][f]["sha256"] == recipe["outputs"][f] for f in expected)


def test_quantize_again_keeps_what_was_made(made: Made) -> None:
    """Promise: variants are cached: a second run with the same source and options makes nothing."""
    before = {p.name: p.stat().st_mtime_ns for p in made.store.iterdir()}
    result = _models(
        made, "quantize", "blazepose-lite", "--calibration", str(SQUATS), "--frames", str(FRAMES)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("already made") == 4, result.stdout
    assert "calibrating" not in result.stderr
    assert {p.name: p.stat().st_mtime_ns for p in made.store.iterdir()} == before


def test_list_and_verify_show_the_variants(made: Made) -> None:
    """Promise: `posed models list` shows which int8 variants exist; verify checks them (all ok here)."""
    listed = json.loads(_models(made, "list", "--json").stdout)
    lite = next(m for m in listed["models"] if m["name"] == "blazepose-lite")
    assert lite["int8"] == {"openvino": str(made.store), "tflite": str(made.store)}
    full = next(m for m in listed["models"] if m["name"] == "blazepose-full")
    assert full["int8"] == {"openvino": None, "tflite": None}
    verified = _models(made, "verify", "--json")
    assert verified.returncode == 0, verified.stdout
    statuses = {f["name"]: f["status"] for f in json.loads(verified.stdout)["files"]}
    assert statuses["pose_landmark_lite.int8-openvino.bin"] == "ok"
    assert statuses["pose_detection.int8-tflite.recipe.json"] == "ok"
    assert set(statuses.values()) == {"ok"}, statuses


@pytest.fixture
def copy_of_store(made: Made, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "store"
    shutil.copytree(made.store, copy)
    yield copy


def _statuses(made: Made, store: Path) -> tuple[int, dict[str, str]]:
    result = _models(made, "verify", "--json", store=store)
    return result.returncode, {f["name"]: f["status"] for f in json.loads(result.stdout)["files"]}


def test_verify_finds_a_tampered_variant(made: Made, copy_of_store: Path) -> None:
    """Promise: a variant whose bytes changed is reported corrupt and fails verify."""
    weights = copy_of_store / "pose_landmark_lite.int8-openvino.bin"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    code, statuses = _statuses(made, copy_of_store)
    assert code == 1
    assert statuses["pose_landmark_lite.int8-openvino.bin"] == "corrupt"
    assert statuses["pose_landmark_lite.int8-tflite.tflite"] == "ok"


def test_verify_finds_a_variant_of_another_source(made: Made, copy_of_store: Path) -> None:
    """Promise: when the float file differs from the one quantized, its variants are stale."""
    source = copy_of_store / "pose_detection.tflite"
    source.write_bytes(source.read_bytes() + b"\0")
    code, statuses = _statuses(made, copy_of_store)
    assert code == 1
    assert statuses["pose_detection.int8-tflite.tflite"] == "stale"
    assert statuses["pose_detection.int8-openvino.xml"] == "stale"
    assert statuses["pose_landmark_lite.int8-tflite.tflite"] == "ok"


def test_a_variant_without_its_recipe_is_unrecorded_and_unused(made: Made, copy_of_store: Path) -> None:
    """Promise: a variant whose recipe is gone fails verify and is not picked by model.precision: int8."""
    (copy_of_store / "pose_landmark_lite.int8-tflite.recipe.json").unlink()
    code, statuses = _statuses(made, copy_of_store)
    assert code == 1
    assert statuses["pose_landmark_lite.int8-tflite.tflite"] == "unrecorded"
    model = ModelConfig(name="blazepose-lite", precision="int8")
    with pytest.raises(VariantNotMadeError, match=r"recipe pose_landmark_lite\.int8-tflite\.recipe\.json"):
        resolve_model(model, [copy_of_store], backend="tflite")


def _rgb(path: Path) -> Any:
    bgr = cv2.imread(str(path))
    assert bgr is not None, path
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


@pytest.mark.parametrize("backend_name", list(SETTINGS))
def test_precision_int8_runs_the_variant_and_finds_the_person(made: Made, backend_name: str) -> None:
    """Promise: model.precision: int8 selects this backend's variant, and it finds the person on
    pose.jpg within STILL_MEAN_PX / STILL_MAX_PX of MediaPipe (float: 0.02 px); float stays the default."""
    assert ModelConfig(name="blazepose-lite").precision == "float"
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate(SETTINGS[backend_name])
    suffix = ".xml" if backend_name == "openvino" else ".tflite"
    model = ModelConfig(
        name="blazepose-lite", precision="int8", blazepose=BlazePoseOptions(static_image_mode=True)
    )
    resolved = resolve_model(model, [made.store], backend=backend_name)
    assert {role: p.name for role, p in resolved.files.items()} == {
        role: f"{Path(source).stem}.int8-{backend_name}{suffix}" for role, source in SOURCES.items()
    }
    image = _rgb(POSE_JPG)
    expected = np.array(json.loads(REFERENCE.read_text())["landmarks_px"])[:, :2]
    results = {}
    for precision in ("float", "int8"):
        chosen = model.model_copy(update={"precision": precision})
        with open_estimator(chosen, backend, config, model_dirs=[made.store]) as estimator:
            [pose] = estimator.estimate(image, None)
        results[precision] = np.linalg.norm(pose.keypoints[:, :2] - expected, axis=1)
        assert estimator.model_name == ("blazepose-lite int8" if precision == "int8" else "blazepose-lite")
    assert results["float"].max() < 0.5
    error = results["int8"]
    assert error.mean() <= STILL_MEAN_PX and error.max() <= STILL_MAX_PX, (
        f"{error.mean():.1f} / {error.max():.1f}"
    )
    assert error.max() > 0.5  # really the int8 network, not the float one under another name


def _config(tmp: Path, backend: str) -> Path:
    path = tmp / "posed.yaml"
    path.write_text(
        "device_id: dev\n"
        f"backend: {{type: {backend}}}\n"
        "model:\n"
        "  name: blazepose-lite\n"
        "  precision: int8\n"
        "cameras:\n"
        f"  gym: {{type: video, path: {SQUATS}}}\n"
    )
    return path


@pytest.mark.parametrize("command", ["check", "run"])
def test_a_variant_not_made_is_refused_naming_line_and_command(tmp_path: Path, command: str) -> None:
    """Promise: with precision: int8 and no variant, check (exit 2) and run (exit 78) refuse, naming
    the file, line and key, and the quantize command; never a silent fallback to float."""
    config = _config(tmp_path, "openvino")
    store = tmp_path / "models"
    store.mkdir()
    for name in SOURCES.values():
        shutil.copyfile(MODELS / name, store / name)  # float files there, no int8 variant
    result = subprocess.run(
        [*POSED, command, "-c", str(config), "--model-dir", str(store)],
        capture_output=True, text=True, env=_env(tmp_path), timeout=120,
    )  # fmt: skip
    assert result.returncode == (2 if command == "check" else 78), result.stderr
    assert f"{config}:5: model.precision: int8 needs pose_detection.int8-openvino.xml" in result.stderr
    assert f"`posed models quantize blazepose-lite --backend openvino --model-dir {store}`" in result.stderr
    assert "Traceback" not in result.stderr


def test_quantize_needs_calibration_media(tmp_path: Path) -> None:
    """Promise: with no calibration media to be found, quantize says so and how to give some."""
    env = {**_env(tmp_path), "POSED_SHARED_DIR": str(tmp_path / "nothing")}
    base = [*POSED, "models", "quantize", "blazepose-lite", "--model-dir", str(MODELS), "--backend", "tflite"]
    result = subprocess.run(base, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1
    assert "no calibration media" in result.stderr and "--calibration VIDEO_OR_FOLDER" in result.stderr
    missing = tmp_path / "missing.mp4"
    result = subprocess.run(
        [*base, "--calibration", str(missing)], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 1
    assert f"--calibration: {missing}: no such file or folder" in result.stderr


def test_int8_with_a_path_or_a_posenet_model_is_refused() -> None:
    """Promise: int8 applies to packaged BlazePose models only, and says so."""
    with pytest.raises(ValueError, match="precision: int8` goes with a model `name`"):
        ModelConfig(path=MODELS / "pose_landmark_lite.tflite", precision="int8")
    with pytest.raises(ModelOptionError, match="PoseNet model, already uint8"):
        resolve_model(ModelConfig(name="posenet-mobilenet-075", precision="int8"), [MODELS], backend="tflite")
    with pytest.raises(ModelOptionError, match="made for the openvino and tflite backends, not kserve"):
        resolve_model(ModelConfig(name="blazepose-lite", precision="int8"), [MODELS], backend="kserve")


def test_bench_measures_the_int8_variant(made: Made) -> None:
    """Promise: `posed bench --precision int8` times the int8 variants, named as such."""
    command = [*POSED, "bench", "--json", "--seconds", "0.5", "--backend", "tflite", "--precision", "int8"]
    command += ["--model", "blazepose-lite", "--model-dir", str(made.store)]
    env = {**made.env, "POSED_SHARED_DIR": str(SHARED)}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    records = {record["model"]: record for record in map(json.loads, result.stdout.splitlines())}
    assert set(records) == {"blazepose-lite int8", "blazepose-detector int8"}
    assert records["blazepose-lite int8"]["pipeline_fps"] > 0
    assert records["blazepose-detector int8"]["raw_inference_ms"]["p50"] > 0


def test_estimate_precision_int8_runs_the_variant(made: Made) -> None:
    """Promise: `posed estimate --precision int8` runs this backend's int8 variant, as the config's
    model.precision does: its landmarks are the int8 network's (off MediaPipe's by more than float's
    0.5 px, within the int8 bounds), and the default stays float."""
    command = [*POSED, "estimate", str(POSE_JPG), "--model", "blazepose-lite", "--model-dir", str(made.store)]
    expected = np.array(json.loads(REFERENCE.read_text())["landmarks_px"])[:, :2]
    errors = {}
    for flags in ([], ["--precision", "int8"]):
        result = subprocess.run([*command, *flags], capture_output=True, text=True, env=made.env, timeout=300)
        assert result.returncode == 0, result.stderr
        [image] = json.loads(result.stdout)
        [pose] = image["poses"]
        found = np.array([[point["x"], point["y"]] for point in pose["keypoints"]])
        errors[bool(flags)] = np.linalg.norm(found - expected, axis=1)
    assert errors[False].max() < 0.5  # the default: the float files
    assert 0.5 < errors[True].max() <= STILL_MAX_PX and errors[True].mean() <= STILL_MEAN_PX
