"""Other libraries' messages go through posed's logging, or stay quiet, and real errors still show.

Before: ruamel's ReusedAnchorWarning, OpenCV's `[ WARN:0@...]`, FFmpeg's `[mjpeg @...]`
and LiteRT's `INFO: Created TensorFlow Lite XNNPACK delegate` went raw to stderr.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MEDIA, MODELS, POSED

RAW = ("[mjpeg @", "[ WARN:", "INFO: Created TensorFlow Lite", "[mov,mp4")


@pytest.fixture(scope="module")
def damaged_mjpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds of vtest.avi as MJPEG with zeroed runs of bytes: FFmpeg complains on every frame."""
    folder = tmp_path_factory.mktemp("mjpeg")
    clip = folder / "clip.avi"
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(MEDIA / "vtest.avi"),
            "-t",
            "2",
            "-c:v",
            "mjpeg",
            str(clip),
        ],
        check=True,
    )
    data = bytearray(clip.read_bytes())
    for at in range(20000, len(data), 5000):
        data[at : at + 40] = bytes(40)
    damaged = folder / "damaged.avi"
    damaged.write_bytes(bytes(data))
    return damaged


def _config(path: Path, video: Path) -> Path:
    """Two cameras on one file, each with the anchor `&cam`: ruamel warns about the reused anchor."""
    camera = f"{{type: video, path: {video}}}"
    path.write_text(
        "device_id: thirdparty\n"
        "backend: {type: tflite, num_threads: 1}\n"
        "model: {name: blazepose-lite}\n"
        f"cameras:\n  door: &cam {camera}\n  side: &cam {camera}\n"
        "mqtt: {host: 127.0.0.1, port: 1883, topic_prefix: posed-test-logs}\n"
    )
    return path


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("OPENCV_", "JOURNAL_STREAM", "NOTIFY_"))}


def test_run_logs_no_raw_third_party_lines(tmp_path: Path, damaged_mjpeg: Path) -> None:
    config = _config(tmp_path / "posed.yaml", damaged_mjpeg)
    result = subprocess.run(
        [*POSED, "run", "-c", str(config), "--model-dir", str(MODELS)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    for raw in RAW:
        assert raw not in result.stderr, result.stderr
    assert "every camera reached the end" in result.stderr


def test_check_routes_python_warnings_and_litert_chatter_and_keeps_errors(tmp_path: Path) -> None:
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video")
    config = _config(tmp_path / "posed.yaml", fake)
    for level, litert in (("warning", False), ("debug", True)):
        result = subprocess.run(
            [*POSED, "--log-level", level, "check", "-c", str(config), "--model-dir", str(MODELS)],
            capture_output=True,
            text=True,
            env=_env(),
        )
        assert result.returncode == 2
        if level != "debug":  # at debug, OpenCV's and FFmpeg's own warnings are wanted
            for raw in RAW:
                assert raw not in result.stderr, result.stderr
        assert "INFO: Created TensorFlow Lite" not in result.stderr
        # The reused anchor is a log record now, with its level and logger.
        assert "WARNING py.warnings:" in result.stderr and "ReusedAnchorWarning" in result.stderr
        # LiteRT's INFO line is a debug record, shown only at debug.
        assert ("DEBUG posed.litert: Created TensorFlow Lite XNNPACK delegate" in result.stderr) == litert
        # The real error is still there, from posed itself.
        assert "cameras.door" in result.stderr and "fake.mp4" in result.stderr
