"""The capture thread: latest frame wins, stalls are detected, sources reopen with back-off.

Each Camera owns one Source and one thread. The thread opens the source, reads
frames as fast as the source delivers them and hands each to a one-frame slot;
it never waits on the consumer (except for files that must keep every frame).
When the source fails or stops delivering, it is closed and reopened after an
exponential back-off, for as long as the camera is not closed.

Stalls are found by bounded reads: every source's read gives up after at most
`stall_timeout` (or its own shorter read timeout) and raises CameraError, so a
silent device becomes a failure the thread recovers from.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from posed.cameras.config import CameraCommon
from posed.cameras.slot import FrameSlot
from posed.cameras.source import DeferringSource, EndOfStream, Source, TimedSource
from posed.cameras.status import CameraStatus
from posed.clock import SYSTEM_CLOCK, Clock
from posed.errors import CameraError, ClosedError
from posed.types import Frame

log = logging.getLogger(__name__)

StatusCallback = Callable[[str, CameraStatus], None]


@dataclass(frozen=True, slots=True)
class CameraCounters:
    """Totals since the camera was created.

    captured: frames read from the source; dropped: frames replaced in the slot
    before the consumer took them; reconnects: attempts to reopen the source after
    a failure; stalls: times an online camera stopped delivering frames.
    """

    captured: int
    dropped: int
    reconnects: int
    stalls: int


class Camera:
    """One camera: a source, its capture thread and the latest-frame slot.

    Nothing is opened before `start()`. `on_status(name, status)` is called from
    the capture thread on every status transition and must not block.
    """

    def __init__(
        self,
        name: str,
        source: Source,
        config: CameraCommon,
        *,
        on_status: StatusCallback | None = None,
        clock: Clock = SYSTEM_CLOCK,
        previews: bool = False,
    ) -> None:
        """`previews`: read each frame as a small grey preview with the full image decoded on
        demand, where the source can (the motion gate is on); other sources read as usual."""
        self.name = name
        self._previews = previews
        self._clock = clock  # paces realtime files, times the back-off, stamps the frames
        self._source = source
        self._min_delay = config.reconnect_min_delay
        self._max_delay = config.reconnect_max_delay
        self._on_status = on_status
        self._slot = FrameSlot()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._status = CameraStatus.OFFLINE
        self._status_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._captured = 0
        self._reconnects = 0
        self._stalls = 0
        self._next_number = 0
        self._delivered = False
        self._last_reason: str | None = None

    # -- the consumer's side -------------------------------------------------

    def start(self) -> None:
        """Start the capture thread and return at once; the thread opens the source."""
        if self._closed:
            raise ClosedError(f"camera {self.name!r} is closed")
        if self._thread is not None:
            raise CameraError(f"camera {self.name!r} is already started")
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.name}", daemon=True)
        self._thread.start()

    def latest(self, timeout: float) -> Frame | None:
        """The newest frame not yet returned, waiting up to `timeout` s; None on timeout.

        Raises EndOfStream once a finite source is exhausted and its last frame was
        returned, ClosedError after close().
        """
        if self._thread is None and not self._closed:
            raise CameraError(f"camera {self.name!r} is not started")
        return self._slot.take(timeout)

    @property
    def problem(self) -> str | None:
        """Why the camera is not delivering frames (its last failure), until it delivers again."""
        return self._last_reason

    @property
    def status(self) -> CameraStatus:
        return self._status

    def counters(self) -> CameraCounters:
        with self._count_lock:
            captured, reconnects, stalls = self._captured, self._reconnects, self._stalls
        return CameraCounters(captured, self._slot.dropped, reconnects, stalls)

    def close(self, timeout: float = 3.0) -> None:
        """Stop the thread and release the source. Idempotent.

        A thread blocked inside the device (bounded by the source's timeouts) is
        waited for up to `timeout` s; past that it releases the device itself as
        soon as the call returns.
        """
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._slot.close()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning(
                    "camera %s: still inside %s after %.1f s; it is released when that call returns",
                    self.name,
                    self._source.description,
                    timeout,
                )
        self._set_status(CameraStatus.OFFLINE)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- the capture thread --------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._source.close()
            self._set_status(CameraStatus.OFFLINE)

    def _loop(self) -> None:
        delay = self._min_delay
        attempts = 0
        while not self._stop.is_set():
            if attempts:
                with self._count_lock:
                    self._reconnects += 1
            attempts += 1
            self._delivered = False
            try:
                self._source.open()
                self._pump()
                return
            except EndOfStream:
                log.info("camera %s: end of %s", self.name, self._source.description)
                # Released and offline before the consumer can see the end.
                self._source.close()
                self._set_status(CameraStatus.OFFLINE)
                self._slot.end()
                return
            except CameraError as exc:
                reason = str(exc)
            except Exception as exc:
                # A library failure nobody foresaw: recover as from any other failure, loudly.
                log.exception("camera %s: unexpected error from %s", self.name, self._source.description)
                reason = f"unexpected error: {exc!r}"
            finally:
                self._source.close()
            if self._stop.is_set():
                return
            if self._delivered:
                delay = self._min_delay
            self._failed(reason, delay)
            if self._clock.wait(self._stop, delay):
                return
            delay = min(delay * 2, self._max_delay)

    def _pump(self) -> None:
        """Read until stopped; raises when the source fails or ends."""
        source = self._source
        interval = source.interval
        lossless = source.lossless
        timed = source if isinstance(source, TimedSource) else None
        deferring = source if self._previews and isinstance(source, DeferringSource) else None
        due = 0.0
        while not self._stop.is_set():
            deferred = deferring.read_deferred() if deferring is not None else None
            image = source.read() if deferred is None else None
            if interval is not None:
                now = self._clock.monotonic()
                if now - due > interval:
                    due = now  # the first frame, or late by more than a frame: restart the clock
                elif due > now and self._clock.wait(self._stop, due - now):
                    return
                due += interval
            media_time = timed.media_time if timed is not None else None
            number, now = self._next_number, self._clock.monotonic()
            if deferred is not None:
                frame = Frame(
                    None,
                    number,
                    now,
                    time.time(),
                    media_time,
                    preview=deferred.preview,
                    decode=deferred.decode,
                    size=deferred.size,
                )
            else:
                frame = Frame(image, number, now, time.time(), media_time)
            self._next_number += 1
            with self._count_lock:
                self._captured += 1
            if not self._delivered:
                self._delivered = True
                self._last_reason = None
                log.info("camera %s: online (%s)", self.name, source.description)
                self._set_status(CameraStatus.ONLINE)
            if not self._slot.put(frame, wait=lossless):
                return

    def _failed(self, reason: str, delay: float) -> None:
        if self._status == CameraStatus.ONLINE:
            with self._count_lock:
                self._stalls += 1
        if reason != self._last_reason:
            log.warning("camera %s: %s; reopening in %.3g s (and with back-off)", self.name, reason, delay)
            self._last_reason = reason
        else:
            log.debug("camera %s: %s; reopening in %.3g s", self.name, reason, delay)
        self._set_status(CameraStatus.RECONNECTING)

    def _set_status(self, status: CameraStatus) -> None:
        with self._status_lock:
            if status == self._status:
                return
            self._status = status
            callback = self._on_status
            if callback is None:
                return
            try:
                callback(self.name, status)
            except Exception:
                # The callback belongs to the daemon; a bug there must not stop the capture.
                log.exception("camera %s: on_status callback failed", self.name)
