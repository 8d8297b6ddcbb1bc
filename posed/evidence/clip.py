"""An MP4 (H.264) from encoded JPEG frames, written with PyAV.

H.264 in MP4 plays in every browser and in Home Assistant's media views; OpenCV's
own writer offers only MPEG-4 part 2 here, which browsers do not play. The frames
are decoded one at a time, so writing a clip holds one raw frame, never all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from posed.errors import PosedError
from posed.evidence.ring import EncodedFrame


class ClipError(PosedError):
    """A clip could not be written (no encoder, a broken frame, a full disk)."""


def clips_available() -> str | None:
    """None when clips can be written here, else what is missing."""
    try:
        import av
    except ImportError as exc:
        return f"snapshots.clips needs PyAV, which is not installed ({exc}): pip install 'posed[clips]'"
    if "libx264" not in av.codecs_available:
        return "snapshots.clips needs PyAV with the libx264 encoder, which this PyAV build lacks"
    return None


def write_clip(frames: Sequence[EncodedFrame], path: Path, fps: float) -> int:
    """Write `frames` (oldest first) to `path` at `fps`; the number of frames written."""
    import av
    import cv2

    if not frames:
        raise ClipError("a clip needs at least one frame")
    first = cv2.imdecode(np.frombuffer(frames[0].jpeg, np.uint8), cv2.IMREAD_COLOR)
    if first is None:
        raise ClipError("a clip frame is not a readable JPEG")
    # yuv420p needs even sides.
    height, width = first.shape[0] & ~1, first.shape[1] & ~1
    written = 0
    try:
        with av.open(str(path), mode="w", format="mp4") as output:
            stream = output.add_stream("libx264", rate=Fraction(round(fps * 1000), 1000))
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"preset": "veryfast", "crf": "26"}
            for item in frames:
                image = cv2.imdecode(np.frombuffer(item.jpeg, np.uint8), cv2.IMREAD_COLOR)
                if image is None:
                    continue
                if image.shape[0] < height or image.shape[1] < width:
                    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
                pixels = np.ascontiguousarray(image[:height, :width], dtype=np.uint8)
                picture = av.VideoFrame.from_ndarray(pixels, format="bgr24")
                output.mux(stream.encode(picture))
                written += 1
            output.mux(stream.encode(None))
    except (av.FFmpegError, OSError) as exc:
        path.unlink(missing_ok=True)
        raise ClipError(f"writing the clip {path} failed: {exc}") from exc
    return written
