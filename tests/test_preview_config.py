"""The `preview:` section: off by default, loopback by default, a token off loopback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from posed.config import load_config
from posed.errors import EXIT_USAGE, ConfigError
from posed.preview.config import PreviewConfig, is_loopback
from tests.conftest import MEDIA, MODELS, POSED

BASE = """\
device_id: dev
backend: {type: tflite}
model: {name: blazepose-lite}
cameras:
  front: {type: video, path: %s}
""" % (MEDIA / "vtest.avi")


def write(tmp_path: Path, preview: str) -> Path:
    path = tmp_path / "posed.yaml"
    path.write_text(BASE + preview)
    return path


def test_defaults_are_off_and_loopback() -> None:
    config = PreviewConfig()
    assert (config.enabled, config.host, config.token, config.max_fps) == (False, "127.0.0.1", None, 5.0)


def test_an_open_host_without_token_is_a_config_error_on_the_host_line(tmp_path: Path) -> None:
    path = write(tmp_path, "preview:\n  enabled: true\n  host: 0.0.0.0\n  port: 8090\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [issue] = caught.value.issues
    assert (issue.line, issue.key) == (8, "preview.host")
    assert "preview.token" in issue.message and "127.0.0.1" in issue.message
    result = subprocess.run(
        [*POSED, "check", "-c", str(path), "--model-dir", str(MODELS)], capture_output=True, text=True
    )
    assert result.returncode == EXIT_USAGE  # `posed check` found a problem
    assert f"{path}:8: preview.host" in result.stdout + result.stderr


def test_an_open_host_with_a_token_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "preview: {enabled: true, host: 0.0.0.0, token: 0123456789abcdef0123}\n")
    assert load_config(path).config.preview.token == "0123456789abcdef0123"


def test_a_disabled_page_needs_no_token(tmp_path: Path) -> None:
    path = write(tmp_path, "preview: {enabled: false, host: 0.0.0.0}\n")
    assert load_config(path).config.preview.host == "0.0.0.0"


@pytest.mark.parametrize(
    ("preview", "key"),
    [
        ("{token: short}", "preview.token"),
        ("{token: 'has spaces in it, sixteen+'}", "preview.token"),
        ("{max_fps: 0}", "preview.max_fps"),
        ("{max_fps: 100}", "preview.max_fps"),
        ("{port: 70000}", "preview.port"),
        ("{colour: blue}", "preview.colour"),
    ],
)
def test_out_of_range_values_are_located(tmp_path: Path, preview: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, f"preview: {preview}\n"))
    assert [issue.key for issue in caught.value.issues] == [key]
    assert caught.value.issues[0].line == 6


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.5.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("posed.local", False),
    ],
)
def test_loopback_is_decided_without_a_lookup(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
