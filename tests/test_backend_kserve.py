"""The `kserve` backend against a real Open Inference Protocol server (MLServer + LiteRT), on loopback.

The server runs the same .tflite files as the local TFLite backend, with the same
runtime, so decoded poses must agree: BlazePose within 0.5 px, PoseNet exactly.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from posed.cli.estimate import read_image
from posed.config.schema import BlazePoseOptions, ModelConfig
from posed.errors import EXIT_CONFIG, BackendUnreachableError
from posed.estimator import open_estimator
from posed.plugins import load_backend
from posed.testing.backend_conformance import BackendConformance, ModelCase
from tests.conftest import CONFORMANCE, MODELS, POSED
from tests.daemon_harness import Daemon, write_config
from tests.kserve_support import InferenceServer, server_available
from tests.mosquitto import Mosquitto, Subscriber


@pytest.fixture(scope="module", autouse=True)
def _server_installed() -> None:
    # A missing server is a broken setup, not a reason to skip: CI would go green untested.
    if not server_available():
        pytest.fail("MLServer is not installed in .venv-mlserver (or $POSED_MLSERVER_VENV): run .ci/setup")


DETECTOR = MODELS / "pose_detection.tflite"
LANDMARKS = MODELS / "pose_landmark_full.tflite"
LITE = MODELS / "pose_landmark_lite.tflite"
RAW_POSENET = MODELS / "posenet_mobilenet_v1_075_353_481_quant.tflite"
# As `posed models fetch` stores it: Coral's file with its quantization corrected (the server
# must run the bytes posed decodes with; see KServeConfig.served). Written by `server`.
POSENET_DIR = Path(tempfile.mkdtemp(prefix="posed-kserve-models-"))
POSENET = POSENET_DIR / RAW_POSENET.name
# The server's model under a wrong name: the detector where PoseNet is asked for.
WRONG = {"posenet_mobilenet_v1_075_353_481_quant": DETECTOR}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, _server_installed: None) -> Iterator[InferenceServer]:
    from posed.posenet.quantfix import write_corrected_copy

    write_corrected_copy(RAW_POSENET, POSENET)
    served = {path.stem: path for path in (DETECTOR, LANDMARKS, LITE, POSENET)}
    try:
        with InferenceServer(tmp_path_factory.mktemp("kserve"), served) as running:
            yield running
    finally:
        shutil.rmtree(POSENET_DIR, ignore_errors=True)


def kserve_config(server: InferenceServer, **extra: Any) -> Any:
    backend = load_backend("kserve")
    return backend, backend.config_model.model_validate({"type": "kserve", "url": server.grpc_url, **extra})


@pytest.fixture(scope="module", autouse=True)
def _conformance_url(server: InferenceServer) -> None:
    TestKServeConformance.config = {"type": "kserve", "url": server.grpc_url}


class TestKServeConformance(BackendConformance):
    """posed's own backend conformance suite, as a third party's backend would run it."""

    backend = "kserve"
    config: ClassVar[dict[str, Any]] = {}  # set to the running server by _conformance_url
    image = CONFORMANCE / "coral-posenet" / "test_couple.jpg"
    cases = (ModelCase(DETECTOR, float_range=(-1.0, 1.0)), ModelCase(POSENET))


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_posenet_poses_are_identical_to_local_tflite(server: InferenceServer, protocol: str) -> None:
    couple = read_image(CONFORMANCE / "coral-posenet" / "test_couple.jpg")
    model = ModelConfig(path=POSENET)
    url = server.grpc_url if protocol == "grpc" else server.http_url
    extra = (
        {} if protocol == "grpc" else {"protocol": "http", "http_binary": False}
    )  # MLServer's REST is JSON
    remote, remote_config = kserve_config(server, url=url, **extra)
    local = load_backend("tflite")
    with (
        open_estimator(model, remote, remote_config, model_dirs=[]) as far,
        open_estimator(model, local, local.config_model(type="tflite"), model_dirs=[]) as near,
    ):
        got, want = far.estimate(couple), near.estimate(couple)
        assert far.devices["main"].startswith("remote:posenet_mobilenet_v1_075_353_481_quant@")
    assert len(got) == len(want) >= 2
    for a, b in zip(got, want, strict=True):
        assert np.array_equal(a.keypoints, b.keypoints)


def test_blazepose_landmarks_agree_with_local_tflite_within_half_a_pixel(server: InferenceServer) -> None:
    image = read_image(CONFORMANCE / "tfjs-pose-detection" / "pose.jpg")
    model = ModelConfig(
        path=LANDMARKS, detector_path=DETECTOR, blazepose=BlazePoseOptions(static_image_mode=True)
    )
    remote, remote_config = kserve_config(server)
    local = load_backend("tflite")
    with (
        open_estimator(model, remote, remote_config, model_dirs=[]) as far,
        open_estimator(model, local, local.config_model(type="tflite"), model_dirs=[]) as near,
    ):
        (got,) = far.estimate(image)
        (want,) = near.estimate(image)
    error = np.hypot(*(got.keypoints[:, :2] - want.keypoints[:, :2]).T)
    assert float(error.max()) <= 0.5, float(error.max())


def test_a_wrong_served_model_is_named_with_its_tensors(server: InferenceServer) -> None:
    from posed_kserve.plugin import ServedModelMismatchError

    remote, config = kserve_config(server, models={"main": {"name": "pose_detection"}})
    with pytest.raises(ServedModelMismatchError) as caught:
        remote.open_session(POSENET, config)
    message = str(caught.value)
    assert "expected input 'image' UINT8 [1, 353, 481, 3]" in message or "expected input" in message, message
    assert "'pose_detection'" in message and "posenet_mobilenet_v1_075_353_481_quant.tflite" in message
    assert caught.value.exit_code == EXIT_CONFIG
    remote, config = kserve_config(server, models={"main": {"name": "no_such_model"}})
    with pytest.raises(ServedModelMismatchError, match="no ready model 'no_such_model'"):
        remote.open_session(POSENET, config)


def test_an_unreachable_server_is_a_retryable_error(tmp_path: Path) -> None:
    from tests.mosquitto import free_port

    backend = load_backend("kserve")
    config = backend.config_model.model_validate(
        {"type": "kserve", "url": f"127.0.0.1:{free_port()}", "connect_timeout": 1.0}
    )
    with pytest.raises(BackendUnreachableError, match="readiness check failed"):
        backend.open_session(POSENET, config)


def test_credentials_come_from_the_environment(
    server: InferenceServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bearer token and an API key header go with every request; a missing variable is an error."""
    _, config = kserve_config(
        server, token_env="POSED_TEST_TOKEN", api_key_header="X-Api-Key", api_key_env="POSED_TEST_KEY"
    )
    monkeypatch.setenv("POSED_TEST_TOKEN", "t0k3n")
    monkeypatch.setenv("POSED_TEST_KEY", "k3y")
    assert config.headers() == {"authorization": "Bearer t0k3n", "x-api-key": "k3y"}
    monkeypatch.delenv("POSED_TEST_KEY")
    with pytest.raises(ValueError, match="POSED_TEST_KEY is not set"):
        config.headers()


def _remote_config(path: Path, server: InferenceServer, broker: Mosquitto, *, camera: str = "") -> Path:
    return write_config(
        path,
        port=broker.port,
        backend=f"{{type: kserve, url: '{server.grpc_url}', timeout: 2}}",
        camera=camera,
    ).resolve()


def test_the_daemon_publishes_poses_and_rides_out_a_server_outage(
    tmp_path: Path, server: InferenceServer
) -> None:
    """The server is killed mid-stream: posed keeps running, says so, counts it, and resumes by itself."""
    with (
        Mosquitto(tmp_path) as broker,
        Subscriber(broker, ["posed/#"]) as sub,
    ):
        config = _remote_config(tmp_path / "posed.yaml", server, broker)
        with Daemon(config, tmp_path / "posed.log") as daemon:
            first = sub.wait_for(lambda m: m.topic == "posed/dev/street/poses", timeout=90)
            assert json.loads(first.payload)["camera"] == "street"
            server.kill()
            daemon.wait_log("inference backend unreachable", timeout=30)
            cut = sub.wait_for(
                lambda m: (
                    m.topic == "posed/dev/stats"
                    and json.loads(m.payload)["cameras"]["street"]["status"] == "degraded"
                ),
                timeout=30,
            )
            assert json.loads(cut.payload)["cameras"]["street"]["failed_inferences"] >= 1
            # Home Assistant: the camera's entities go unavailable; its status says why.
            sub.wait_for(lambda m: m.topic == "posed/dev/street/status" and m.text == "degraded", timeout=10)
            sub.wait_for(
                lambda m: m.topic == "posed/dev/street/availability" and m.text == "offline", timeout=10
            )
            server.start()
            daemon.wait_log("inference backend back after", timeout=60)
            back = sub.wait_for(lambda m: m.topic == "posed/dev/street/poses" and m.at > cut.at, timeout=30)
            assert json.loads(back.payload)["camera"] == "street"
            sub.wait_for(
                lambda m: m.topic == "posed/dev/street/availability" and m.text == "online" and m.at > cut.at,
                timeout=30,
            )
            assert daemon.process.poll() is None
            daemon.signal(signal.SIGTERM)
            assert daemon.process.wait(30) == 0
        log = daemon.log_text()
        assert "Traceback" not in log, log
        # One warning per outage, not one per frame.
        assert log.count("inference backend unreachable") == 1, log


def test_a_wrong_served_model_stops_run_with_exit_78(tmp_path: Path) -> None:
    with InferenceServer(tmp_path, WRONG) as wrong, Mosquitto(tmp_path) as broker:
        config = write_config(
            tmp_path / "posed.yaml",
            port=broker.port,
            backend=f"{{type: kserve, url: '{wrong.grpc_url}'}}",
        ).read_text()
        path = tmp_path / "wrong.yaml"
        path.write_text(config.replace("model: {name: blazepose-lite}", f"model: {{path: {POSENET}}}"))
        done = subprocess.run([*POSED, "run", "-c", str(path)], capture_output=True, text=True, timeout=120)
        assert done.returncode == EXIT_CONFIG, done.stderr
        assert "is not posenet_mobilenet_v1_075_353_481_quant.tflite" in done.stderr
        checked = subprocess.run(
            [*POSED, "check", "-c", str(path)], capture_output=True, text=True, timeout=120
        )
        assert (
            checked.returncode == 2
            and "is not posenet_mobilenet_v1_075_353_481_quant.tflite" in checked.stderr
        )
