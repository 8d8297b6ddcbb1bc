"""sd_notify over a real AF_UNIX datagram socket, path-bound and abstract."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from posed.daemon.notify import STATE_PATIENCE, Notifier
from tests.fake_clock import FakeClock


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify.sock"
    sock.bind(str(path))
    sock.settimeout(5)
    yield sock, str(path)
    sock.close()


def _recv(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_messages_reach_a_path_socket(receiver: tuple[socket.socket, str]) -> None:
    sock, path = receiver
    with Notifier({"NOTIFY_SOCKET": path}) as notifier:
        assert notifier.enabled
        assert notifier.ready("1/1 cameras online")
        assert _recv(sock) == ["READY=1", "STATUS=1/1 cameras online"]
        assert notifier.watchdog()
        assert _recv(sock) == ["WATCHDOG=1"]
        assert notifier.stopping()
        assert _recv(sock) == ["STOPPING=1"]


def test_reloading_carries_clock_monotonic_in_microseconds(receiver: tuple[socket.socket, str]) -> None:
    sock, path = receiver
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    with Notifier({"NOTIFY_SOCKET": path}) as notifier:
        notifier.reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    fields = _recv(sock)
    assert fields[0] == "RELOADING=1"
    key, _, value = fields[1].partition("=")
    assert key == "MONOTONIC_USEC" and before <= int(value) <= after


def test_status_is_kept_on_one_line(receiver: tuple[socket.socket, str]) -> None:
    sock, path = receiver
    with Notifier({"NOTIFY_SOCKET": path}) as notifier:
        notifier.status("front: online\nback: offline")
    assert _recv(sock) == ["STATUS=front: online back: offline"]


def test_abstract_socket() -> None:
    name = f"posed-test-{os.getpid()}-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(5)
    try:
        with Notifier({"NOTIFY_SOCKET": "@" + name}) as notifier:
            assert notifier.ready()
        assert _recv(sock) == ["READY=1"]
    finally:
        sock.close()


def test_without_systemd_nothing_is_sent() -> None:
    with Notifier({}) as notifier:
        assert not notifier.enabled
        assert notifier.watchdog_interval is None
        assert not notifier.ready()


def test_a_vanished_socket_is_not_fatal(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")}) as notifier:
        assert not notifier.ready()
        assert not notifier.watchdog()
    warnings = [r for r in caplog.records if "cannot notify systemd" in r.getMessage()]
    assert len(warnings) == 1


def test_watchdog_interval_is_half_of_watchdog_usec(receiver: tuple[socket.socket, str]) -> None:
    _, path = receiver
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "3000000"}
    with Notifier(env) as notifier:
        assert notifier.watchdog_interval == pytest.approx(1.5)
    with Notifier({**env, "WATCHDOG_PID": str(os.getpid())}) as notifier:
        assert notifier.watchdog_interval == pytest.approx(1.5)
    # Meant for another process (inherited environment): no pings from this one.
    with Notifier({**env, "WATCHDOG_PID": str(os.getpid() + 1)}) as notifier:
        assert notifier.watchdog_interval is None
    with Notifier({**env, "WATCHDOG_USEC": "junk"}) as notifier:
        assert notifier.watchdog_interval is None


def test_a_service_manager_that_stops_reading_never_blocks_posed(tmp_path: Path) -> None:
    """Guards: a service manager that stops reading never stalls posed: STATUS and WATCHDOG are
    dropped at once when its queue is full, a state change waits STATE_PATIENCE and gives up.

    A datagram socket nobody reads fills after ~10 messages; a blocking send would then hang
    the main loop and posed would ignore SIGTERM. The waiting is on a fake clock: what is
    checked is how long the notifier chose to wait, not how fast this machine is.
    """
    path = tmp_path / "notify.sock"
    clock = FakeClock()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(path))
        with Notifier({"NOTIFY_SOCKET": str(path)}, clock=clock) as notifier:
            results = [notifier.status(f"frame {i}") for i in range(200)]
            assert results[0] and not results[-1]  # later messages dropped, not waited for
            assert not notifier.watchdog()
            assert clock.waits == [], "STATUS and WATCHDOG never wait"
            assert not notifier.stopping()  # a state change waits a little, then gives up
            assert STATE_PATIENCE <= sum(clock.waits) < STATE_PATIENCE + 0.05, sum(clock.waits)
            assert max(clock.waits) <= 0.01 + 1e-9, "it retries often while it waits"
            while True:  # the manager catches up: messages flow again
                try:
                    listener.recv(4096, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
            waited = len(clock.waits)
            assert notifier.ready()
            assert listener.recv(4096) == b"READY=1"
            assert len(clock.waits) == waited, "a queue with room is not waited for"
