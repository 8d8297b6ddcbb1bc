"""SIGHUP with a hostile or broken config: refused fast, without memory growth, and the old config runs on.

Before, an 8-level alias bomb sent by SIGHUP took 45 s and 1.3 GB before "reload rejected".
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.daemon_harness import Daemon, write_config
from tests.mosquitto import Mosquitto
from tests.test_config_hostile import alias_bomb


@dataclass
class Running:
    daemon: Daemon
    config: Path
    port: int


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("daemon")
    with Mosquitto(tmp) as broker:
        config = write_config(tmp / "posed.yaml", port=broker.port)
        with Daemon(config, tmp / "posed.log") as daemon:
            daemon.notify.wait_for("READY=1", timeout=90)
            yield Running(daemon, config, broker.port)


def _kib(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB$", status, re.MULTILINE)
    assert match, status
    return int(match.group(1))


def _reload(running: Running) -> tuple[float, str]:
    """SIGHUP; the seconds from RELOADING=1 to the next READY=1, and that READY's status."""
    notify = running.daemon.notify
    start = len(notify)
    running.daemon.signal(signal.SIGHUP)
    reloading = notify.wait_for("RELOADING=1", after=start, timeout=10)
    ready = notify.wait_for("READY=1", after=reloading + 1, timeout=60)
    status = next(f for f in notify.messages[ready].fields if f.startswith("STATUS="))
    return notify.messages[ready].at - notify.messages[reloading].at, status


def test_an_alias_bomb_by_sighup_is_rejected_within_a_second_without_memory_growth(running: Running) -> None:
    good = running.config.read_text()
    pid = running.daemon.process.pid
    try:
        # `lol0`... are unknown keys, but the bomb must be stopped long before validation sees them.
        running.config.write_text(alias_bomb(levels=8))
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM, the peak resident size
        before = _kib(pid, "VmRSS")
        took, status = _reload(running)
        peak = _kib(pid, "VmHWM")
    finally:
        running.config.write_text(good)
    assert "reload rejected: 1 config error(s)" in status
    assert took < 1.0, f"{took:.2f} s"
    assert peak - before < 20 * 1024, f"peak grew by {(peak - before) / 1024:.1f} MB"
    log = running.daemon.log_text()
    assert "alias" in log and "still running the previous config" in log
    assert running.daemon.process.poll() is None


def test_a_reload_is_refused_for_what_would_stop_a_start(running: Running, tmp_path: Path) -> None:
    good = running.config.read_text()
    try:
        missing = tmp_path / "gone"
        running.config.write_text(
            good.replace(
                f"mqtt: {{host: 127.0.0.1, port: {running.port}, topic_prefix: posed}}",
                f"mqtt: {{host: 127.0.0.1, port: {running.port}, username: u, password_file: {missing}, "
                f"tls: {{ca_file: {missing}.pem}}}}",
            )
        )
        assert "password_file" in running.config.read_text()
        _, status = _reload(running)
    finally:
        running.config.write_text(good)
    assert "reload rejected: 2 config error(s)" in status
    log = running.daemon.log_text()
    assert "mqtt.password_file: cannot read" in log and "mqtt.tls.ca_file: cannot read" in log
    assert running.daemon.process.poll() is None
