"""Pure builders of every MQTT payload posed publishes, from typed inputs.

Each JSON payload carries `schema_version`; posed/schemas/ holds the JSON
Schema of each one. Plain-text payloads (availability, count, presence,
status) follow Home Assistant's conventions and are the UTF-8 text alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import orjson

from posed.cameras.status import CameraStatus
from posed.keypoints import BLAZEPOSE_33, COCO_17
from posed.stats import CameraStats, MqttCounters, Percentiles, StatsSnapshot
from posed.types import Pose

SCHEMA_VERSION = 1

ONLINE = b"online"
OFFLINE = b"offline"
PRESENCE_ON = b"ON"
PRESENCE_OFF = b"OFF"

# Compact payloads name a well-known keypoint order instead of repeating the names.
KEYPOINT_SETS: Mapping[tuple[str, ...], str] = {BLAZEPOSE_33: "blazepose-33", COCO_17: "coco-17"}

PayloadFormat = Literal["full", "compact"]


def encode(document: Mapping[str, Any]) -> bytes:
    """Compact JSON; NaN or infinity is a bug upstream and raises ValueError.

    orjson writes a BlazePose document in ~8 us where json.dumps takes ~180 us,
    with the same bytes for posed's rounded numbers (only non-zero
    magnitudes below 1e-4, which posed's rounding never leaves, are spelled
    differently, with the same value). orjson writes NaN and infinity as null,
    so a document whose encoding holds a null goes through json.dumps again,
    which raises for them and writes real nulls alike.
    """
    encoded = orjson.dumps(document)
    if b"null" in encoded:
        return json.dumps(document, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return encoded


def availability(online: bool) -> bytes:
    return ONLINE if online else OFFLINE


def count(people: int) -> bytes:
    if people < 0:
        raise ValueError(f"a person count cannot be negative: {people}")
    return str(people).encode("ascii")


def presence(present: bool) -> bytes:
    return PRESENCE_ON if present else PRESENCE_OFF


def camera_status(status: CameraStatus) -> bytes:
    if status not in set(CameraStatus):
        raise ValueError(f"camera status must be one of {', '.join(CameraStatus)}, not {status!r}")
    return CameraStatus(status).value.encode("ascii")


def poses(
    *,
    device_id: str,
    camera: str,
    frame_number: int,
    captured_at: float,
    latency_ms: float,
    inference_ms: float,
    model: str,
    backend: str,
    width: int,
    height: int,
    people: Sequence[Pose],
    fmt: PayloadFormat = "full",
) -> dict[str, Any]:
    """The `{camera}/poses` document.

    `captured_at` is the capture time in seconds since the epoch and
    `latency_ms` the time from capture to this message being handed to the
    MQTT client. In the full format each pose is exactly what `posed estimate`
    prints (`Pose.to_dict()`).
    """
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "format": fmt,
        "device_id": device_id,
        "camera": camera,
        "frame": frame_number,
        "captured_at": round(captured_at, 3),
        "latency_ms": _ms(latency_ms),
        "inference_ms": _ms(inference_ms),
        "model": model,
        "backend": backend,
        "width": width,
        "height": height,
        "count": len(people),
    }
    if fmt == "full":
        document["poses"] = [pose.to_dict() for pose in people]
        return document
    if people:
        names = people[0].names
        known = KEYPOINT_SETS.get(names)
        if known is not None:
            document["keypoint_set"] = known
        else:
            document["keypoint_names"] = list(names)
    document["poses"] = [_compact_pose(pose) for pose in people]
    return document


def _compact_pose(pose: Pose) -> dict[str, Any]:
    """One pose with arrays instead of objects: keypoints are [x, y, score] or [x, y, score, z]."""
    # float64 before rounding: a rounded float32 prints as 0.050999999046325684.
    keypoints = pose.keypoints.astype(np.float64)
    columns = [np.round(keypoints[:, :2], 1), np.round(keypoints[:, 2:3], 3)]
    if pose.z is not None:
        columns.append(np.round(pose.z.astype(np.float64).reshape(-1, 1), 1))
    out: dict[str, Any] = {} if pose.id is None else {"id": pose.id}
    out |= {
        "score": round(float(pose.score), 3),
        "box": [round(float(v), 1) for v in pose.box],
        "keypoints": np.hstack(columns).tolist(),
    }
    if pose.keypoints3d is not None:
        out["keypoints3d"] = np.round(pose.keypoints3d.astype(np.float64), 3).tolist()
    return out


def stats(
    snapshot: StatsSnapshot,
    *,
    device_id: str,
    timestamp: float,
    mqtt: MqttCounters,
) -> dict[str, Any]:
    """The `stats` document: the daemon's measurements plus the publisher's own counters."""
    return {
        "schema_version": SCHEMA_VERSION,
        "device_id": device_id,
        "timestamp": round(timestamp, 3),
        "uptime_s": _round(snapshot.uptime_s, 1),
        "backend": snapshot.backend,
        "devices": dict(snapshot.devices),
        "cpu_percent": _maybe(snapshot.cpu_percent, 1),
        "rss_mb": _round(snapshot.rss_mb, 1),
        "mqtt": {
            "connected": mqtt.connected,
            "reconnects": mqtt.reconnects,
            "dropped": mqtt.dropped,
            "queued": mqtt.queued,
            "events_dropped": mqtt.events_dropped,
            "events_queued": mqtt.events_queued,
        },
        "cameras": {cam.camera: _camera_stats(cam) for cam in snapshot.cameras},
    }


def _camera_stats(cam: CameraStats) -> dict[str, Any]:
    return {
        "status": cam.status,
        "camera_fps": _maybe(cam.camera_fps, 2),
        "processed_fps": _maybe(cam.processed_fps, 2),
        "skipped_fps": _maybe(cam.skipped_fps, 2),
        "inference_ms": _percentiles(cam.inference_ms),
        "latency_ms": _percentiles(cam.latency_ms),
        "reconnects": cam.reconnects,
        "stalls": cam.stalls,
        "failed_inferences": cam.failed_inferences,
        "gated_fps": _maybe(cam.gated_fps, 2),
        "gated_frames": cam.gated_frames,
        "cpu_percent": _maybe(cam.cpu_percent, 1),
    }


def camera_diagnostics(cam: CameraStats | None) -> dict[str, Any]:
    """The retained `{camera}/diagnostics` document: what HA's diagnostic sensors show.

    None (JSON null, shown as `unknown`) for what is not measured; all null before
    the first stats of this run, so a value from an earlier run is never shown.
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "processed_fps": None if cam is None else _maybe(cam.processed_fps, 2),
        "inference_ms": None if cam is None or cam.inference_ms is None else _ms(cam.inference_ms.p50),
        "camera_fps": None if cam is None else _maybe(cam.camera_fps, 2),
        "skipped_fps": None if cam is None else _maybe(cam.skipped_fps, 2),
        "reconnects": None if cam is None else cam.reconnects,
        "stalls": None if cam is None else cam.stalls,
    }


def host(snapshot: StatsSnapshot | None, *, reconnects: int, dropped: int) -> dict[str, Any]:
    """The retained `host` document: the host device's sensors in HA (null: not measured yet)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "cpu_percent": None if snapshot is None else _maybe(snapshot.cpu_percent, 1),
        "rss_mb": None if snapshot is None else _round(snapshot.rss_mb, 1),
        "uptime_s": None if snapshot is None else round(max(snapshot.uptime_s, 0.0)),
        "mqtt_reconnects": reconnects,
        "mqtt_dropped": dropped,
    }


def _percentiles(p: Percentiles | None) -> dict[str, float] | None:
    return None if p is None else {"p50": _ms(p.p50), "p95": _ms(p.p95)}


def _maybe(value: float | None, ndigits: int) -> float | None:
    return None if value is None else _round(value, ndigits)


def _ms(value: float) -> float:
    return _round(max(value, 0.0), 2)


def _round(value: float, ndigits: int) -> float:
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    return round(float(value), ndigits)
