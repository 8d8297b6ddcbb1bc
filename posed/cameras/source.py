"""What every camera source provides to the capture thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from posed.types import ImageArray


class EndOfStream(Exception):
    """A finite source (a video or images without `loop`) has delivered its last frame.

    Not a PosedError: it is the normal end of a file, not a fault.
    """


class Source(Protocol):
    """One camera device, file or stream, opened and closed by the capture thread only.

    `open()` may be called again after `close()`; every call is bounded in time
    by the source's own timeouts, so a dead device surfaces as a CameraError and
    never as a thread blocked for ever.
    """

    @property
    def description(self) -> str:
        """What this source reads, for log lines (credentials removed)."""
        ...

    @property
    def interval(self) -> float | None:
        """Seconds between frames when the capture thread must pace them (files played in
        real time); None when reading already waits for the device. Valid after `open()`."""
        ...

    @property
    def lossless(self) -> bool:
        """True when every frame must reach the consumer (files not played in real time)."""
        ...

    def open(self) -> None:
        """Open the device; raise CameraError saying what is wrong and how to fix it."""
        ...

    def read(self) -> ImageArray:
        """The next frame as a new RGB uint8 HxWx3 array the caller owns.

        Raises CameraError when the device fails or stops delivering, EndOfStream at
        the end of a finite source.
        """
        ...

    def close(self) -> None:
        """Release the device. Idempotent; never raises."""
        ...


class LiveSource:
    """Base of the sources that are devices or streams (picamera2, V4L2, network streams).

    Reading waits for the device, so the capture thread adds no pacing, and a frame
    the pipeline is too slow for is dropped, as the newest frame wins.
    """

    @property
    def interval(self) -> float | None:
        return None

    @property
    def lossless(self) -> bool:
        return False


@runtime_checkable
class TimedSource(Source, Protocol):
    """A source that knows when, in its own recording, each frame was taken."""

    @property
    def media_time(self) -> float | None:
        """Seconds into the recording of the frame `read()` returned last, rising across loops;
        None when frames should be stamped with the read time (played in real time)."""
        ...


@dataclass(frozen=True, slots=True)
class Deferred:
    """A frame read without its full RGB image: a small grey copy, and how to make the image.

    `decode` may run on another thread than the capture thread and more than once; it
    shares no buffer with the source.
    """

    preview: ImageArray  # grey, H x W, uint8, any size (the motion gate scales it)
    decode: Callable[[], ImageArray]  # the RGB image read() would have returned
    size: tuple[int, int]  # (width, height) of that image


@runtime_checkable
class DeferringSource(Source, Protocol):
    """A source that can hand over a cheap grey preview and decode the full image only on demand
    (a reduced JPEG decode, a camera's low-resolution stream, a conversion put off)."""

    def read_deferred(self) -> Deferred:
        """Like read(), with the same errors; the full image is made when `decode` is called."""
        ...
