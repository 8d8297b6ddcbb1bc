"""Shared by the camera tests: config building, status recording, waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter

from posed.cameras import CameraStatus
from posed.cameras.config import CameraConfig

_ADAPTER: TypeAdapter[Any] = TypeAdapter(CameraConfig)


def camera_config(**values: Any) -> CameraConfig:
    """Validate a camera's YAML-shaped mapping, exactly as the config loader does."""
    config: CameraConfig = _ADAPTER.validate_python(values)
    return config


class StatusLog:
    """Records on_status calls (made from the capture thread) and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[tuple[str, CameraStatus, float]] = []
        self._cond = threading.Condition()

    def __call__(self, name: str, status: CameraStatus) -> None:
        with self._cond:
            self.events.append((name, status, time.monotonic()))
            self._cond.notify_all()

    @property
    def statuses(self) -> list[CameraStatus]:
        with self._cond:
            return [status for _, status, _ in self.events]

    def wait_for(self, status: CameraStatus, *, count: int = 1, timeout: float = 20.0) -> float:
        """Wait until `status` was reported `count` times; return when the last one was."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                times = [at for _, s, at in self.events if s == status]
                if len(times) >= count:
                    return times[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {status!r} #{count} within {timeout} s; saw {self.statuses}")
                self._cond.wait(remaining)


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
