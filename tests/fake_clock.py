"""A posed.clock.Clock for tests where time is the subject: back-off, pacing, patience.

Time moves only when the code under test waits: `wait(event, s)` returns at once,
s seconds later on this clock (unless the event is set), and records s. So a test
checks the waits a loop asks for, exactly, however busy the machine is.

A thread that loops forever on a fake clock would spin; after `park_after` waits,
`wait` blocks on the event for real (a camera's stop event, set by close()).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class FakeClock:
    def __init__(
        self,
        start: float = 1000.0,
        *,
        park_after: int | None = None,
        on_wait: Callable[[int], None] | None = None,
    ) -> None:
        """`on_wait(n)` runs in the waiting thread at its n-th wait (from 1), before it returns:
        the place to change the world (a file appears) at a known point of the loop."""
        self._now = start
        self._park_after = park_after
        self._on_wait = on_wait
        self._cond = threading.Condition()
        self.waits: list[float] = []

    def monotonic(self) -> float:
        with self._cond:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._cond:
            self._now += seconds

    def wait(self, event: threading.Event | None, seconds: float) -> bool:
        if event is not None and event.is_set():
            return True
        with self._cond:
            self.waits.append(seconds)
            self._now += max(seconds, 0.0)
            self._cond.notify_all()
            number = len(self.waits)
            park = self._park_after is not None and number > self._park_after
        if self._on_wait is not None:
            self._on_wait(number)
        if park:
            if event is None:
                threading.Event().wait()  # a parked sleeper never wakes: the test must stop it otherwise
            else:
                event.wait()
            return True
        return event is not None and event.is_set()

    def wait_for_waits(self, count: int, timeout: float = 30.0) -> list[float]:
        """Block (for real) until `count` waits were asked for; returns the first `count`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.waits) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.waits)} waits within {timeout} s, expected {count}")
                self._cond.wait(left)
            return self.waits[:count]
