"""A misbehaving inference server, a real one (MLServer + LiteRT) made to misbehave on demand.

Each bad answer (a server-side exception, a wrong shape, float64, an empty tensor, all
inf, 3e38 or NaN) is one failed inference: counted, the frame dropped, the camera
degraded and back once the server answers well again; never a worker crash. A model
unloaded on the server while posed runs is an outage too, not exit 78. HTTP works from
the daemon's worker threads. Malformed metadata is one clear error, not a traceback.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from posed.errors import EXIT_FAILURE, BackendUnreachableError
from posed.plugins import load_backend
from tests.conftest import MODELS, POSED
from tests.daemon_harness import Daemon, write_config
from tests.kserve_support import InferenceServer, server_available
from tests.mosquitto import Mosquitto, Received, Subscriber

DETECTOR, LANDMARKS = "pose_detection", "pose_landmark_lite"
FAULTS = ("raise", "shape", "float64", "empty", "inf", "huge", "nan")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InferenceServer]:
    if not server_available():
        pytest.fail("MLServer is not installed in .venv-mlserver (or $POSED_MLSERVER_VENV): run .ci/setup")
    served = {name: MODELS / f"{name}.tflite" for name in (DETECTOR, LANDMARKS)}
    with InferenceServer(tmp_path_factory.mktemp("faults"), served) as running:
        yield running


def _config(path: Path, broker: Mosquitto, backend: str) -> Path:
    return write_config(path, port=broker.port, backend=backend).resolve()


def _status(message: Received) -> str | None:
    if message.topic != "posed/dev/stats":
        return None
    return str(json.loads(message.payload)["cameras"]["street"]["status"])


def _failed(message: Received) -> int:
    return int(json.loads(message.payload)["cameras"]["street"]["failed_inferences"])


def _poses_after(sub: Subscriber, at: float, timeout: float = 60) -> Received:
    return sub.wait_for(lambda m: m.topic == "posed/dev/street/poses" and m.at > at, timeout=timeout)


def _availability(sub: Subscriber, text: str, after: float) -> Received:
    return sub.wait_for(
        lambda m: m.topic == "posed/dev/street/availability" and m.text == text and m.at > after, timeout=30
    )


def test_every_kind_of_bad_answer_is_a_failed_inference_ridden_out(
    tmp_path: Path, server: InferenceServer
) -> None:
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["posed/#"]) as sub:
        config = _config(tmp_path / "posed.yaml", broker, f"{{type: kserve, url: '{server.grpc_url}'}}")
        with Daemon(config, tmp_path / "posed.log") as daemon:
            mark = _poses_after(sub, 0.0, timeout=90).at
            for number, fault in enumerate(FAULTS, start=1):
                for model in (DETECTOR, LANDMARKS):
                    server.misbehave(model, fault)
                cut = _availability(sub, "offline", mark)
                assert daemon.log_text().count("inference backend") == 2 * number - 1, daemon.log_text()
                for model in (DETECTOR, LANDMARKS):
                    server.misbehave(model, "")
                mark = _poses_after(sub, cut.at).at
                _availability(sub, "online", cut.at)
                assert daemon.process.poll() is None, fault
            sub.wait_for(lambda m: _status(m) == "online" and _failed(m) >= len(FAULTS), timeout=30)
            daemon.signal(signal.SIGTERM)
            assert daemon.process.wait(30) == 0
        log = daemon.log_text()
    assert "Traceback" not in log and "restarting its worker" not in log, log
    assert log.count("inference backend back after") == len(FAULTS), log
    assert "holds values no network produces" in log and "returned float64" in log, log


def test_http_works_from_the_daemon_and_an_unloaded_model_is_waited_for(
    tmp_path: Path, server: InferenceServer
) -> None:
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["posed/#"]) as sub:
        # MLServer's REST has no binary tensor extension: JSON arrays.
        backend = f"{{type: kserve, protocol: http, http_binary: false, url: '{server.http_url}'}}"
        config = _config(tmp_path / "posed.yaml", broker, backend)
        with Daemon(config, tmp_path / "posed.log") as daemon:
            first = _poses_after(sub, 0.0, timeout=90)
            later = _poses_after(sub, first.at)  # not one lucky frame: the worker keeps inferring
            try:
                for model in (DETECTOR, LANDMARKS):  # a tracked person needs the landmarks alone
                    server.repository(model, "unload")
                cut = _availability(sub, "offline", later.at)
                daemon.wait_log("inference backend", timeout=30)
                assert daemon.process.poll() is None
            finally:
                for model in (DETECTOR, LANDMARKS):
                    server.repository(model, "load")
            daemon.wait_log("inference backend back after", timeout=60)
            _poses_after(sub, cut.at)
            _availability(sub, "online", cut.at)
            daemon.signal(signal.SIGTERM)
            assert daemon.process.wait(30) == 0
        log = daemon.log_text()
    assert "Cannot switch to a different thread" not in log and "Traceback" not in log, log


def test_a_model_unloaded_after_it_was_served_is_an_outage_when_reopened(server: InferenceServer) -> None:
    backend = load_backend("kserve")
    config = backend.config_model.model_validate({"type": "kserve", "url": server.grpc_url})
    path = MODELS / f"{LANDMARKS}.tflite"
    backend.open_session(path, config, role="landmarks").close()
    server.repository(LANDMARKS, "unload")
    try:
        with pytest.raises(BackendUnreachableError, match="was served earlier and is not loaded now"):
            backend.open_session(path, config, role="landmarks")
    finally:
        server.repository(LANDMARKS, "load")
    backend.open_session(path, config, role="landmarks").close()


class _Malformed(BaseHTTPRequestHandler):
    """A KServe v2 REST server whose model metadata is not the protocol's."""

    def do_GET(self) -> None:
        body = b"{}" if self.path.endswith("/ready") else json.dumps({"inputs": 7, "outputs": "zz"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_malformed_model_metadata_is_one_clear_error(tmp_path: Path) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Malformed)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"127.0.0.1:{httpd.server_address[1]}"
        config = write_config(
            tmp_path / "posed.yaml", port=1, backend=f"{{type: kserve, protocol: http, url: '{url}'}}"
        )
        expected = "is malformed: inputs is 7; expected a list of tensors"
        checked = subprocess.run(
            [*POSED, "check", "-c", str(config), "--model-dir", str(MODELS)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert checked.returncode != 0 and expected in checked.stdout + checked.stderr, checked
        assert "Traceback" not in checked.stdout + checked.stderr
        run = subprocess.run(
            [*POSED, "run", "-c", str(config), "--model-dir", str(MODELS)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == EXIT_FAILURE and expected in run.stderr, run.stderr
        assert "Traceback" not in run.stderr
    finally:
        httpd.shutdown()
        httpd.server_close()
