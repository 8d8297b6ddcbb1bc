"""The daemon's lifecycle end to end: one `posed run` subprocess, as systemd runs it.

A real video camera (vtest.avi, realtime, looping), BlazePose lite on TFLite, a
private Mosquitto, and a notify socket the test owns. The tests run in order on
the same process: ready, watchdog, reload, rejected reload, stop.
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.daemon_harness import Daemon, write_config
from tests.mosquitto import Mosquitto, Received, Subscriber

WATCHDOG_USEC = 2_000_000  # systemd's WatchdogSec=2s: pings expected every second
# A second camera that is down for the whole run: posed must neither exit nor stop its watchdog.
DEAD_CAMERA = "  dead: {type: stream, url: 'rtsp://127.0.0.1:9/none', open_timeout: 2, read_timeout: 2}\n"


@dataclass
class Running:
    daemon: Daemon
    broker: Mosquitto
    subscriber: Subscriber
    config: Path


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("daemon")
    with (
        Mosquitto(tmp) as broker,
        Subscriber(broker, ["#"]) as subscriber,
    ):
        config = write_config(tmp / "posed.yaml", port=broker.port, prefix="first", cameras=DEAD_CAMERA)
        with Daemon(config, tmp / "posed.log", watchdog_usec=WATCHDOG_USEC) as daemon:
            yield Running(daemon, broker, subscriber, config)


def _poses_on(prefix: str, since: float = 0.0) -> Callable[[Received], bool]:
    def match(m: Received) -> bool:
        return m.topic == f"{prefix}/dev/street/poses" and m.at >= since

    return match


def test_ready_after_startup_with_a_status_line(running: Running) -> None:
    notify = running.daemon.notify
    ready = notify.wait_for("READY=1", timeout=60)
    fields = notify.messages[ready].fields
    status = [f for f in fields if f.startswith("STATUS=")]
    assert status and "street" in status[0] and "fps" in status[0] and "people" in status[0]
    # READY=1 promised an open camera and a started MQTT connection: both show at once.
    assert "street: online" in status[0], status
    assert "1/2 cameras online" in status[0] and "dead: reconnecting" in status[0], status
    sub = running.subscriber
    sub.wait_for(lambda m: m.topic == "first/dev/availability" and m.text == "online", timeout=10)
    message = sub.wait_for(_poses_on("first"), timeout=10)
    payload = json.loads(message.payload)
    assert payload["camera"] == "street" and payload["model"] == "blazepose-lite"


def test_watchdog_pings_at_half_watchdog_usec(running: Running) -> None:
    """Guards: WATCHDOG=1 keeps coming, at half of WATCHDOG_USEC and not more often, even with
    a camera that is down. When each ping is due is tested on exact times in
    test_daemon_supervision.py; here the pings are counted, not their gaps judged."""
    notify = running.daemon.notify
    start = len(notify)
    period = WATCHDOG_USEC / 2 / 1e6
    count = 5
    deadline = time.monotonic() + 60
    while len(pings := notify.times_of("WATCHDOG=1", start)) < count:
        assert time.monotonic() < deadline, f"{len(pings)} WATCHDOG=1 in 60 s"
        notify.wait_for("WATCHDOG=1", after=len(notify), timeout=60)
    # Sent at least `period` apart; the first may have been read late by up to one period.
    assert pings[count - 1] - pings[0] >= (count - 2) * period, pings


def test_sighup_applies_a_changed_setting(running: Running) -> None:
    notify, sub = running.daemon.notify, running.subscriber
    write_config(running.config, port=running.broker.port, prefix="second", cameras=DEAD_CAMERA)
    start = len(notify)
    sent = time.monotonic()
    running.daemon.signal(signal.SIGHUP)
    reloading = notify.wait_for("RELOADING=1", after=start, timeout=10)
    monotonic = [f for f in notify.messages[reloading].fields if f.startswith("MONOTONIC_USEC=")]
    assert monotonic and int(monotonic[0].split("=")[1]) > 0
    notify.wait_for("READY=1", after=reloading + 1, timeout=30)
    # The new prefix is in effect; the old publisher said goodbye on the old one.
    sub.wait_for(_poses_on("second", sent), timeout=10)
    sub.wait_for(lambda m: m.topic == "second/dev/availability" and m.text == "online", timeout=10)
    sub.wait_for(lambda m: m.topic == "first/dev/availability" and m.text == "offline", timeout=10)
    log = running.daemon.log_text()
    assert "reloaded: restarted mqtt" in log
    assert log.count("model blazepose-lite loaded") == 2, "an MQTT change must not reload the models"


def test_sighup_restarts_only_the_changed_camera_and_model(running: Running) -> None:
    notify, sub = running.daemon.notify, running.subscriber
    write_config(
        running.config,
        port=running.broker.port,
        prefix="second",
        backend="{type: tflite, num_threads: 2}",
        camera=", stall_timeout: 15",
        cameras=DEAD_CAMERA,
    )
    start = len(notify)
    running.daemon.signal(signal.SIGHUP)
    reloading = notify.wait_for("RELOADING=1", after=start, timeout=10)
    notify.wait_for("READY=1", after=reloading + 1, timeout=30)
    after = time.monotonic()
    sub.wait_for(_poses_on("second", after), timeout=10)
    log = running.daemon.log_text()
    assert "reloaded: restarted model/backend, camera street" in log
    assert log.count("model blazepose-lite loaded") == 4, "one estimator per camera, each renewed"
    assert log.count("MQTT: connecting") == 2, "the publisher had no reason to restart"


def test_sighup_with_a_new_backend_setting_keeps_the_cameras_open(running: Running) -> None:
    """Guards: a reload restarts only what changed: new estimators (a backend setting) keep the
    cameras open, so frame numbers go on instead of starting again from 0."""
    notify, sub = running.daemon.notify, running.subscriber
    before = sub.wait_for(_poses_on("second", time.monotonic()), timeout=10)
    last_frame = json.loads(before.payload)["frame"]
    write_config(
        running.config,
        port=running.broker.port,
        prefix="second",
        backend="{type: tflite, num_threads: 3}",
        camera=", stall_timeout: 15",
        cameras=DEAD_CAMERA,
    )
    start = len(notify)
    running.daemon.signal(signal.SIGHUP)
    reloading = notify.wait_for("RELOADING=1", after=start, timeout=10)
    notify.wait_for("READY=1", after=reloading + 1, timeout=30)
    after = sub.wait_for(_poses_on("second", time.monotonic()), timeout=10)
    assert json.loads(after.payload)["frame"] > last_frame, "camera street was reopened"
    log = running.daemon.log_text()
    assert re.search(r"reloaded: restarted model/backend$", log, re.MULTILINE), log
    assert log.count("model blazepose-lite loaded") == 6


def test_sighup_with_a_broken_config_keeps_running(running: Running) -> None:
    notify, sub = running.daemon.notify, running.subscriber
    running.config.write_text(
        running.config.read_text().replace("num_threads: 3", "num_threads: zero") + "surprise: 1\n"
    )
    start = len(notify)
    running.daemon.signal(signal.SIGHUP)
    reloading = notify.wait_for("RELOADING=1", after=start, timeout=10)
    notify.wait_for("READY=1", after=reloading + 1, timeout=10)
    running.daemon.wait_log("reload rejected")
    log = running.daemon.log_text()
    assert "backend.num_threads" in log and "surprise" in log, "every error is logged"
    assert running.daemon.process.poll() is None
    after = time.monotonic()
    sub.wait_for(_poses_on("second", after), timeout=10)  # still at work, on the config it had


def test_sigterm_stops_cleanly_within_5_s(running: Running) -> None:
    notify, sub, process = running.daemon.notify, running.subscriber, running.daemon.process
    start = len(notify)
    running.daemon.signal(signal.SIGTERM)
    sent = time.monotonic()
    code = process.wait(timeout=60)
    # Exit code 0 means the stop finished within daemon.shutdown_timeout (5 s) on posed's own
    # clock: past it, its guard timer exits 1 at once.
    assert code == 0, running.daemon.log_text()
    stopped = re.search(r"stopped in ([0-9.]+) s", running.daemon.log_text())
    assert stopped and float(stopped.group(1)) < 5.0
    # Sent before the exit, so it is already in the socket: the deadline is only for our reader thread.
    notify.wait_for("STOPPING=1", after=start, timeout=10)
    sub.wait_for(
        lambda m: m.topic == "second/dev/availability" and m.text == "offline" and m.at >= sent, timeout=5
    )
    # Retained, so a subscriber that comes later learns that posed is gone.
    with Subscriber(running.broker, ["second/dev/availability"]) as late:
        retained = late.wait_for(lambda m: m.topic == "second/dev/availability", timeout=5)
    assert retained.retain and retained.text == "offline"
    log_text = running.daemon.log_text()
    assert "SIGTERM received: stopping" in log_text
    # A clean stop says nothing alarming (paho used to log "Client is not connected" here).
    after_signal = log_text[log_text.index("SIGTERM received") :]
    assert " ERROR " not in after_signal, after_signal
