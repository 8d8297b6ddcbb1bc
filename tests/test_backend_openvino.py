"""The OpenVINO backend: devices (per role), properties, the compiled-model cache, buffers.

There is no Intel GPU or NPU here: the device check is a pure function tested with
device lists, and the real GPU request fails with the machine's own device list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import openvino
import pytest
from posed_openvino.config import OpenVINOConfig
from posed_openvino.core import shared_core
from posed_openvino.devices import check_device
from posed_openvino.plugin import OpenVINOBackend
from pydantic import ValidationError

from posed.backend import ROLE_DETECTOR, ROLE_LANDMARKS, TensorSpec
from posed.errors import BackendError, BackendUnavailableError, ModelError
from posed.testing.inputs import DETECTOR_RANGE, load_rgb, model_inputs
from tests.backend_support import write_edgetpu_compiled_copy
from tests.conftest import CONFORMANCE, MODELS

DETECTOR = MODELS / "pose_detection.tflite"
LANDMARKS = MODELS / "pose_landmark_lite.tflite"
POSENET = MODELS / "posenet_mobilenet_v1_075_353_481_quant.tflite"
POSE_JPG = CONFORMANCE / "tfjs-pose-detection" / "pose.jpg"


def machine_devices() -> list[str]:
    return list(shared_core().available_devices)


@pytest.fixture(scope="module")
def backend() -> OpenVINOBackend:
    return OpenVINOBackend()


@pytest.fixture(scope="module")
def detector_input() -> tuple[np.ndarray, ...]:
    return model_inputs(
        (TensorSpec("input_1", (1, 224, 224, 3), "float32"),), load_rgb(POSE_JPG), DETECTOR_RANGE
    )


# --- devices ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "available"),
    [
        ("CPU", ["CPU"]),
        ("GPU", ["CPU", "GPU"]),
        ("GPU", ["CPU", "GPU.0", "GPU.1"]),
        ("GPU.0", ["CPU", "GPU"]),
        ("GPU.1", ["CPU", "GPU.0", "GPU.1"]),
        ("NPU", ["CPU", "NPU"]),
        ("AUTO", ["CPU"]),
        ("AUTO:GPU,CPU", ["CPU"]),
    ],
)
def test_devices_this_machine_has_are_accepted(requested: str, available: list[str]) -> None:
    check_device(requested, available)


@pytest.mark.parametrize(
    ("requested", "available", "fix"),
    [
        ("GPU", ["CPU"], "intel-opencl-icd"),
        ("GPU.2", ["CPU", "GPU.0", "GPU.1"], "intel-opencl-icd"),
        ("GPU.1", ["CPU", "GPU"], "intel-opencl-icd"),
        ("NPU", ["CPU", "GPU"], "linux-npu-driver"),
        ("AUTO:GPU,NPU", ["CPU"], "intel-opencl-icd"),
    ],
)
def test_devices_this_machine_lacks_are_refused_listing_what_it_has(
    requested: str, available: list[str], fix: str
) -> None:
    with pytest.raises(BackendUnavailableError) as caught:
        check_device(requested, available)
    message = str(caught.value)
    assert f"{requested!r} is not available" in message
    assert f"its devices are: {', '.join(available)}" in message and fix in message


def test_config_rejects_what_is_not_a_device_name() -> None:
    for bad in ("gpu", "TPU", "GPU.x", "AUTO:"):
        with pytest.raises(ValidationError, match="is not an OpenVINO device"):
            OpenVINOConfig(type="openvino", device=bad)
    with pytest.raises(ValidationError, match="is not an OpenVINO device"):
        OpenVINOConfig(type="openvino", devices={"landmarks": "XPU"})


def test_a_gpu_request_on_this_machine_fails_listing_its_devices(backend: OpenVINOBackend) -> None:
    if "GPU" in " ".join(machine_devices()):
        pytest.skip("this machine has a GPU")
    with pytest.raises(BackendUnavailableError) as caught:
        backend.open_session(DETECTOR, OpenVINOConfig(type="openvino", device="GPU"))
    message = str(caught.value)
    assert "'GPU' is not available" in message
    assert f"its devices are: {', '.join(machine_devices())}" in message and "render" in message


def test_each_blazepose_model_gets_its_own_device(backend: OpenVINOBackend) -> None:
    config = OpenVINOConfig(type="openvino", device="AUTO", devices={"detector": "CPU", "landmarks": "GPU"})
    with backend.open_session(DETECTOR, config, role=ROLE_DETECTOR) as detector:
        assert detector.device == "CPU"
    if "GPU" not in " ".join(machine_devices()):
        with pytest.raises(BackendUnavailableError, match="'GPU' is not available"):
            backend.open_session(LANDMARKS, config, role=ROLE_LANDMARKS)
    with backend.open_session(POSENET, config) as main:  # no override for `main`: the default device
        assert main.device == "AUTO(CPU)"


def test_auto_reports_the_device_it_picked_and_agrees_with_cpu(
    backend: OpenVINOBackend, detector_input: Any
) -> None:
    with (
        backend.open_session(DETECTOR, OpenVINOConfig(type="openvino", device="AUTO")) as auto,
        backend.open_session(DETECTOR, OpenVINOConfig(type="openvino")) as cpu,
    ):
        assert auto.device.startswith("AUTO(") and auto.device.endswith(")")
        for a, b in zip(auto.run(*detector_input), cpu.run(*detector_input), strict=True):
            x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-3 * max(1.0, float(np.ptp(y))))


# --- properties -------------------------------------------------------------------------------


def test_cpu_precision_defaults_to_f32_so_results_match_tflite(backend: OpenVINOBackend) -> None:
    with backend.open_session(DETECTOR, OpenVINOConfig(type="openvino")) as session:
        assert str(session.compiled_property("INFERENCE_PRECISION_HINT")) == "<Type: 'float32'>"
    config = OpenVINOConfig(type="openvino", inference_precision="f16")
    if "FP16" not in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        pytest.skip("this CPU has no f16 arithmetic (AVX2 only): OpenVINO keeps f32 whatever is asked")
    with backend.open_session(DETECTOR, config) as session:
        assert "float32" not in str(session.compiled_property("INFERENCE_PRECISION_HINT"))


def test_hint_streams_and_threads_reach_the_compiled_model(backend: OpenVINOBackend) -> None:
    config = OpenVINOConfig(type="openvino", performance_hint="THROUGHPUT", num_streams=2)
    with backend.open_session(DETECTOR, config) as session:
        assert str(session.compiled_property("PERFORMANCE_HINT")).endswith("THROUGHPUT")
        assert int(session.compiled_property("NUM_STREAMS")) == 2
    # One thread leaves room for one stream only: OpenVINO caps the streams, not posed.
    with backend.open_session(DETECTOR, OpenVINOConfig(type="openvino", num_threads=1)) as session:
        assert int(session.compiled_property("INFERENCE_NUM_THREADS")) == 1
        assert str(session.compiled_property("PERFORMANCE_HINT")).endswith("LATENCY")


def test_compiled_models_are_cached_and_reused(backend: OpenVINOBackend, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "openvino"  # created on first use
    config = OpenVINOConfig(type="openvino", cache_dir=cache)
    with backend.open_session(LANDMARKS, config) as first:
        assert not first.loaded_from_cache
    blobs = sorted(p.name for p in cache.iterdir())
    assert blobs and all(b.endswith(".blob") for b in blobs)
    with backend.open_session(LANDMARKS, config) as second:
        assert second.loaded_from_cache and second.compiled_property("LOADED_FROM_CACHE")
        assert second.run(*model_inputs(second.inputs))[0].shape == (1, 195)
    assert sorted(p.name for p in cache.iterdir()) == blobs  # read back, not compiled again


def test_an_unusable_cache_dir_says_what_to_do(backend: OpenVINOBackend, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(BackendError, match=r"cache_dir .* cannot be created.*CacheDirectory"):
        backend.open_session(DETECTOR, OpenVINOConfig(type="openvino", cache_dir=blocker / "cache"))


# --- buffers and files ------------------------------------------------------------------------


def test_inputs_are_copied_and_outputs_are_the_requests_own_buffers(
    backend: OpenVINOBackend, detector_input: Any
) -> None:
    with backend.open_session(DETECTOR, OpenVINOConfig(type="openvino")) as session:
        first = session.run(*detector_input)
        addresses = [a.__array_interface__["data"][0] for a in first]
        snapshot = [a.copy() for a in first]
        caller_buffer = detector_input[0].copy()
        second = session.run(caller_buffer)
        caller_buffer[...] = 0  # the caller may reuse its buffer at once: the request copied it
        assert [a.__array_interface__["data"][0] for a in second] == addresses
        assert all(np.array_equal(a, b) for a, b in zip(snapshot, second, strict=True))
        assert not np.shares_memory(session.run(caller_buffer)[0], caller_buffer)


def test_an_edgetpu_model_is_refused_clearly(backend: OpenVINOBackend, tmp_path: Path) -> None:
    model = write_edgetpu_compiled_copy(POSENET, tmp_path / "pose_edgetpu.tflite")
    with pytest.raises(ModelError, match="compiled for the Coral Edge TPU"):
        backend.open_session(model, OpenVINOConfig(type="openvino"))


def test_probe_lists_this_machines_devices_with_their_names(backend: OpenVINOBackend) -> None:
    status = backend.probe()
    assert status.runnable and list(status.devices) == machine_devices()
    assert status.runtime is not None and status.runtime.startswith("openvino 20")
    assert set(status.device_names) == set(status.devices)
