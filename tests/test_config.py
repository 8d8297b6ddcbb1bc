"""Config loading: strict, frozen, every error located by file, line and key."""

from __future__ import annotations

import os
import subprocess
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from posed.config import PosedConfig, load_config
from posed.errors import ConfigError
from posed.plugins import load_backend
from tests.conftest import CONFORMANCE, POSED, REPO

EXAMPLES = sorted((REPO / "config").glob("*.yaml"))

SEVERAL_MISTAKES = """\
device_id: demo
colour: blue
backend:
  type: tflite
  num_threads: lots
model:
  name: blazepose-full
cameras:
  front:
    type: video
    path: clip.mp4
    loop: maybe
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "posed.yaml"
    path.write_text(text)
    return path


def test_every_error_is_reported_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, SEVERAL_MISTAKES))
    found = {(issue.line, issue.key) for issue in caught.value.issues}
    assert found == {(2, "colour"), (5, "backend.num_threads"), (12, "cameras.front.loop")}
    unknown = next(i for i in caught.value.issues if i.key == "colour")
    assert "valid keys here" in unknown.message and "device_id" in unknown.message
    assert all(issue.file.endswith("posed.yaml") for issue in caught.value.issues)


def test_unknown_backend_lists_installed_ones(tmp_path: Path) -> None:
    text = SEVERAL_MISTAKES.replace("type: tflite", "type: tensorrt")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    issue = next(i for i in caught.value.issues if i.key == "backend.type")
    assert issue.line == 4
    assert "tensorrt" in issue.message and "tflite" in issue.message and "openvino" in issue.message


def test_backend_section_is_validated_by_its_plugin(tmp_path: Path) -> None:
    text = SEVERAL_MISTAKES.replace("  num_threads: lots", "  device: NPU").replace("colour: blue\n", "")
    text = text.replace("    loop: maybe\n", "")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    (issue,) = caught.value.issues
    assert issue.key == "backend.device" and issue.line == 4
    assert "num_threads" in issue.message  # says what the tflite section accepts


def test_missing_keys_and_yaml_syntax_are_located(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "device_id: x\nbackend: {type: tflite}\n"))
    keys = {i.key for i in caught.value.issues}
    assert keys == {"model", "cameras"}
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "device_id: x\nbackend: [unclosed\n"))
    assert caught.value.issues[0].line is not None and "invalid YAML" in caught.value.issues[0].message


def test_config_is_frozen() -> None:
    cfg = load_config(REPO / "config" / "demo-video.yaml").config
    with pytest.raises(ValidationError):
        cfg.device_id = "other"  # type: ignore[misc]


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        for arg in _types(field.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                _models(arg, seen)


def _types(tp: object) -> list[object]:
    out = [tp]
    for arg in typing.get_args(tp):
        out.extend(_types(arg))
    return out


@pytest.mark.parametrize("backend", ["tflite", "openvino"])
def test_every_field_has_a_description(backend: str) -> None:
    models: set[type[BaseModel]] = set()
    _models(PosedConfig, models)
    _models(load_backend(backend).config_model, models)
    missing = [
        f"{m.__name__}.{name}" for m in models for name, f in m.model_fields.items() if not f.description
    ]
    assert len(models) > 8
    assert missing == []


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_pass_config_only_check(example: Path) -> None:
    result = subprocess.run(
        [*POSED, "check", "-c", str(example), "--config-only"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_check_reports_several_mistakes_and_exits_2(tmp_path: Path) -> None:
    text = SEVERAL_MISTAKES.replace("type: tflite", "type: nosuch")
    result = subprocess.run(
        [*POSED, "check", "-c", str(write(tmp_path, text)), "--config-only"], capture_output=True, text=True
    )
    assert result.returncode == 2
    for needle in (":2: colour", ":4: backend.type", ":12: cameras.front.loop"):
        assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_full_check_names_every_kind_of_mistake_in_one_run(tmp_path: Path) -> None:
    # An unknown key, a wrong type, an unknown backend and a missing model file, together.
    text = SEVERAL_MISTAKES.replace("type: tflite", "type: nosuch").replace(
        "name: blazepose-full", "path: nowhere/pose.tflite"
    )
    config = write(tmp_path, text)
    result = subprocess.run(
        [*POSED, "check", "-c", str(config)], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 2
    for needle in (":2: colour", ":4: backend.type", ":7: model.path", ":12: cameras.front.loop"):
        assert needle in result.stderr
    assert "not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_full_check_probes_model_and_cameras_of_a_valid_config(tmp_path: Path) -> None:
    text = SEVERAL_MISTAKES.replace("  num_threads: lots\n", "").replace("colour: blue\n", "")
    text = text.replace("    loop: maybe\n", "").replace("name: blazepose-full", "path: nowhere/pose.tflite")
    config = write(tmp_path, text)
    result = subprocess.run(
        [*POSED, "check", "-c", str(config)], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 2
    assert ":5: model.path" in result.stderr and "not found" in result.stderr
    assert ":7: cameras.front" in result.stderr and "clip.mp4" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_config_passes_full_check(models_dir: Path, tmp_path: Path) -> None:
    # The config plays the clip `posed demo` caches in ~/.cache/posed/samples: a home that has it.
    samples = tmp_path / ".cache" / "posed" / "samples"
    samples.mkdir(parents=True)
    (samples / "pose_squats.mp4").symlink_to(CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4")
    result = subprocess.run(
        [*POSED, "check", "-c", "config/demo-video.yaml", "--model-dir", str(models_dir)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / ".cache")},
    )
    assert result.returncode == 0, result.stderr
