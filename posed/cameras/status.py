"""A camera's status, one type from the capture thread to the status topic, the stats and the page.

The values are the payloads of the `status` topic and the `status` of each camera in the stats,
byte for byte. A camera itself is online, offline or reconnecting; its worker adds degraded.
"""

from __future__ import annotations

from enum import StrEnum


class CameraStatus(StrEnum):
    ONLINE = "online"  # frames arrive
    OFFLINE = "offline"  # not opened yet, stopped, or gone for good (a file that ended)
    RECONNECTING = "reconnecting"  # lost; opened again with back-off
    DEGRADED = "degraded"  # frames arrive, but the backend does not answer (remote inference)
