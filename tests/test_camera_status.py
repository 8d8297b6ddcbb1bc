"""One camera status type from the capture thread to the status topic and the stats document,
whose payloads stay the same bytes."""

from __future__ import annotations

import orjson

from posed.cameras import CameraStatus
from posed.daemon.outage import Outage
from posed.daemon.telemetry import camera_status
from posed.mqtt import payloads
from posed.stats import CameraStats, MqttCounters, StatsSnapshot


def test_status_payloads_are_the_plain_words() -> None:
    sent = {status: payloads.camera_status(status) for status in CameraStatus}
    assert sent == {
        CameraStatus.ONLINE: b"online",
        CameraStatus.OFFLINE: b"offline",
        CameraStatus.RECONNECTING: b"reconnecting",
        CameraStatus.DEGRADED: b"degraded",
    }


class _Camera:
    def __init__(self, status: CameraStatus) -> None:
        self.status = status


class _Worker:
    def __init__(self, failing: bool) -> None:
        self.outage = Outage("front")
        if failing:
            self.outage.reason = "connection refused"


def _status(camera: CameraStatus, failing: bool) -> CameraStatus:
    return camera_status(_Camera(camera), _Worker(failing))  # type: ignore[arg-type]


def test_an_online_camera_whose_backend_fails_is_degraded() -> None:
    assert _status(CameraStatus.ONLINE, failing=True) is CameraStatus.DEGRADED
    assert _status(CameraStatus.ONLINE, failing=False) is CameraStatus.ONLINE
    assert _status(CameraStatus.RECONNECTING, failing=True) is CameraStatus.RECONNECTING


def test_the_stats_document_spells_each_status_as_before() -> None:
    cameras = tuple(
        CameraStats(status.value, status, None, None, None, None, None, 0, 0) for status in CameraStatus
    )
    snapshot = StatsSnapshot(
        cameras=cameras, backend="tflite", devices={}, uptime_s=1.0, cpu_percent=None, rss_mb=1.0
    )
    document = payloads.stats(
        snapshot,
        device_id="d",
        timestamp=0.0,
        mqtt=MqttCounters(connected=True, reconnects=0, dropped=0, queued=0),
    )
    encoded = payloads.encode(document)
    assert {name: cam["status"] for name, cam in orjson.loads(encoded)["cameras"].items()} == {
        s.value: s.value for s in CameraStatus
    }
    assert b'"status":"degraded"' in encoded
