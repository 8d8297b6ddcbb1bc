"""The TFLite backend: interpreter choice, delegates, buffer reuse, and every Coral failure.

There is no Coral here. The missing model variant and the missing libedgetpu are tested
for real; "no device attached" goes through a stand-in load_delegate that raises exactly
what LiteRT's raises when libedgetpu loads but finds no Edge TPU.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import shutil
import sys
import types
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from posed_tflite import edgetpu
from posed_tflite.config import TFLiteConfig
from posed_tflite.plugin import TFLiteBackend
from posed_tflite.runtime import LITERT, TFLITE_RUNTIME, find_runtime
from pydantic import ValidationError

from posed.errors import BackendUnavailableError, ModelError
from posed.testing.inputs import load_rgb, model_inputs
from tests.backend_support import write_edgetpu_compiled_copy
from tests.conftest import CONFORMANCE, MODELS

POSENET = MODELS / "posenet_mobilenet_v1_075_353_481_quant.tflite"
COUPLE = CONFORMANCE / "coral-posenet" / "test_couple.jpg"


def no_device_load_delegate(library: str, options: dict[str, str] | None = None) -> Any:
    """What LiteRT's load_delegate raises when libedgetpu loads but no Edge TPU is attached."""
    raise ValueError(f"Failed to load delegate from {library}\n")


@pytest.fixture(scope="module")
def couple_input() -> tuple[np.ndarray, ...]:
    with TFLiteBackend().open_session(POSENET, TFLiteConfig(type="tflite")) as session:
        return model_inputs(session.inputs, load_rgb(COUPLE))


@pytest.fixture
def coral_dir(tmp_path: Path) -> Path:
    """A model directory with a CPU model and its Edge TPU variant beside it."""
    shutil.copy(POSENET, tmp_path / "pose.tflite")
    write_edgetpu_compiled_copy(POSENET, tmp_path / "pose_edgetpu.tflite")
    return tmp_path


# --- interpreter ------------------------------------------------------------------------------


def test_litert_is_preferred_and_reported() -> None:
    runtime = find_runtime()
    assert runtime.name == LITERT
    status = TFLiteBackend().probe()
    assert status.runnable and status.runtime == runtime.label
    assert status.detail == f"interpreter: {runtime.label}"
    assert "cpu" in status.devices


def test_tflite_runtime_is_used_when_litert_is_missing(
    monkeypatch: pytest.MonkeyPatch, couple_input: Any
) -> None:
    litert = importlib.import_module("ai_edge_litert.interpreter")
    # tflite-runtime's module has the same API; LiteRT's classes stand in for it here.
    standin = types.ModuleType("tflite_runtime.interpreter")
    for attr in ("Interpreter", "load_delegate", "OpResolverType"):
        setattr(standin, attr, getattr(litert, attr))
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    monkeypatch.setitem(sys.modules, "tflite_runtime", types.ModuleType("tflite_runtime"))
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", standin)
    assert find_runtime().name == TFLITE_RUNTIME
    status = TFLiteBackend().probe()
    assert status.runnable and status.detail.startswith("interpreter: tflite-runtime")
    with TFLiteBackend().open_session(POSENET, TFLiteConfig(type="tflite")) as session:
        assert session.run(*couple_input)[0].shape == (1, 23, 31, 17)


def test_no_interpreter_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", None)
    with pytest.raises(BackendUnavailableError, match=r"posed\[tflite\]"):
        find_runtime()
    status = TFLiteBackend().probe()
    assert not status.runnable and status.fix is not None and "ai-edge-litert" in status.fix


# --- delegates, threads, buffers --------------------------------------------------------------


@pytest.mark.parametrize(("delegate", "device"), [("xnnpack", "cpu:xnnpack"), ("none", "cpu")])
def test_cpu_delegates_report_their_device(
    delegate: Literal["xnnpack", "none"], device: str, couple_input: Any
) -> None:
    config = TFLiteConfig(type="tflite", delegate=delegate, num_threads=1)
    with TFLiteBackend().open_session(POSENET, config) as session:
        assert session.device == device
        assert session.run(*couple_input)[0].max() > 128  # someone is in the picture


def test_outputs_are_the_same_buffers_every_frame(couple_input: Any) -> None:
    with TFLiteBackend().open_session(POSENET, TFLiteConfig(type="tflite")) as session:
        first = session.run(*couple_input)
        snapshot = [a.copy() for a in first]
        dark = (np.zeros_like(couple_input[0]),)
        second = session.run(*dark)
        assert all(a is b for a, b in zip(first, second, strict=True))
        assert not np.array_equal(snapshot[0], second[0])  # the buffers really hold the new frame


def test_config_rejects_coral_options_without_the_edgetpu_delegate() -> None:
    with pytest.raises(ValidationError, match="only apply with `delegate: edgetpu`"):
        TFLiteConfig(type="tflite", fallback="cpu")
    with pytest.raises(ValidationError, match="edgetpu_device"):
        TFLiteConfig(type="tflite", delegate="edgetpu", edgetpu_device="usb0")
    for name in ("usb", "usb:1", "pci", "pci:0"):
        assert TFLiteConfig(type="tflite", delegate="edgetpu", edgetpu_device=name).edgetpu_device == name


# --- Edge TPU ---------------------------------------------------------------------------------


def test_missing_edgetpu_variant_names_the_file_and_the_fix() -> None:
    config = TFLiteConfig(type="tflite", delegate="edgetpu")
    with pytest.raises(BackendUnavailableError) as caught:
        TFLiteBackend().open_session(POSENET, config)
    message = str(caught.value)
    assert "posenet_mobilenet_v1_075_353_481_quant_edgetpu.tflite" in message
    assert "posed models fetch" in message and "edgetpu_compiler" in message


def test_missing_libedgetpu_says_so_and_how_to_install_it(coral_dir: Path) -> None:
    if edgetpu.library_error() is None:
        pytest.skip("libedgetpu.so.1 is installed on this machine")
    config = TFLiteConfig(type="tflite", delegate="edgetpu", edgetpu_device="usb")
    with pytest.raises(BackendUnavailableError) as caught:
        TFLiteBackend().open_session(coral_dir / "pose.tflite", config)
    message = str(caught.value)
    assert "libedgetpu.so.1 is not installed" in message and "apt install libedgetpu1-std" in message
    assert "no usable Edge TPU" not in message


def test_probe_reports_the_edgetpu_runtime_state() -> None:
    (note,) = TFLiteBackend().probe().notes
    if edgetpu.library_error() is None:
        assert "libedgetpu.so.1 is installed" in note
    else:
        assert "libedgetpu.so.1 is not installed" in note and "libedgetpu1-std" in note


def _open_without_device(config: TFLiteConfig, model: Path) -> Any:
    runtime = dataclasses.replace(find_runtime(), load_delegate=no_device_load_delegate)
    return edgetpu.open_edgetpu_session(
        runtime, model, config, 1, library_check=lambda: None, device_lister=lambda: ()
    )


def test_no_edgetpu_attached_says_so_and_how_to_fix_it(coral_dir: Path) -> None:
    config = TFLiteConfig(type="tflite", delegate="edgetpu", edgetpu_device="usb:0")
    with pytest.raises(BackendUnavailableError) as caught:
        _open_without_device(config, coral_dir / "pose.tflite")
    message = str(caught.value)
    assert "no usable Edge TPU (usb:0)" in message and "Coral devices the OS shows: none" in message
    assert "USB 3" in message and "/dev/apex_" in message


def test_cpu_fallback_only_when_configured_with_a_warning_and_the_real_device(
    coral_dir: Path, couple_input: Any, caplog: pytest.LogCaptureFixture
) -> None:
    config = TFLiteConfig(type="tflite", delegate="edgetpu", fallback="cpu")
    with caplog.at_level(logging.WARNING, logger="posed_tflite.edgetpu"):
        session = _open_without_device(config, coral_dir / "pose.tflite")
    with session, TFLiteBackend().open_session(POSENET, TFLiteConfig(type="tflite")) as cpu:
        assert session.device == edgetpu.CPU_FALLBACK_DEVICE
        assert session.path == coral_dir / "pose.tflite"  # the CPU variant, not the Edge TPU one
        assert all(
            np.array_equal(a, b)
            for a, b in zip(session.run(*couple_input), cpu.run(*couple_input), strict=True)
        )
    assert any(
        "falling back" in r.message or "on the CPU (fallback: cpu)" in r.message for r in caplog.records
    )


def test_real_fallback_through_the_backend_when_the_runtime_is_missing(
    coral_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if edgetpu.library_error() is None:
        pytest.skip("libedgetpu.so.1 is installed on this machine")
    config = TFLiteConfig(type="tflite", delegate="edgetpu", fallback="cpu")
    with (
        caplog.at_level(logging.WARNING),
        TFLiteBackend().open_session(coral_dir / "pose_edgetpu.tflite", config) as s,
    ):
        assert s.device == edgetpu.CPU_FALLBACK_DEVICE
    assert "libedgetpu.so.1 is not installed" in caplog.text


def test_fallback_without_a_cpu_model_is_an_error(coral_dir: Path) -> None:
    (coral_dir / "pose.tflite").unlink()
    config = TFLiteConfig(type="tflite", delegate="edgetpu", fallback="cpu")
    with pytest.raises(BackendUnavailableError, match=r"CPU fallback needs the CPU model pose\.tflite"):
        _open_without_device(config, coral_dir / "pose_edgetpu.tflite")


def test_an_edgetpu_model_on_the_cpu_is_a_clear_model_error(coral_dir: Path) -> None:
    with pytest.raises(ModelError, match=r"compiled for the Coral Edge TPU.*delegate: edgetpu"):
        TFLiteBackend().open_session(coral_dir / "pose_edgetpu.tflite", TFLiteConfig(type="tflite"))


def test_coral_devices_are_named_as_the_delegate_names_them(tmp_path: Path) -> None:
    dev, sysfs = tmp_path / "dev", tmp_path / "usb"
    dev.mkdir()
    (dev / "apex_0").touch()
    for name, ids in {"1-1": ("1a6e", "089a"), "1-2": ("046d", "0825"), "2-1": ("18d1", "9302")}.items():
        (sysfs / name).mkdir(parents=True)
        (sysfs / name / "idVendor").write_text(ids[0] + "\n")
        (sysfs / name / "idProduct").write_text(ids[1] + "\n")
    assert edgetpu.list_edgetpu_devices(dev, sysfs) == ("pci:0", "usb:0", "usb:1")


def test_model_variant_names() -> None:
    assert edgetpu.edgetpu_variant(Path("m/a.tflite")) == Path("m/a_edgetpu.tflite")
    assert edgetpu.edgetpu_variant(Path("m/a_edgetpu.tflite")) == Path("m/a_edgetpu.tflite")
    assert edgetpu.cpu_variant(Path("m/a_edgetpu.tflite")) == Path("m/a.tflite")
