"""The page as a part of `posed run`: SIGHUP restarts it alone, SIGTERM ends its streams, port taken."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from posed.config.loader import load_config
from posed.daemon.reload import plan_reload
from posed.daemon.service import _secrets
from posed.errors import EXIT_FAILURE, EXIT_USAGE
from tests.conftest import MODELS, POSED
from tests.daemon_harness import Daemon
from tests.mosquitto import Mosquitto
from tests.preview_support import page_url, preview_config

TOKEN = "daemon-test-token-0123"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path_factory.mktemp("broker")) as broker:
        yield broker


def test_a_preview_change_plans_only_the_page(tmp_path: Path) -> None:
    old = load_config(preview_config(tmp_path / "a.yaml", broker_port=1883, preview="{enabled: true}"))
    new = load_config(
        preview_config(tmp_path / "b.yaml", broker_port=1883, preview="{enabled: true, max_fps: 2}")
    )
    plan = plan_reload(old, new)
    assert plan.describe() == "preview"
    assert not (plan.estimators or plan.publisher or plan.cameras_changed)
    assert not plan_reload(old, old).changed


def get(url: str, **headers: str) -> int:
    async def fetch() -> int:
        async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
            return response.status

    return asyncio.run(fetch())


def refused(url: str) -> bool:
    try:
        get(url)
    except aiohttp.ClientConnectionError:
        return True
    return False


def stats(url: str, **headers: str) -> dict[str, Any]:
    async def fetch() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
            assert response.status == 200
            document: dict[str, Any] = await response.json()
            return document

    return asyncio.run(fetch())


def test_sighup_restarts_only_the_page(tmp_path: Path, broker: Mosquitto) -> None:
    config = preview_config(
        tmp_path / "posed.yaml", broker_port=broker.port, preview="{enabled: true, port: 0}"
    )
    with Daemon(config, tmp_path / "posed.log") as daemon:
        daemon.notify.wait_for("READY=1", timeout=60)
        first = page_url(daemon)
        assert get(first + "api/stats") == 200
        preview_config(config, broker_port=broker.port, preview=f"{{enabled: true, port: 0, token: {TOKEN}}}")
        daemon.signal(signal.SIGHUP)
        daemon.wait_log("reloaded: restarted preview\n", timeout=30)
        second = page_url(daemon, nth=1)
        assert refused(first + "api/stats") or first == second
        assert get(second + "api/stats") == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        # The worker went on: the camera was not reopened and the model not reloaded.
        deadline = time.monotonic() + 30
        # null until measured (a whole window of frames), then 0 if none were processed.
        while not stats(second + "api/stats", **bearer)["cameras"]["squats"]["processed_fps"]:
            assert time.monotonic() < deadline, "no frames processed after the reload"
            time.sleep(0.5)
        log = daemon.log_text()
        assert log.count(" loaded in ") == 1
        assert "camera squats" not in log.split("SIGHUP received")[1]
        assert TOKEN not in log  # the token is a secret like the MQTT password


def test_sigterm_closes_an_open_stream_promptly(tmp_path: Path, broker: Mosquitto) -> None:
    config = preview_config(
        tmp_path / "posed.yaml", broker_port=broker.port, preview="{enabled: true, port: 0}"
    )
    with Daemon(config, tmp_path / "posed.log") as daemon:
        daemon.notify.wait_for("READY=1", timeout=60)
        url = page_url(daemon)
        frames = threading.Event()
        result: dict[str, Any] = {}

        async def watch() -> None:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(url + "api/cameras/squats/ws") as ws,
            ):
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.BINARY:
                        frames.set()
                result["code"] = ws.close_code
                result["at"] = time.monotonic()

        viewer = threading.Thread(target=lambda: asyncio.run(watch()))
        viewer.start()
        assert frames.wait(30), "no frame reached the viewer"
        sent = time.monotonic()
        daemon.signal(signal.SIGTERM)
        assert daemon.process.wait(10) == 0
        exited = time.monotonic()
        viewer.join(5)
    assert result["code"] == aiohttp.WSCloseCode.GOING_AWAY
    assert result["at"] - sent < 2.0
    assert exited - sent < 5.0


def test_a_taken_port_fails_the_start_with_a_clear_error(tmp_path: Path, broker: Mosquitto) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = preview_config(
            tmp_path / "posed.yaml", broker_port=broker.port, preview=f"{{enabled: true, port: {port}}}"
        )
        with Daemon(config, tmp_path / "posed.log") as daemon:
            assert daemon.process.wait(60) == EXIT_FAILURE
            assert f"preview: cannot listen on 127.0.0.1:{port}" in daemon.log_text()


def test_a_disabled_page_keeps_aiohttp_out(tmp_path: Path) -> None:
    config = preview_config(tmp_path / "posed.yaml", broker_port=1883, preview="{enabled: false}")
    code = (
        "import sys\n"
        "from posed.config.loader import load_config\n"
        "from posed.daemon.service import Daemon\n"
        "from posed.daemon.preview import PreviewPart\n"
        "part = PreviewPart()\n"
        f"part.start(load_config({str(config)!r}))\n"
        "assert part.server is None\n"
        "print('aiohttp' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_token_joins_the_secrets_the_log_redactor_hides(tmp_path: Path) -> None:
    config = preview_config(
        tmp_path / "posed.yaml", broker_port=1883, preview=f"{{enabled: true, token: {TOKEN}}}"
    )
    assert TOKEN in _secrets(load_config(config))


def test_a_reload_to_a_taken_port_keeps_the_page_on_the_old_settings(
    tmp_path: Path, broker: Mosquitto
) -> None:
    config = preview_config(
        tmp_path / "posed.yaml", broker_port=broker.port, preview="{enabled: true, port: 0}"
    )
    with Daemon(config, tmp_path / "posed.log") as daemon, socket.socket() as taken:
        daemon.notify.wait_for("READY=1", timeout=60)
        page_url(daemon)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        preview_config(config, broker_port=broker.port, preview=f"{{enabled: true, port: {port}}}")
        daemon.signal(signal.SIGHUP)
        daemon.wait_log("still running the previous config", timeout=30)
        assert f"preview: cannot listen on 127.0.0.1:{port}" in daemon.log_text()
        again = page_url(daemon, nth=1)  # the previous settings: any free port
        assert get(again + "api/stats") == 200
        assert daemon.process.poll() is None


BLOCK_AIOHTTP = """\
import sys


class BlockAiohttp:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "aiohttp":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, BlockAiohttp())
"""


def test_without_aiohttp_check_and_run_say_which_extra_to_install(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "sitecustomize.py").write_text(BLOCK_AIOHTTP)
    env = {**os.environ, "PYTHONPATH": str(blocked)}
    config = preview_config(tmp_path / "posed.yaml", broker_port=1883, preview="{enabled: true, port: 0}")
    check = subprocess.run(
        [*POSED, "check", "-c", str(config), "--model-dir", str(MODELS)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert check.returncode == EXIT_USAGE
    assert f"{config}:7: preview.enabled: the preview page needs aiohttp" in check.stderr
    assert "pip install 'posed[preview]'" in check.stderr
    with Daemon(config, tmp_path / "posed.log", env=env) as daemon:
        assert daemon.process.wait(60) == EXIT_FAILURE
        assert "preview.enabled needs aiohttp" in daemon.log_text()
        assert "pip install 'posed[preview]'" in daemon.log_text()
