"""HTTP downloads for the model store: resumed with Range after a cut, retried, with progress.

The caller gives a staging path and verifies the checksum before installing;
this module only promises that a download it reports as complete has exactly
the length the server announced. Proxies come from the usual https_proxy /
no_proxy environment variables (urllib reads them).
"""

from __future__ import annotations

import http.client
import logging
import re
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from posed import __version__
from posed.clock import SYSTEM_CLOCK, Clock
from posed.errors import ModelError

log = logging.getLogger(__name__)

_CHUNK = 256 * 1024
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class DownloadError(ModelError):
    """A download failed for good; `missing` says the server does not have the file at all."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True, slots=True)
class DownloadPolicy:
    attempts: int = 4
    timeout_s: float = 30.0
    retry_delay_s: float = 1.0  # doubled after every failed attempt
    progress: bool | None = None  # None: a bar when stderr is a terminal


class Progress:
    """A one-line progress bar on a terminal; a start and an end log line otherwise."""

    def __init__(self, label: str, enabled: bool | None, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._label = label
        self._total: int | None = None
        self._done = 0
        self._started = time.monotonic()
        self._last_draw = 0.0

    def start(self, done: int, total: int | None) -> None:
        self._done, self._total = done, total
        if not self._enabled:
            log.info("downloading %s (%s)", self._label, _mb(total) if total else "size unknown")
        self._draw(force=True)

    def advance(self, count: int) -> None:
        self._done += count
        self._draw()

    def finish(self) -> None:
        elapsed = time.monotonic() - self._started
        if self._enabled:
            self._draw(force=True)
            self._stream.write("\n")
            self._stream.flush()
        log.info("downloaded %s: %s in %.1f s", self._label, _mb(self._done), elapsed)

    def _draw(self, force: bool = False) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        rate = self._done / max(now - self._started, 1e-6)
        if self._total:
            fraction = min(self._done / self._total, 1.0)
            bar = "#" * int(fraction * 30)
            text = f"{self._label} [{bar:<30}] {fraction:4.0%} {_mb(self._done)}/{_mb(self._total)}"
        else:
            text = f"{self._label} {_mb(self._done)}"
        self._stream.write(f"\r{text} {_mb(int(rate))}/s\x1b[K")
        self._stream.flush()


def _mb(count: int | None) -> str:
    return f"{(count or 0) / 1e6:.1f} MB"


def download(
    url: str, dest: Path, *, label: str, policy: DownloadPolicy, clock: Clock = SYSTEM_CLOCK
) -> None:
    """Fetch `url` into `dest`, resuming after a cut connection; DownloadError when it cannot.

    `clock` waits between attempts (a test's fake clock checks the back-off).
    """
    progress = Progress(label, policy.progress)
    delay = policy.retry_delay_s
    problems: list[str] = []
    dest.write_bytes(b"")
    for attempt in range(1, policy.attempts + 1):
        try:
            if _attempt(url, dest, policy.timeout_s, progress, first=attempt == 1):
                progress.finish()
                return
            problems.append(f"attempt {attempt}: connection closed early at {dest.stat().st_size} bytes")
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403, 404, 410):
                raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}", missing=True) from exc
            problems.append(f"attempt {attempt}: HTTP {exc.code} {exc.reason}")
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            if isinstance(reason, socket.gaierror):
                # An unknown host does not come back in seconds: offline, or DNS blocked. Next source.
                raise DownloadError(
                    f"{url}: cannot resolve the host ({reason}); offline?", missing=True
                ) from exc
            problems.append(f"attempt {attempt}: {type(exc).__name__}: {reason}")
        if attempt < policy.attempts:
            log.info("download of %s interrupted (%s); retrying in %.1f s", label, problems[-1], delay)
            clock.wait(None, delay)
            delay *= 2
    raise DownloadError(f"{url}: gave up after {policy.attempts} attempts ({'; '.join(problems)})")


def _attempt(url: str, dest: Path, timeout: float, progress: Progress, *, first: bool) -> bool:
    """One request; True when the whole file is in `dest`."""
    have = dest.stat().st_size
    headers = {"User-Agent": f"posed/{__version__}"}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code != 416:
            raise
        # Our offset is past the end: the file changed under us. Start over.
        dest.write_bytes(b"")
        return False
    with response:
        total, offset = _expected(response, have)
        mode = "ab" if offset else "wb"
        if first or not offset:
            progress.start(offset, total)
        with dest.open(mode) as out:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                progress.advance(len(chunk))
        size = dest.stat().st_size
    if total is None:
        return True  # no length announced: only the checksum can tell
    if size > total:
        dest.write_bytes(b"")
        raise http.client.HTTPException(f"server sent {size} bytes of a {total}-byte file")
    return size == total


def _expected(response: http.client.HTTPResponse, have: int) -> tuple[int | None, int]:
    """(total file size or None, offset the body starts at) from the response headers."""
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
        if match is None or int(match.group(1)) != have:
            raise http.client.HTTPException(f"bad Content-Range {response.headers.get('Content-Range')!r}")
        total = None if match.group(3) == "*" else int(match.group(3))
        return total, have
    length = response.headers.get("Content-Length")
    # A 200 answer to a Range request is the whole file again: start over.
    return (int(length) if length is not None and length.isdigit() else None), 0
