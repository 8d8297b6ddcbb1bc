"""Run `posed run` as systemd would: a real subprocess and a notify socket the test owns."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tests.conftest import MEDIA, MODELS, POSED


@dataclass(frozen=True)
class Notification:
    at: float  # time.monotonic() on arrival
    fields: tuple[str, ...]


class NotifyListener:
    """A bound AF_UNIX datagram socket, like systemd's, recording every message."""

    def __init__(self) -> None:
        # sun_path holds 108 bytes; pytest's tmp paths can be longer, so use a short dir.
        self._dir = Path(tempfile.mkdtemp(prefix="posed-notify-"))
        self.path = self._dir / "notify"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(self.path))
        self._sock.settimeout(0.2)
        self.messages: list[Notification] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._cond:
                self.messages.append(Notification(time.monotonic(), tuple(data.decode().split("\n"))))
                self._cond.notify_all()

    def wait_for(self, field: str, *, after: int = 0, timeout: float = 30.0) -> int:
        """Index of the first message from index `after` on that carries `field` (e.g. READY=1)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(after, len(self.messages)):
                    if field in self.messages[i].fields:
                        return i
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [m.fields for m in self.messages[after:]][-10:]
                    raise TimeoutError(f"no {field} within {timeout} s; last messages: {seen}")
                self._cond.wait(left)

    def times_of(self, field: str, start: int = 0, end: int | None = None) -> list[float]:
        with self._cond:
            return [m.at for m in self.messages[start:end] if field in m.fields]

    def __len__(self) -> int:
        with self._cond:
            return len(self.messages)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()
        self.path.unlink(missing_ok=True)
        self._dir.rmdir()


def write_config(
    path: Path,
    *,
    port: int,
    prefix: str = "posed",
    backend: str = "{type: tflite, num_threads: 1}",
    daemon: str = "{}",
    camera: str = "",
    cameras: str = "",
    extra: str = "",
) -> Path:
    path.write_text(
        "device_id: dev\n"
        f"backend: {backend}\n"
        "model: {name: blazepose-lite}\n"
        "cameras:\n"
        f"  street: {{type: video, path: {MEDIA / 'vtest.avi'}, realtime: true, loop: true{camera}}}\n"
        f"{cameras}"
        f"mqtt: {{host: 127.0.0.1, port: {port}, topic_prefix: {prefix}}}\n"
        f"daemon: {daemon}\n"
        f"{extra}"
    )
    return path


class Daemon:
    """`posed run -c CONFIG --model-dir ../shared/models` with NOTIFY_SOCKET and WATCHDOG_USEC set."""

    def __init__(
        self,
        config: Path,
        log: Path,
        *,
        watchdog_usec: int | None = None,
        env: Mapping[str, str] | None = None,
        prefix: Sequence[str] = (),
    ) -> None:
        """`prefix`: a command that runs posed, e.g. `prlimit --nofile=N:N --`."""
        self.notify = NotifyListener()
        self.log_path = log
        environment = dict(os.environ if env is None else env)
        environment["NOTIFY_SOCKET"] = str(self.notify.path)
        environment.pop("JOURNAL_STREAM", None)
        if watchdog_usec is not None:
            environment["WATCHDOG_USEC"] = str(watchdog_usec)
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                [*prefix, *POSED, "run", "-c", str(config), "--model-dir", str(MODELS)],
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def wait_log(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} not logged within {timeout} s:\n{self.log_text()}")
            if self.process.poll() is not None:
                raise AssertionError(f"posed exited ({self.process.returncode}):\n{self.log_text()}")
            time.sleep(0.1)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.notify.close()

    def __enter__(self) -> Daemon:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
