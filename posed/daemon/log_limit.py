"""Repeated log lines, aggregated: one client or one flapping peer must not flood the journal.

journald drops a service's lines beyond its rate limit (by default 10,000 in 30 s),
the real warnings among them. A hostile client can cause a line per request (aiohttp's
"Error handling request"), and Home Assistant or a user one per message (`online`, a
reset press). So every line the daemon writes passes through one limit, keyed by the
line's source and template (logger, level, format string; never its arguments, which
vary): at most BURST lines of a kind per WINDOW; the rest are counted, and when the
window ends one line says how many were left out and what the last one said.

Python's logging has no rate limit of its own (nor do the libraries posed uses), hence
this handler.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TextIO

BURST = 10  # lines of one kind written per window
WINDOW = 60.0  # seconds
MAX_KINDS = 512  # kinds remembered; the least recent is forgotten (with its summary written)
_SAMPLE = 300  # characters of the last suppressed line quoted in the summary

Key = tuple[str, int, str]


@dataclass(slots=True)
class _Kind:
    start: float
    written: int = 0
    suppressed: int = 0
    last: logging.LogRecord | None = None


def kind_of(record: logging.LogRecord) -> Key:
    template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
    # A preformatted message (an f-string) varies whole; its first line is its kind.
    return (record.name, record.levelno, template.split("\n", 1)[0][:200])


class LogRateLimit:
    """Decides which records are written; thread-safe. Times are `record.created` seconds."""

    def __init__(self, *, burst: int = BURST, window: float = WINDOW, max_kinds: int = MAX_KINDS) -> None:
        self.burst = burst
        self.window = window
        self.max_kinds = max_kinds
        self._kinds: OrderedDict[Key, _Kind] = OrderedDict()
        self._next_due = float("inf")  # the earliest end of a window: no scan before it
        self._lock = threading.Lock()

    def admit(self, record: logging.LogRecord) -> tuple[bool, list[logging.LogRecord]]:
        """Whether to write `record`, and the summaries that are due before it."""
        key = kind_of(record)
        with self._lock:
            summaries = self._due(record.created)
            kind = self._kinds.get(key)
            if kind is None:
                kind = self._kinds[key] = _Kind(record.created)
                self._next_due = min(self._next_due, record.created + self.window)
                while len(self._kinds) > self.max_kinds:
                    _, oldest = self._kinds.popitem(last=False)
                    summaries.extend(self._summary(oldest))
            self._kinds.move_to_end(key)
            if kind.written < self.burst:
                kind.written += 1
                return True, summaries
            kind.suppressed += 1
            kind.last = record
            return False, summaries

    def due(self, now: float) -> list[logging.LogRecord]:
        """Summaries of the windows that ended by `now`."""
        with self._lock:
            return self._due(now)

    def flush(self) -> list[logging.LogRecord]:
        """Every pending summary (at exit)."""
        with self._lock:
            summaries = [s for kind in self._kinds.values() for s in self._summary(kind)]
            self._kinds.clear()
            self._next_due = float("inf")
            return summaries

    def _due(self, now: float) -> list[logging.LogRecord]:
        if now < self._next_due:
            return []
        summaries: list[logging.LogRecord] = []
        for key in [k for k, kind in self._kinds.items() if now - kind.start >= self.window]:
            kind = self._kinds.pop(key)
            summaries.extend(self._summary(kind))
        starts = [kind.start for kind in self._kinds.values()]
        self._next_due = min(starts) + self.window if starts else float("inf")
        return summaries

    def _summary(self, kind: _Kind) -> list[logging.LogRecord]:
        last = kind.last
        if not kind.suppressed or last is None:
            return []
        text = last.getMessage().split("\n", 1)[0]
        if len(text) > _SAMPLE:
            text = text[:_SAMPLE] + "..."
        summary = logging.LogRecord(
            last.name,
            last.levelno,
            last.pathname,
            last.lineno,
            "%d more line(s) like this in %.0f s were left out (log rate limit); the last: %s",
            (kind.suppressed, self.window, text),
            None,
        )
        return [summary]


class RateLimitedHandler(logging.StreamHandler[TextIO]):
    """A StreamHandler whose records pass through a LogRateLimit."""

    def __init__(self, stream: TextIO, limit: LogRateLimit | None = None) -> None:
        super().__init__(stream)
        self.limit = LogRateLimit() if limit is None else limit

    def emit(self, record: logging.LogRecord) -> None:
        write, summaries = self.limit.admit(record)
        for summary in summaries:
            super().emit(summary)
        if write:
            super().emit(record)

    def write_due(self, now: float) -> None:
        """Write the summaries of ended windows now, not at the next line (called periodically)."""
        self._write(self.limit.due(now))

    def close(self) -> None:
        self._write(self.limit.flush())
        super().close()

    def _write(self, summaries: list[logging.LogRecord]) -> None:
        if not summaries:
            return
        self.acquire()  # as Handler.handle() does around emit()
        try:
            for summary in summaries:
                super().emit(summary)
        finally:
            self.release()
