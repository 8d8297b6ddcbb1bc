"""Check that a camera can be opened and delivers a frame, for `posed check`."""

from __future__ import annotations

from posed.cameras.config import CameraConfig
from posed.cameras.factory import make_source
from posed.cameras.source import EndOfStream
from posed.errors import CameraError


def probe_camera(name: str, camera: CameraConfig) -> None:
    """Open `camera`, read one frame and close it; raise CameraError saying what is wrong.

    A camera already used by a running posed will report itself busy: stop the
    daemon before checking its cameras.
    """
    source = make_source(camera)
    try:
        source.open()
        source.read()
    except CameraError as exc:
        raise CameraError(f"camera {name!r}: {exc}") from exc
    except EndOfStream as exc:
        raise CameraError(f"camera {name!r}: {source.description} holds no frames") from exc
    finally:
        source.close()
