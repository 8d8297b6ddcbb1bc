"""Daemon logging: journald priority prefixes under systemd, timestamps elsewhere, no secrets.

journald reads `<N>` at the start of each line of a stream as its syslog
priority and stamps the time itself, so under journald the lines carry the
priority and no timestamp. Redaction happens in the formatter, on the final
text, so it also covers arguments and tracebacks, whichever logger produced them.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping
from typing import TextIO

from posed.daemon.log_limit import RateLimitedHandler
from posed.urls import mask_credentials

# syslog priorities (sd-daemon.h SD_ERR .. SD_DEBUG)
_PRIORITY = ((logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))
_HUMAN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_JOURNAL_FORMAT = "%(name)s: %(message)s"
REDACTED = "***"


def priority_of(levelno: int) -> int:
    if levelno >= logging.CRITICAL:
        return 2
    for threshold, priority in _PRIORITY:
        if levelno >= threshold:
            return priority
    return 7


def journald_stream(stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """True when `stream` is the journal stream systemd connected.

    systemd documents comparing JOURNAL_STREAM's device:inode with the stream's own,
    because the variable is inherited by children whose stderr may point elsewhere.
    """
    env = os.environ if env is None else env
    value = env.get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError):  # ValueError: a stream with no file descriptor
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


def route_third_party(level: str) -> None:
    """Bring other libraries' messages under posed's log level, keeping their real errors.

    - Python warnings (ruamel's ReusedAnchorWarning...) become `py.warnings` log records.
    - OpenCV's own `[ WARN:0@...]` lines: shown only at debug; errors always.
    - FFmpeg through OpenCV (`[mjpeg @...] overread`): OpenCV reads OPENCV_FFMPEG_LOGLEVEL
      when it first opens a file or stream. Corrupt input surfaces as a failed read that
      posed logs itself, so FFmpeg keeps only fatal messages (debug: its warnings too).
    - LiteRT's INFO lines: see posed.native_log.
    A user's own environment settings win over these.
    """
    logging.captureWarnings(True)
    debug = level.lower() == "debug"
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "24" if debug else "8")  # AV_LOG_WARNING / AV_LOG_FATAL
    os.environ.setdefault("OPENCV_LOG_LEVEL", "WARNING" if debug else "ERROR")
    if "cv2" in sys.modules:  # already initialised: the variable is read once, so set it directly
        cv2_logging = sys.modules["cv2"].utils.logging
        cv2_logging.setLogLevel(cv2_logging.LOG_LEVEL_WARNING if debug else cv2_logging.LOG_LEVEL_ERROR)


class Redactor:
    """Removes registered secret values and credential-looking substrings from text."""

    def __init__(self) -> None:
        self._secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        secret = secret.strip()
        if len(secret) < 3:
            return  # redacting 1-2 characters would mangle every line and hide nothing
        with self._lock:
            if secret not in self._secrets:
                # Longest first, so a secret that contains another is removed whole.
                self._secrets = tuple(sorted({*self._secrets, secret}, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return mask_credentials(text)  # every credential form, in posed.urls


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, redactor: Redactor, *, journal: bool) -> None:
        super().__init__(fmt)
        self._redactor = redactor
        self._journal = journal

    def format(self, record: logging.LogRecord) -> str:
        text = self._redactor(super().format(record))
        if not self._journal:
            return text
        # journald splits a stream at newlines; each line (a traceback's too) needs its priority.
        prefix = f"<{priority_of(record.levelno)}>"
        return "\n".join(prefix + line for line in text.split("\n"))


class DaemonLogging:
    """The root logger's one handler while the daemon runs; its level can change on reload."""

    def __init__(
        self, level: str, *, stream: TextIO | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.journal = journald_stream(self.stream, env)
        self.redactor = Redactor()
        # Every line passes one rate limit (posed.daemon.log_limit), so no flood fills the journal.
        self.handler = RateLimitedHandler(self.stream)
        fmt = _JOURNAL_FORMAT if self.journal else _HUMAN_FORMAT
        self.handler.setFormatter(RedactingFormatter(fmt, self.redactor, journal=self.journal))
        root = logging.getLogger()
        for old in list(root.handlers):
            root.removeHandler(old)
        root.addHandler(self.handler)
        self.set_level(level)

    def set_level(self, level: str) -> None:
        logging.getLogger().setLevel(level.upper())
        route_third_party(level)

    def write_due(self, now: float) -> None:
        """Write the rate limit's summaries whose window has ended (`now`: time.time())."""
        self.handler.write_due(now)

    def close(self) -> None:
        logging.getLogger().removeHandler(self.handler)
        self.handler.close()
