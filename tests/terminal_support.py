"""Run a command with its stderr on a real pseudo-terminal, as a user's shell would."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


class Terminal:
    """A pty of 120 x 30 (a fresh pty has no size, and tqdm fits its bar to it) that records all it shows."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
        self._chunks: list[bytes] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: every writer closed the terminal
                chunk = b""
            with self._cond:
                if not chunk:
                    self._chunks.append(b"")
                    self._cond.notify_all()
                    return
                self._chunks.append(chunk)
                self._cond.notify_all()

    @property
    def text(self) -> str:
        with self._cond:
            return b"".join(self._chunks).decode(errors="replace")

    def wait_for(self, predicate: Callable[[str], bool], timeout: float) -> str:
        with self._cond:
            ok = self._cond.wait_for(
                lambda: predicate(b"".join(self._chunks).decode(errors="replace")), timeout
            )
        if not ok:
            raise TimeoutError(f"the terminal never showed what was expected; it shows:\n{self.text}")
        return self.text

    def close_slave(self) -> None:
        if self.slave >= 0:
            os.close(self.slave)
            self.slave = -1

    def close(self) -> None:
        self.close_slave()
        self._reader.join(timeout=10)
        os.close(self.master)


def run_with_terminal_stderr(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float = 240
) -> tuple[int, str, str]:
    """(exit code, stdout, what the terminal on stderr showed)."""
    terminal = Terminal()
    try:
        result = subprocess.run(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=terminal.slave,
            text=True,
            cwd=cwd,
            env=dict(env),
            timeout=timeout,
        )
    finally:
        terminal.close()
    return result.returncode, result.stdout, terminal.text
