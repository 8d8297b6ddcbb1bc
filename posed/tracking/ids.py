"""Person ids: one counter per process, so an id is never handed out twice in a run.

Estimators are reopened on a config reload or a worker restart, and every
camera has its own; a counter per estimator would hand out the same ids again
and the events stage, which keys per-person state on the id, would mix people.
"""

from __future__ import annotations

import threading


class IdSource:
    """Hands out increasing integers, starting at 1; safe to share between worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 1

    def take(self) -> int:
        with self._lock:
            value = self._next
            self._next += 1
            return value


RUN_IDS = IdSource()
"""The process-wide source every estimator uses unless given its own (tests give their own)."""
