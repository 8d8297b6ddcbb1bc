"""sd_notify without libsystemd: one datagram per message to $NOTIFY_SOCKET.

The protocol is small enough that a dependency would cost more than it saves:
newline-separated KEY=VALUE fields in a single datagram to an AF_UNIX socket,
where a leading '@' names a socket in the abstract namespace.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Self

from posed.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger(__name__)

# How long a state change (READY, RELOADING, STOPPING) waits for room in a full queue.
STATE_PATIENCE = 1.0


class Notifier:
    """Sends service state to systemd; does nothing when not started by systemd.

    One owner; a context manager. Safe to call from several threads, because
    each message is one datagram.
    """

    def __init__(self, env: Mapping[str, str] | None = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        env = os.environ if env is None else env
        self._clock = clock  # times a state change's patience with a full queue
        self._where = env.get("NOTIFY_SOCKET", "")
        self._address = _address(self._where)
        self._watchdog_interval = _watchdog_interval(env)
        self._socket: socket.socket | None = None
        self._warned = False
        if self._address is not None:
            # Non-blocking: a service manager that stops reading (its queue holds only ~10
            # datagrams) must never stall the main loop, or SIGTERM would go unanswered.
            self._socket = socket.socket(
                socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
            )

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None when off."""
        return self._watchdog_interval if self.enabled else None

    def send(self, *fields: str, patience: float = 0.0) -> bool:
        """Send one message; False when systemd is absent, not reading, or the send failed.

        With `patience`, a full queue is retried for up to that many seconds: worth it for
        state changes, not for STATUS or WATCHDOG, which the next message supersedes.
        """
        if self._socket is None or self._address is None:
            return False
        payload = "\n".join(fields).encode()
        deadline = self._clock.monotonic() + patience
        while True:
            try:
                self._socket.sendto(payload, self._address)
                return True
            except BlockingIOError:
                if self._clock.monotonic() >= deadline:
                    self._warn_once("its queue is full (is the service manager reading?)")
                    return False
                self._clock.wait(None, 0.01)
            except OSError as exc:
                # The service manager going away must not stop the daemon; say it once.
                self._warn_once(str(exc))
                return False

    def _warn_once(self, reason: str) -> None:
        if not self._warned:
            log.warning("cannot notify systemd at %s: %s", self._where, reason)
            self._warned = True

    def ready(self, status: str | None = None) -> bool:
        return self.send("READY=1", *_status(status), patience=STATE_PATIENCE)

    def reloading(self, status: str | None = None) -> bool:
        # systemd matches a reload to its READY=1 by this timestamp (CLOCK_MONOTONIC, µs).
        stamp = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send("RELOADING=1", f"MONOTONIC_USEC={stamp}", *_status(status), patience=STATE_PATIENCE)

    def stopping(self, status: str | None = None) -> bool:
        return self.send("STOPPING=1", *_status(status), patience=STATE_PATIENCE)

    def status(self, text: str) -> bool:
        return self.send(*_status(text))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _status(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    return ("STATUS=" + " ".join(text.split()),)  # one line: a newline would start a new field


def _address(value: str) -> str | bytes | None:
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # unset, or a vsock address this daemon has no use for


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID")
    # The variables are inherited; only the process systemd meant may ping.
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 2 / 1_000_000
