"""Floods of repeated log lines are aggregated, so the journal keeps posed's real warnings.

One rate limit (posed.daemon.log_limit) for every line: unit tests of its rules, and a
running daemon flooded over real sockets: 1,000 requests with 9 KB URLs to the preview
port, 20,000 `online` messages from Home Assistant, 5,000 presses of a reset button.
"""

from __future__ import annotations

import io
import logging
import signal
import socket
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from posed.daemon.log_limit import BURST, LogRateLimit, RateLimitedHandler
from tests.conftest import MEDIA
from tests.daemon_harness import Daemon
from tests.mosquitto import Mosquitto, Subscriber
from tests.preview_support import page_url


def _record(
    msg: str, created: float, *args: object, name: str = "posed.x", level: int = logging.INFO
) -> logging.LogRecord:
    record = logging.LogRecord(name, level, __file__, 1, msg, args, None)
    record.created = created
    return record


def test_a_kind_is_written_burst_times_per_window_then_summarised() -> None:
    limit = LogRateLimit(burst=3, window=60.0)
    admitted = [limit.admit(_record("reset of %s", 100.0 + i, f"cam{i}"))[0] for i in range(10)]
    assert admitted == [True] * 3 + [False] * 7
    assert limit.due(159.0) == []
    (summary,) = limit.due(160.0)
    assert summary.getMessage().startswith("7 more line(s) like this in 60 s were left out")
    assert summary.getMessage().endswith("the last: reset of cam9")
    assert summary.name == "posed.x" and summary.levelno == logging.INFO
    assert limit.admit(_record("reset of %s", 161.0, "cam"))[0]  # a new window


def test_kinds_are_counted_apart_by_logger_level_and_template() -> None:
    limit = LogRateLimit(burst=1, window=60.0)
    assert limit.admit(_record("a %s", 0.0, 1))[0]
    assert not limit.admit(_record("a %s", 0.0, 2))[0]
    assert limit.admit(_record("b %s", 0.0, 1))[0]
    assert limit.admit(_record("a %s", 0.0, 1, level=logging.WARNING))[0]
    assert limit.admit(_record("a %s", 0.0, 1, name="posed.y"))[0]


def test_the_kinds_remembered_are_bounded_and_a_forgotten_one_is_summarised() -> None:
    limit = LogRateLimit(burst=1, window=60.0, max_kinds=2)
    limit.admit(_record("first", 0.0))
    limit.admit(_record("first", 0.0))  # suppressed
    limit.admit(_record("second", 0.0))
    _, summaries = limit.admit(_record("third", 0.0))
    assert [s.getMessage()[:6] for s in summaries] == ["1 more"]


def test_the_handler_writes_due_summaries_and_the_rest_at_close() -> None:
    stream = io.StringIO()
    handler = RateLimitedHandler(stream, LogRateLimit(burst=1, window=10.0))
    for i in range(5):
        handler.handle(_record("tick %d", 0.0, i))
    assert stream.getvalue() == "tick 0\n"
    handler.write_due(10.0)
    assert "4 more line(s)" in stream.getvalue()
    handler.handle(_record("tick %d", 11.0, 5))
    handler.handle(_record("tick %d", 11.0, 6))
    handler.close()
    assert stream.getvalue().count("more line(s)") == 2


def _config(path: Path, broker: Mosquitto) -> Path:
    path.write_text(
        "device_id: dev\n"
        "backend: {type: tflite, num_threads: 1}\n"
        "model: {name: blazepose-lite}\n"
        "cameras:\n"
        f"  street: {{type: video, path: {MEDIA / 'vtest.avi'}, realtime: true, loop: true}}\n"
        f"mqtt: {{host: 127.0.0.1, port: {broker.port}, topic_prefix: posed, "
        "homeassistant: {enabled: true}}\n"
        "events: {reps: {exercises: [squat]}}\n"
        "preview: {enabled: true, port: 0}\n"
    )
    return path.resolve()


def _huge_urls(port: int, count: int) -> None:
    request = b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    for _ in range(count):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request)
            while sock.recv(65536):
                pass


def _lines(log: str, text: str) -> int:
    """Lines that carry `text`, not counting the rate limit's summaries of them."""
    return sum(1 for line in log.splitlines() if text in line and "(log rate limit)" not in line)


def test_floods_of_requests_and_messages_leave_a_few_lines_and_the_real_warnings(tmp_path: Path) -> None:
    reset = "posed/dev/street/reps/squat/reset"
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["posed/dev/street/poses"]) as sub:
        with Daemon(_config(tmp_path / "posed.yaml", broker), tmp_path / "posed.log") as daemon:
            url = page_url(daemon)
            sub.wait_for(lambda m: m.topic == "posed/dev/street/poses", timeout=120)
            _huge_urls(int(url.rsplit(":", 1)[1].strip("/")), 1000)
            client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="flood")
            client.connect(broker.host, broker.port)
            client.loop_start()
            try:
                for _ in range(20_000):
                    client.publish("homeassistant/status", b"online", qos=0)
                for _ in range(5_000):
                    client.publish(reset, b"PRESS", qos=0)
                client.publish(reset, b"PRESS", qos=1).wait_for_publish(30)
                daemon.wait_log("reset of squat reps", timeout=30)
            finally:
                client.loop_stop()
                client.disconnect()
            # A real warning of another kind, after the floods: it must be written.
            broker.restart()
            daemon.wait_log(" lost (", timeout=30)
            assert daemon.process.poll() is None
            daemon.signal(signal.SIGTERM)
            assert daemon.process.wait(30) == 0
        log = daemon.log_text()
    assert 1 <= _lines(log, "Error handling request") <= BURST, log[-3000:]
    assert 1 <= _lines(log, "Home Assistant came online") <= BURST
    assert 1 <= _lines(log, "reset of squat reps") <= BURST
    assert _lines(log, " lost (") == 1  # the real warning after the floods
    # What was left out is counted, in one line per kind.
    assert log.count("more line(s) like this in 60 s were left out") >= 2
    assert len(log) < 200_000, len(log)
