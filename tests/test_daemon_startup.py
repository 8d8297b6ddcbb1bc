"""`posed run` refusing to start: exit codes and the log format, as a real subprocess."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.conftest import MEDIA, POSED

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")

BROKEN = """\
device_id: dev
backend: {type: tflite, num_threads: 0}
model: {name: blazepose-lite}
cameras:
  front: {type: video, path: x.avi, colour: red}
"""


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*POSED, "run", *args], env=env, capture_output=True, text=True, timeout=60)


def test_config_error_exits_78_and_names_every_mistake(tmp_path: Path) -> None:
    config = tmp_path / "posed.yaml"
    config.write_text(BROKEN)
    result = _run(["-c", str(config)])
    assert result.returncode == 78, result.stderr
    lines = result.stderr.splitlines()
    assert any(f"{config}:2: backend.num_threads" in line for line in lines), result.stderr
    assert any(f"{config}:5: cameras.front.colour" in line for line in lines), result.stderr
    # Not under journald: human-readable, every line timestamped.
    assert lines and all(TIMESTAMP.match(line) for line in lines), result.stderr


def test_a_missing_config_file_exits_78(tmp_path: Path) -> None:
    result = _run(["-c", str(tmp_path / "absent.yaml")])
    assert result.returncode == 78
    assert "cannot read config" in result.stderr


def test_under_journald_lines_carry_syslog_priorities(tmp_path: Path) -> None:
    config = tmp_path / "posed.yaml"
    config.write_text(BROKEN)
    read_fd, write_fd = os.pipe()
    st = os.fstat(write_fd)
    env = {**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
    with os.fdopen(read_fd) as reader:
        process = subprocess.Popen([*POSED, "run", "-c", str(config)], env=env, stderr=write_fd)
        os.close(write_fd)
        text = reader.read()
        assert process.wait(timeout=60) == 78
    lines = text.splitlines()
    assert lines, "nothing logged"
    assert all(line.startswith("<3>") for line in lines), text
    assert not any(TIMESTAMP.match(line[3:]) for line in lines), "journald adds its own timestamps"
    assert any("cameras.front.colour" in line for line in lines)


def test_a_missing_model_exits_78_with_the_fetch_command(tmp_path: Path) -> None:
    config = tmp_path / "posed.yaml"
    config.write_text(
        "device_id: dev\n"
        "backend: {type: tflite}\n"
        "model: {name: blazepose-heavy}\n"
        f"cameras: {{front: {{type: video, path: {MEDIA / 'vtest.avi'}}}}}\n"
    )
    empty = tmp_path / "models"
    empty.mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("POSED_MODEL_DIR", None)
    result = _run(["-c", str(config), "--model-dir", str(empty)], env)
    assert result.returncode == 78, result.stderr
    assert "posed models fetch blazepose-heavy" in result.stderr
