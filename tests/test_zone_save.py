"""Saving a zone into the config: the round-trip edit, validation, backup, and the endpoint's
refusals (no Origin, not JSON, stale, invalid, editing off). The browser flow is in
tests/test_zone_save_browser.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from posed.config.zone_write import StaleConfigError, ZoneWriter, edited, version_of
from posed.errors import ConfigError
from posed.preview.config import PreviewConfig
from posed.preview.server import PreviewServer
from posed.preview.tap import CameraView, PreviewTap
from posed.preview.zone_edit import ZoneEditor
from tests.conftest import MEDIA, MODELS

CONFIG = f"""\
# posed at home  -- a comment that must survive
device_id: dev   # the device
backend: {{type: tflite, num_threads: 1}}
model: {{name: blazepose-lite}}
model_dir: {MODELS}
cameras:
  hall:
    type: video
    path: {MEDIA / "vtest.avi"}
    zones:
      # the bed, with its own inertia
      bed: {{points: [[0, 0], [0.5, 0], [0.5, 0.5]], inertia: 5}}
"""
SQUARE = [(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9)]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "posed.yaml"
    path.write_text(CONFIG)
    path.chmod(0o640)
    return path


def test_a_new_zone_is_written_with_comments_layout_and_a_backup(config: Path) -> None:
    writer = ZoneWriter(config, cli_model_dir=None)
    saved = writer.save("hall", "floor", SQUARE, writer.version())
    text = config.read_text()
    assert text.startswith(CONFIG.rstrip("\n"))  # everything before kept as it was, comments too
    assert "floor:\n        points: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]" in text
    assert saved.backup.read_text() == CONFIG and saved.version == version_of(text.encode())
    assert config.stat().st_mode & 0o777 == 0o640
    assert not list(config.parent.glob(".posed.yaml.*"))  # no temporary file left


def test_an_existing_zone_keeps_its_other_settings() -> None:
    text = edited(CONFIG, "hall", "bed", SQUARE)
    assert "bed: {points: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]], inertia: 5}" in text
    assert "# the bed, with its own inertia" in text


def test_an_invalid_zone_is_refused_with_posed_error_and_the_file_untouched(config: Path) -> None:
    writer = ZoneWriter(config, cli_model_dir=None)
    with pytest.raises(ConfigError) as caught:
        writer.save("hall", "floor", [(0.1, 0.1), (1.5, 0.1), (0.5, 0.5)], writer.version())
    (issue,) = caught.value.issues
    assert issue.file == str(config) and issue.key.startswith("cameras.hall.zones.floor") and issue.line
    assert config.read_text() == CONFIG and not config.with_name("posed.yaml.bak").exists()


def test_a_stale_version_or_an_unknown_camera_is_refused(config: Path) -> None:
    writer = ZoneWriter(config, cli_model_dir=None)
    with pytest.raises(StaleConfigError):
        writer.save("hall", "floor", SQUARE, version_of(b"what the page loaded earlier"))
    with pytest.raises(ConfigError):
        writer.save("garage", "floor", SQUARE, writer.version())
    assert config.read_text() == CONFIG


async def post(url: str, body: Any, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status, await response.text()


def test_the_endpoint_refuses_what_a_page_would_not_send(config: Path) -> None:
    reloads: list[int] = []
    tap = PreviewTap()
    tap.set_cameras({"hall": CameraView(zones={})})
    editor = ZoneEditor(ZoneWriter(config, cli_model_dir=None), lambda: reloads.append(1))
    with PreviewServer(PreviewConfig(enabled=True, port=0, allow_edit=True), tap, editor) as server:
        url = server.url + "api/cameras/hall/zones"
        origin = server.url.rstrip("/")
        version = version_of(config.read_bytes())
        body = json.dumps({"name": "floor", "points": SQUARE, "version": version})
        as_json = {"Content-Type": "application/json"}
        assert asyncio.run(post(url, body, as_json))[0] == 403  # no Origin
        assert asyncio.run(post(url, body, {**as_json, "Origin": "http://evil.example"}))[0] == 403
        assert asyncio.run(post(url, body, {"Content-Type": "text/plain", "Origin": origin}))[0] == 415
        bad = json.dumps({"name": "floor", "points": [[0, 0]], "version": version})
        assert asyncio.run(post(url, bad, {**as_json, "Origin": origin}))[0] == 400
        assert config.read_text() == CONFIG and reloads == []
        status, text = asyncio.run(post(url, body, {**as_json, "Origin": origin}))
        assert status == 200 and json.loads(text)["version"] == version_of(config.read_bytes())
        assert reloads == [1]
        status, text = asyncio.run(post(url, body, {**as_json, "Origin": origin}))  # the old version
        assert status == 409 and "changed since the page loaded" in text and reloads == [1]
    with PreviewServer(PreviewConfig(enabled=True, port=0), tap, editor) as server:  # editing off
        status, _ = asyncio.run(post(server.url + "api/cameras/hall/zones", body, as_json))
        assert status in (404, 405)
