"""SIGTERM/SIGINT/SIGHUP turned into flags the main loop polls.

A handler runs in the main thread between two bytecodes, possibly while that
thread holds a lock. So handlers take no lock (not even a threading.Event's):
they only bump a counter. `signal.set_wakeup_fd` makes the C-level handler
write a byte to a pipe, which wakes the main loop's `wait()` at once.
"""

from __future__ import annotations

import os
import select
import signal
from types import FrameType, TracebackType
from typing import Any, Self

from posed.errors import EXIT_INTERRUPTED

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
RELOAD_SIGNAL = signal.SIGHUP


class SignalEvents:
    """Installs the handlers on enter and restores the previous ones on exit.

    Only usable from the main thread, as Python's signal API requires.
    """

    def __init__(self) -> None:
        self._stops = 0
        self._reloads = 0
        self._reloads_taken = 0
        self.last_stop_signal: int | None = None
        self._previous: dict[int, Any] = {}
        self._previous_wakeup_fd = -1
        self._read_fd = -1
        self._write_fd = -1

    @property
    def stop_requested(self) -> bool:
        return self._stops > 0

    def take_reload(self) -> bool:
        """True once per batch of SIGHUPs received since the last call."""
        pending = self._reloads
        if pending == self._reloads_taken:
            return False
        self._reloads_taken = pending
        return True

    def wait(self, timeout: float) -> None:
        """Sleep up to `timeout` seconds, returning early when a signal arrives."""
        if self._read_fd < 0:
            raise RuntimeError("SignalEvents.wait() outside its `with` block")
        ready, _, _ = select.select([self._read_fd], [], [], max(timeout, 0.0))
        if ready:
            try:
                while os.read(self._read_fd, 512):
                    pass
            except BlockingIOError:
                pass

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self.last_stop_signal = signum
        self._stops += 1

    def _on_reload(self, signum: int, frame: FrameType | None) -> None:
        self._reloads += 1

    def __enter__(self) -> Self:
        self._read_fd, self._write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._previous_wakeup_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_stop)
        self._previous[RELOAD_SIGNAL] = signal.signal(RELOAD_SIGNAL, self._on_reload)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for signum, handler in self._previous.items():
            # None means a handler installed outside Python; the default is the best we can restore.
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        self._previous.clear()
        signal.set_wakeup_fd(self._previous_wakeup_fd)
        os.close(self._read_fd)
        os.close(self._write_fd)
        self._read_fd = self._write_fd = -1


def stopped_code(signum: int | None) -> int:
    """128 + the signal, as a shell reports a command a signal stopped: 130 for Ctrl-C, 143 for SIGTERM."""
    return EXIT_INTERRUPTED if signum is None else 128 + signum
