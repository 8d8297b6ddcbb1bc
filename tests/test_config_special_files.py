"""FIFOs, devices, YAML values that cannot be built, a preview host posed cannot listen on: config
errors on their line, never a hang or a crash.

A FIFO named as a file blocked `posed check` and `posed run` for ever (SIGTERM ignored), and
/dev/zero read until MemoryError; through SIGHUP both froze or killed a running daemon. An
integer of 5,000 digits, `2023-02-29` or `!!bool maybe` crashed with a traceback. Here they
go through real `posed check` and `posed run` processes and a SIGHUP to a running daemon
that publishes to a real broker, which keeps its old config and keeps publishing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from posed.config import load_config
from posed.errors import ConfigError
from posed.regular_files import MAX_SECRET_BYTES, RefusedFile, read_regular
from tests.conftest import MEDIA, MODELS, POSED
from tests.daemon_harness import Daemon, write_config
from tests.mosquitto import Mosquitto, Subscriber

pytestmark = pytest.mark.skipif(
    not (MODELS / "pose_landmark_lite.tflite").is_file(), reason="needs ../shared/models"
)

BASE = f"""\
device_id: dev
backend: {{type: tflite, num_threads: 1}}
model: {{name: blazepose-lite}}
cameras:
  front: {{type: video, path: {MEDIA / "vtest.avi"}}}
"""


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def _check(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # A hang is the failure under test: the timeout turns it into a clear one.
    return subprocess.run(
        [*POSED, "check", "-c", str(config), "--model-dir", str(MODELS), *extra],
        capture_output=True,
        text=True,
        timeout=90,
    )


SPECIAL = [
    ("mqtt: {username: u, password_file: SPECIAL}", 6, "mqtt.password_file"),
    ("mqtt: {tls: {ca_file: SPECIAL}}", 6, "mqtt.tls.ca_file"),
    ("mqtt: {tls: {cert_file: SPECIAL, key_file: SPECIAL}}", 6, "mqtt.tls.cert_file"),
]


@pytest.mark.parametrize("device", ["fifo", "/dev/zero"])
def test_check_refuses_special_files_on_each_keys_line(tmp_path: Path, fifo: Path, device: str) -> None:
    special = str(fifo) if device == "fifo" else device
    kind = "a FIFO" if device == "fifo" else "a character device"
    config = tmp_path / "posed.yaml"
    text = BASE.replace("model: {name: blazepose-lite}", f"model: {{path: {special}}}")
    config.write_text(
        text + f"mqtt: {{username: u, password_file: {special}, tls: {{ca_file: {special}}}}}\n"
    )
    started = time.monotonic()
    result = _check(config)
    assert time.monotonic() - started < 60
    assert result.returncode == 2, result.stderr
    for line, key in ((3, "model.path"), (6, "mqtt.password_file"), (6, "mqtt.tls.ca_file")):
        expected = f"{config}:{line}: {key}: cannot read {special}: it is {kind}"
        assert expected in result.stderr, result.stderr
    assert "posed reads only regular files here" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_fifo_as_the_config_or_a_video_is_refused(tmp_path: Path, fifo: Path) -> None:
    result = _check(fifo)
    assert result.returncode == 2
    assert "cannot read config: it is a FIFO (named pipe)" in result.stderr
    config = tmp_path / "posed.yaml"
    config.write_text(BASE.replace(str(MEDIA / "vtest.avi"), str(fifo)))
    result = _check(config)
    assert result.returncode == 2
    assert "cameras.front: camera 'front': cannot read video file" in result.stderr, result.stderr


def test_run_refuses_a_fifo_password_file_with_exit_78(tmp_path: Path, fifo: Path) -> None:
    config = tmp_path / "posed.yaml"
    config.write_text(BASE + f"mqtt: {{username: u, password_file: {fifo}}}\n")
    result = subprocess.run(
        [*POSED, "run", "-c", str(config), "--model-dir", str(MODELS)],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 78, result.stderr
    assert f"{config}:6: mqtt.password_file: cannot read {fifo}: it is a FIFO" in result.stderr


def test_read_regular_bounds_what_it_reads(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * (MAX_SECRET_BYTES + 1))
    with pytest.raises(RefusedFile) as caught:
        read_regular(big, MAX_SECRET_BYTES)
    # Refused from its size before a byte is read, saying how large it is.
    assert caught.value.too_large and f"holds {MAX_SECRET_BYTES + 1:,} bytes" in str(caught.value.strerror)
    small = tmp_path / "small"
    small.write_bytes(b"secret\n")
    assert read_regular(small, MAX_SECRET_BYTES) == b"secret\n"
    with pytest.raises(RefusedFile) as caught:
        read_regular(tmp_path, MAX_SECRET_BYTES)
    assert "a directory" in str(caught.value.strerror)


UNBUILDABLE = [
    (f"x-huge: {'9' * 5000}", 6, "x-huge", "has more than 4,300 digits"),
    ("x-list: [1, 2, " + "1" * 4301 + "]", 6, "x-list.2", "4,300"),
    ("device_id: 2023-02-29", 1, "device_id", "day is out of range for month"),
    ("log_level: !!bool 'maybe'", 6, "log_level", "cannot be read as a boolean"),
    ("preview: {port: !!int '0x'}", 6, "preview.port", "cannot be read as a whole number"),
    ("preview: {max_fps: !!float 'fast'}", 6, "preview.max_fps", "cannot be read as a number"),
]


def _with(line: str) -> str:
    key = line.split(":", maxsplit=1)[0]
    kept = [kept for kept in BASE.splitlines() if not kept.startswith(key)]
    return "\n".join([*kept, line]) + "\n" if key != "device_id" else "\n".join([line, *kept[1:]]) + "\n"


@pytest.mark.parametrize(("line", "number", "key", "needle"), UNBUILDABLE, ids=[u[2] for u in UNBUILDABLE])
def test_values_that_cannot_be_built_are_errors_on_their_line(
    tmp_path: Path, line: str, number: int, key: str, needle: str
) -> None:
    path = tmp_path / "posed.yaml"
    path.write_text(_with(line))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (issue,) = caught.value.issues
    assert (issue.line, issue.key) == (number, key), issue
    assert needle in issue.message


def test_check_and_run_report_an_unbuildable_value_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "posed.yaml"
    path.write_text(_with("device_id: 2023-02-29"))
    result = _check(path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{path}:1: device_id: '2023-02-29' cannot be read as a date or time" in result.stderr
    result = subprocess.run([*POSED, "run", "-c", str(path)], capture_output=True, text=True, timeout=90)
    assert result.returncode == 78 and "Traceback" not in result.stderr
    assert "device_id: '2023-02-29' cannot be read" in result.stderr


@dataclass
class Running:
    daemon: Daemon
    config: Path
    broker: Mosquitto
    tmp: Path


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("daemon")
    with Mosquitto(tmp) as broker:
        config = write_config(tmp / "posed.yaml", port=broker.port)
        with Daemon(config, tmp / "posed.log") as daemon:
            daemon.notify.wait_for("READY=1", timeout=90)
            yield Running(daemon, config, broker, tmp)


def _reload_with(running: Running, text: str) -> str:
    """SIGHUP with `text` as the config; the status of the READY=1 that follows."""
    good = running.config.read_text()
    notify = running.daemon.notify
    try:
        running.config.write_text(text)
        start = len(notify)
        running.daemon.signal(signal.SIGHUP)
        reloading = notify.wait_for("RELOADING=1", after=start, timeout=10)
        ready = notify.wait_for("READY=1", after=reloading + 1, timeout=30)
    finally:
        running.config.write_text(good)
    return next(f for f in notify.messages[ready].fields if f.startswith("STATUS="))


def _still_publishing(running: Running) -> None:
    assert running.daemon.process.poll() is None, running.daemon.log_text()
    with Subscriber(running.broker, ["posed/dev/street/count"]) as sub:
        sub.wait_for(lambda m: m.topic == "posed/dev/street/count", timeout=30)


@pytest.mark.parametrize("device", ["fifo", "/dev/zero"])
def test_sighup_with_a_special_file_keeps_the_old_config(running: Running, device: str) -> None:
    special = running.tmp / f"pipe-{os.getpid()}"
    if device == "fifo" and not special.exists():
        os.mkfifo(special)
    name = str(special) if device == "fifo" else device
    good = running.config.read_text()
    port = running.broker.port
    bad = good.replace(
        f"mqtt: {{host: 127.0.0.1, port: {port}, topic_prefix: posed}}",
        f"mqtt: {{host: 127.0.0.1, port: {port}, topic_prefix: posed, username: u, password_file: {name}, "
        f"tls: {{ca_file: {name}}}}}",
    ).replace("model: {name: blazepose-lite}", f"model: {{path: {name}}}")
    assert bad != good
    status = _reload_with(running, bad)
    assert "reload rejected: 3 config error(s)" in status
    log = running.daemon.log_text()
    assert f"mqtt.password_file: cannot read {name}: it is a" in log
    _still_publishing(running)


@pytest.mark.parametrize("line", ["x-huge: " + "9" * 5000, "log_level: !!bool 'maybe'"])
def test_sighup_with_an_unbuildable_value_keeps_the_old_config(running: Running, line: str) -> None:
    status = _reload_with(running, running.config.read_text() + line + "\n")
    assert "reload rejected: 1 config error(s)" in status
    assert "cannot be read as" in running.daemon.log_text()
    _still_publishing(running)


def test_sighup_with_a_preview_host_it_cannot_listen_on_keeps_the_old_config(running: Running) -> None:
    line = "preview: {enabled: true, host: 10.255.255.254, port: 0, token: abcdefghijklmnopqrst}\n"
    status = _reload_with(running, running.config.read_text() + line)
    assert "reload rejected: 1 config error(s)" in status
    assert "preview.host: cannot listen on '10.255.255.254'" in running.daemon.log_text()
    _still_publishing(running)
