"""The daemon's two time-keeping decisions, apart from the loop so they are tested on exact times.

RestartBudget: how many hung or crashed workers may be restarted within a window.
WatchdogPing: when to send WATCHDOG=1, and never while a processing loop is stuck.
Both take the current time as an argument (the daemon's clock); neither waits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable


class RestartBudget:
    """At most `budget` restarts within any `window` seconds; older ones no longer count.

    The budget is passed on each call: a reload may change it, and the restarts already
    made still count against the new one.
    """

    def __init__(self, window: float) -> None:
        self.window = window
        self._restarts: deque[float] = deque()

    def spend(self, now: float, budget: int) -> bool:
        """Record a restart at `now` and return True, or return False when the budget is spent."""
        while self._restarts and now - self._restarts[0] > self.window:
            self._restarts.popleft()
        if len(self._restarts) >= budget:
            return False
        self._restarts.append(now)
        return True

    @property
    def used(self) -> int:
        return len(self._restarts)


class WatchdogPing:
    """WATCHDOG=1 every `interval` s while every running processing loop goes round.

    A loop goes round after each frame, and every FRAME_WAIT while its camera has none
    (a camera that is down reconnects on its own and must not get the daemon killed).
    A loop stuck in an inference does not, so the pings stop and systemd steps in.
    """

    def __init__(self, interval: float | None, now: float) -> None:
        self.interval = interval
        self.last = now

    def due(self, now: float, beats: Iterable[float]) -> bool:
        """True (and `now` becomes the last ping) when a ping is due; `beats`: each running
        loop's last round, in the same clock."""
        if self.interval is None or now - self.last < self.interval:
            return False
        rounds = list(beats)
        if not rounds or not all(beat > self.last for beat in rounds):
            return False
        self.last = now
        return True

    def pause(self, now: float, tick: float) -> float:
        """How long the loop may sleep before it must look again."""
        if self.interval is None:
            return tick
        return min(tick, max(self.last + self.interval - now, 0.01))
