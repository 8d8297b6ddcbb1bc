"""URL credentials are masked wherever posed prints a URL, and nothing else is touched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from posed.daemon.logs import Redactor
from posed.urls import mask_url_credentials
from tests.conftest import POSED


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("rtsp://admin:s3cret@cam.local:554/s1", "rtsp://admin:***@cam.local:554/s1"),
        ("rtsp://admin:p:a:ss@cam/s1 failed", "rtsp://admin:***@cam/s1 failed"),
        ("http://cam/video.cgi?user=admin&password=hunter2", "http://cam/video.cgi?user=admin&password=***"),
        ("http://cam/v?password=hunter2&res=hd", "http://cam/v?password=***&res=hd"),
        ("'http://cam/v?pwd=x1y2' timed out", "'http://cam/v?pwd=***' timed out"),
        ("(http://cam/v?token=abc)", "(http://cam/v?token=***)"),
        ("http://cam/v?Pass=a;key=b#frag", "http://cam/v?Pass=***;key=***#frag"),
        ("http://cam/v?auth=abc\nnext line", "http://cam/v?auth=***\nnext line"),
        ("<http://cam/v?key=k>", "<http://cam/v?key=***>"),
    ],
)
def test_masks_user_info_and_secret_query_parameters_and_keeps_the_next_character(
    text: str, masked: str
) -> None:
    assert mask_url_credentials(text) == masked
    assert Redactor()(text) == masked  # the daemon's log formatter


@pytest.mark.parametrize(
    "text",
    [
        "http://cam:8080/video?user=admin&resolution=640x480",
        "http://cam/v?keepalive=30&monkey=1&passenger=2&tokens=3",
        "rtsp://cam.local/s1",
        "user admin at host:554 with key=value outside a url",
        "http://user@cam/v",
    ],
)
def test_masks_nothing_else(text: str) -> None:
    assert mask_url_credentials(text) == text


def test_check_never_prints_a_stream_password(tmp_path: Path) -> None:
    config = tmp_path / "posed.yaml"
    config.write_text(
        "device_id: dev\nbackend: {type: tflite}\nmodel: {name: blazepose-lite}\ncameras:\n"
        "  door: {type: stream, url: 'http://127.0.0.1:9/video.cgi?user=admin&password=hunter2', "
        "open_timeout: 1}\n"
        "  gate: {type: stream, url: 'rtsp://admin:tiger7@127.0.0.1:9/s1', open_timeout: 1}\n"
    )
    result = subprocess.run([*POSED, "check", "-c", str(config)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "cameras.door" in result.stderr and "cameras.gate" in result.stderr
    assert "hunter2" not in result.stderr and "tiger7" not in result.stderr
    assert "password=***" in result.stderr and "admin:***@127.0.0.1:9" in result.stderr


def test_a_closing_parenthesis_inside_a_password_is_masked_too() -> None:
    assert mask_url_credentials("http://cam/v?password=a)b&x=1") == "http://cam/v?password=***&x=1"
