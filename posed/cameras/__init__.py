"""Camera sources: picamera2, V4L2/USB, network streams, video files and image folders.

Importing this package opens nothing and imports no camera library; a source's
module (and OpenCV or picamera2) is imported when a camera of that type is made.
"""

from posed.cameras.capture import Camera, CameraCounters, StatusCallback
from posed.cameras.factory import open_camera
from posed.cameras.source import EndOfStream
from posed.cameras.status import CameraStatus

__all__ = ["Camera", "CameraCounters", "CameraStatus", "EndOfStream", "StatusCallback", "open_camera"]
