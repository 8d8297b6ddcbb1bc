"""`posed run` in a terminal prints a status line every stats_interval (cameras, fps, people,
MQTT state); with stderr in a file, as under journald, it stays quiet. The first `stats`
message already reports the CPU the daemon used."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from tests.conftest import MODELS, POSED, REPO
from tests.daemon_harness import write_config
from tests.mosquitto import Mosquitto, Received, Subscriber
from tests.terminal_support import Terminal

STATUS = "status: 1/1 cameras online; street: online"


def start(config: Path, stderr: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "NOTIFY_SOCKET")}
    return subprocess.Popen(
        [*POSED, "run", "-c", str(config), "--model-dir", str(MODELS)],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        cwd=REPO,
        env=env,
    )


def test_a_terminal_gets_a_status_line_per_stats_interval(tmp_path: Path, shared: Path) -> None:
    with Mosquitto(tmp_path / "broker") as broker, Subscriber(broker, ["posed/dev/stats"]) as sub:
        config = write_config(tmp_path / "posed.yaml", port=broker.port)
        config.write_text(
            config.read_text().replace(f"port: {broker.port},", f"port: {broker.port}, stats_interval: 1,")
        )
        terminal = Terminal()
        process = start(config, terminal.slave)
        try:
            shown = terminal.wait_for(lambda text: text.count(STATUS) >= 2, timeout=90)
            first_stats = json.loads(sub.wait_for(lambda m: m.topic == "posed/dev/stats").text)
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=30)
            terminal.close()
    assert code == 0
    line = next(line for line in shown.splitlines() if STATUS in line)
    assert " fps, " in line and " people" in line
    assert f"mqtt 127.0.0.1:{broker.port} connected" in line
    # Primed at start: the first report measures the CPU since then, not a baseline of nothing.
    assert first_stats["cpu_percent"] > 0


def test_no_status_lines_when_stderr_is_not_a_terminal(tmp_path: Path, shared: Path) -> None:
    with Mosquitto(tmp_path / "broker") as broker, Subscriber(broker, ["posed/dev/stats"]) as sub:
        config = write_config(tmp_path / "posed.yaml", port=broker.port)
        config.write_text(
            config.read_text().replace(f"port: {broker.port},", f"port: {broker.port}, stats_interval: 1,")
        )
        log = tmp_path / "posed.log"
        with log.open("wb") as stderr:
            process = start(config, stderr.fileno())
        try:
            # Three stats intervals pass: three chances to print a status line. (Stats also go out at
            # once on news such as a first measurement, so their count alone says nothing of time.)
            sub.wait_for(lambda m: _stats_span(sub.messages) >= 3.0, timeout=90)
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=30)
    assert code == 0
    text = log.read_text()
    assert "ready: 1/1 cameras online" in text
    assert "status:" not in text


def _stats_span(messages: list[Received]) -> float:
    """Seconds between the first and the last stats message's own timestamps."""
    stamps = [json.loads(m.text)["timestamp"] for m in messages if m.topic == "posed/dev/stats"]
    return max(stamps) - min(stamps) if stamps else 0.0
