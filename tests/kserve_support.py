"""A real Open Inference Protocol server for tests: MLServer serving .tflite files with LiteRT.

    with InferenceServer(tmp_path, {"pose_detection": MODELS / "pose_detection.tflite"}) as server:
        config = {"type": "kserve", "url": server.grpc_url}   # or protocol: http, url: server.http_url
        server.kill(); server.start()                         # an outage, on the same ports

MLServer runs from .venv-mlserver (made by .ci/setup) with tests/servers/mlserver_litert.py
as its runtime. Only the process started here is ever signalled.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from tests.mosquitto import free_port

REPO = Path(__file__).resolve().parent.parent
# $POSED_MLSERVER_VENV lets a copy of the tree (bench/mutate.py) use this checkout's server venv.
SERVER_VENV = Path(os.environ.get("POSED_MLSERVER_VENV", REPO / ".venv-mlserver"))
RUNTIME_DIR = Path(__file__).resolve().parent / "servers"
START_TIMEOUT = 120.0  # seconds; MLServer imports a lot on a loaded 2-core machine


def server_available() -> bool:
    return (SERVER_VENV / "bin" / "mlserver").is_file()


class InferenceServer:
    def __init__(self, directory: Path, models: Mapping[str, Path], *, max_batch_size: int = 0) -> None:
        self.directory = directory / "mlserver"
        self.models = dict(models)
        self.max_batch_size = max_batch_size
        self.http_port = free_port()
        self.grpc_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = self.directory / "server.log"

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"127.0.0.1:{self.http_port}"

    def _write_settings(self) -> None:
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True)
        settings = {
            "debug": False,
            "host": "127.0.0.1",
            "http_port": self.http_port,
            "grpc_port": self.grpc_port,
            "parallel_workers": 0,  # models in the server process: one LiteRT interpreter each
            "metrics_endpoint": None,
            "metrics_port": free_port(),
            "load_models_at_startup": True,
        }
        (self.directory / "settings.json").write_text(json.dumps(settings))
        for name, path in self.models.items():
            folder = self.directory / name
            folder.mkdir()
            model_settings: dict[str, object] = {
                "name": name,
                "implementation": "mlserver_litert.LiteRTModel",
                "parameters": {"uri": str(path), "extra": {"fault_file": str(self.fault_file(name))}},
            }
            (folder / "model-settings.json").write_text(json.dumps(model_settings))

    def start(self) -> None:
        if self._process is None and not self.directory.exists():
            self._write_settings()
        env = dict(os.environ, PYTHONPATH=str(RUNTIME_DIR), MLSERVER_METRICS_DIR=str(self.directory))
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [str(SERVER_VENV / "bin" / "mlserver"), "start", str(self.directory)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.directory,
                start_new_session=True,
            )
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        url = f"http://{self.http_url}/v2/health/ready"
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"MLServer exited {self._process.returncode}:\n{self.log_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=1.0) as answer:
                    if answer.status == 200 and self._models_ready():
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"MLServer not ready after {START_TIMEOUT} s:\n{self.log_text()[-3000:]}")

    def _models_ready(self) -> bool:
        for name in self.models:
            try:
                with urllib.request.urlopen(
                    f"http://{self.http_url}/v2/models/{name}/ready", timeout=1.0
                ) as r:
                    if r.status != 200:
                        return False
            except OSError:
                return False
        return True

    def fault_file(self, model: str) -> Path:
        return self.directory.parent / f"{model}.fault"

    def misbehave(self, model: str, fault: str) -> None:
        """From the next request on, `model` answers with `fault` (tests/servers/mlserver_litert.py's
        FAULTS: raise, shape, float64, empty, inf, huge, nan); "" answers normally again."""
        self.fault_file(model).write_text(fault)

    def repository(self, model: str, action: str) -> None:
        """The model repository extension: `load` or `unload` `model`, as an operator would."""
        request = urllib.request.Request(
            f"http://{self.http_url}/v2/repository/models/{model}/{action}", data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            if answer.status != 200:
                raise RuntimeError(f"MLServer: {action} {model} answered {answer.status}")

    def kill(self) -> None:
        """SIGKILL the server's process group, like a crash or a pulled cable."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def log_text(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def __enter__(self) -> InferenceServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.kill()
