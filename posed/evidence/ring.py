"""The last few seconds of one camera as encoded JPEG frames, bounded by count and bytes.

A clip starts before the event, so the frames before it must already be kept. Raw
RGB frames would take 0.9 MB each at 640x480; a JPEG takes some 30 kB, so a Pi can
keep seconds of several cameras. The ring drops its oldest frame when either bound
is hit; `bytes` is exactly the payload it holds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    stamp: float  # capture time on the camera's clock (Frame.tracking_time), seconds
    jpeg: bytes


class JpegRing:
    def __init__(self, max_frames: int, max_bytes: int) -> None:
        if max_frames < 1 or max_bytes < 1:
            raise ValueError("a ring holds at least one frame and one byte")
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self._frames: deque[EncodedFrame] = deque()
        self._bytes = 0
        self.dropped = 0  # frames pushed out by a bound

    def push(self, frame: EncodedFrame) -> None:
        self._frames.append(frame)
        self._bytes += len(frame.jpeg)
        while len(self._frames) > self.max_frames or self._bytes > self.max_bytes:
            gone = self._frames.popleft()
            self._bytes -= len(gone.jpeg)
            self.dropped += 1

    def since(self, stamp: float) -> list[EncodedFrame]:
        """The frames captured at or after `stamp`, oldest first."""
        return [f for f in self._frames if f.stamp >= stamp]

    def clear(self) -> None:
        self._frames.clear()
        self._bytes = 0

    @property
    def newest(self) -> float | None:
        """The stamp of the newest frame, None when empty."""
        return self._frames[-1].stamp if self._frames else None

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._frames)
