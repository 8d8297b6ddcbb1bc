"""The one-frame hand-over between a capture thread and its consumer."""

from __future__ import annotations

import threading
import time

from posed.cameras.source import EndOfStream
from posed.errors import ClosedError
from posed.types import Frame


class FrameSlot:
    """Holds at most one frame: the newest one not yet taken.

    `put(wait=False)` replaces an untaken frame and counts it as dropped, so a slow
    consumer always gets the newest frame and nothing queues up. `put(wait=True)`
    waits for the consumer instead, for files that must not lose frames.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._dropped = 0
        self._ended = False
        self._closed = False

    @property
    def dropped(self) -> int:
        with self._cond:
            return self._dropped

    def put(self, frame: Frame, *, wait: bool) -> bool:
        """Offer `frame`; False if the slot was closed (the frame is then discarded)."""
        with self._cond:
            if wait:
                while self._frame is not None and not self._closed:
                    self._cond.wait()
            if self._closed:
                return False
            if self._frame is not None:
                self._dropped += 1
            self._frame = frame
            self._cond.notify_all()
            return True

    def take(self, timeout: float) -> Frame | None:
        """The newest untaken frame, waiting up to `timeout` s; None on timeout.

        Raises EndOfStream once the source has ended and its last frame was taken,
        ClosedError once the slot is closed.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._frame is None:
                if self._closed:
                    raise ClosedError("camera is closed")
                if self._ended:
                    raise EndOfStream("the source has no more frames")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            frame, self._frame = self._frame, None
            self._cond.notify_all()
            return frame

    def end(self) -> None:
        """The source is exhausted: once the slot is empty, take() raises EndOfStream."""
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def close(self) -> None:
        """Wake every waiter; the frame left in the slot is released."""
        with self._cond:
            self._closed = True
            self._frame = None
            self._cond.notify_all()
