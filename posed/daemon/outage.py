"""A backend that stopped answering, or answers badly, as one camera's worker sees it.

While the server is away the worker drops frames (the camera's latest-frame slot
never queues them), retries after a delay that doubles up to a ceiling, and counts
each failed inference. One warning when the outage starts, one line when it ends:
never a traceback per frame.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

FIRST_RETRY = 0.5  # seconds
LAST_RETRY = 10.0  # the ceiling: a server back after a restart is used within 10 s


class Outage:
    def __init__(self, camera: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._camera = camera
        self._clock = clock
        self.failed_inferences = 0  # over the worker's life, for stats
        self.reason: str | None = None  # set while the backend is unreachable
        self._since = 0.0
        self._failures = 0  # in this outage
        self._delay = FIRST_RETRY

    @property
    def active(self) -> bool:
        return self.reason is not None

    def failed(self, reason: str, dropped: int, *, unreachable: bool = True) -> float:
        """Count a failed inference (and `dropped` frames in flight); returns the seconds to wait.

        `unreachable`: the backend did not answer; otherwise it answered badly (an error,
        a wrong tensor, values no network produces).
        """
        self.failed_inferences += 1
        self._failures += 1
        if self.reason is None:
            self._since = self._clock()
            self._delay = FIRST_RETRY
            log.warning(
                "camera %s: inference backend %s, dropping frames and retrying: %s",
                self._camera,
                "unreachable" if unreachable else "failed",
                reason,
            )
        else:
            self._delay = min(self._delay * 2, LAST_RETRY)
        self.reason = reason
        if dropped:
            log.debug("camera %s: %d frame(s) in flight dropped", self._camera, dropped)
        return self._delay

    def recovered(self) -> None:
        """The backend answered again."""
        if self.reason is None:
            return
        log.info(
            "camera %s: inference backend back after %.1f s (%d failed inference(s)); tracking restarted",
            self._camera,
            self._clock() - self._since,
            self._failures,
        )
        self.reason = None
        self._failures = 0
        self._delay = FIRST_RETRY
