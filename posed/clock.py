"""Where the long-running loops read the time and wait: the system's clock, or a test's.

Back-off, pacing, budgets and patience are about time; a test hands these loops a
fake clock (tests/fake_clock.py) and checks their arithmetic without depending on
how busy the machine is.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def wait(self, event: threading.Event | None, seconds: float) -> bool:
        """Sleep up to `seconds`, less if `event` gets set; True when it is set."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, event: threading.Event | None, seconds: float) -> bool:
        if event is None:
            time.sleep(max(seconds, 0.0))
            return False
        return event.wait(max(seconds, 0.0))


SYSTEM_CLOCK: Clock = SystemClock()
