"""Payload builders, topics, discovery and the shipped JSON Schemas, without a broker."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest

from posed.cameras.status import CameraStatus
from posed.keypoints import COCO_17
from posed.mqtt import payloads
from posed.mqtt.schemas import SCHEMA_FILES, instance, load_schema
from posed.mqtt.topics import Topics
from posed.stats import NO_MQTT, CameraStats, MqttCounters, Percentiles, StatsSnapshot
from posed.types import Pose, box_of
from tests.mosquitto import Received
from tests.mqtt_support import frames, poses_for, validate

TOPICS = Topics("posed", "garage-pi")


def _poses_doc(fmt: payloads.PayloadFormat, people: int = 2) -> tuple[dict[str, object], list[Pose]]:
    frame = next(frames(start=7))
    poses = poses_for(frame, people)
    doc = payloads.poses(
        device_id="garage-pi",
        camera="front",
        frame_number=frame.number,
        captured_at=frame.wall,
        latency_ms=12.345,
        inference_ms=8.5,
        model="blazepose-full",
        backend="tflite",
        width=frame.width,
        height=frame.height,
        people=poses,
        fmt=fmt,
    )
    return doc, poses


def _received(topic: str, payload: bytes) -> Received:
    return Received(topic, payload, retain=False, qos=0)


def _snapshot(**overrides: object) -> StatsSnapshot:
    cam = CameraStats(
        camera="front",
        status=CameraStatus.ONLINE,
        camera_fps=30.0,
        processed_fps=24.5,
        skipped_fps=5.5,
        inference_ms=Percentiles(30.1, 41.7),
        latency_ms=Percentiles(45.0, 60.2),
        reconnects=1,
        stalls=0,
    )
    values: dict[str, object] = {
        "cameras": (cam,),
        "backend": "tflite",
        "devices": {"detector": "CPU", "landmarks": "CPU"},
        "cpu_percent": 152.3,
        "rss_mb": 180.4,
        "uptime_s": 3600.0,
    }
    values.update(overrides)
    return StatsSnapshot(**values)  # type: ignore[arg-type]


def test_every_schema_is_a_valid_schema() -> None:
    for kind in SCHEMA_FILES:
        schema = load_schema(kind)
        jsonschema.validators.validator_for(schema).check_schema(schema)
        assert schema["$id"].startswith("urn:posed:mqtt:")


def test_full_poses_payload_is_posed_estimates_format() -> None:
    doc, poses = _poses_doc("full")
    assert doc["poses"] == [p.to_dict() for p in poses]
    assert doc["count"] == 2 and doc["latency_ms"] == 12.35 and doc["schema_version"] == 1
    assert validate(TOPICS, _received(TOPICS.poses("front"), payloads.encode(doc))) == "poses"
    keypoint = doc["poses"][0]["keypoints"][0]
    assert set(keypoint) == {"name", "x", "y", "score", "z"}


def test_pose_to_dict_rounds_exactly_like_python_round() -> None:
    # to_dict rounds whole arrays with NumPy; the JSON must be what round() gives,
    # including values that sit on a rounding boundary.
    rng = np.random.default_rng(3)
    count = len(COCO_17)
    keypoints = np.empty((count, 3), dtype=np.float32)
    keypoints[:, 0] = rng.uniform(-50, 2000, count)
    keypoints[:, 1] = np.arange(count) / 200 + 0.005  # 0.005, 0.01, ... 0.085: halfway cases
    keypoints[:, 2] = rng.random(count) / 1000 + np.float32(0.00005)
    z = (rng.standard_normal(count) * 300).astype(np.float32)
    world = rng.standard_normal((count, 3)).astype(np.float32)
    pose = Pose(0.123456, keypoints, COCO_17, (1.005, 2.675, 3.0, 4.0), z=z, keypoints3d=world)
    doc = pose.to_dict()
    for name, (x, y, s), depth, kp in zip(
        COCO_17, keypoints.tolist(), z.tolist(), doc["keypoints"], strict=True
    ):
        assert kp == {
            "name": name,
            "x": round(x, 2),
            "y": round(y, 2),
            "score": round(s, 4),
            "z": round(depth, 2),
        }
    for name, (x, y, d), kp in zip(COCO_17, world.tolist(), doc["keypoints3d"], strict=True):
        assert kp == {"name": name, "x": round(x, 4), "y": round(y, 4), "z": round(d, 4)}
    assert doc["score"] == 0.1235 and doc["box"] == [1.0, 2.67, 3.0, 4.0]
    assert list(doc["keypoints"][0]) == ["name", "x", "y", "score", "z"]
    flat = Pose(0.5, keypoints, COCO_17, (0.0, 0.0, 1.0, 1.0)).to_dict(ndigits=1)
    assert [kp["x"] for kp in flat["keypoints"]] == [round(x, 1) for x in keypoints[:, 0].tolist()]
    assert "z" not in flat["keypoints"][0] and "keypoints3d" not in flat


def test_compact_poses_payload_uses_arrays_and_a_named_keypoint_order() -> None:
    doc, poses = _poses_doc("compact")
    full, _ = _poses_doc("full")
    assert doc["format"] == "compact" and doc["keypoint_set"] == "blazepose-33"
    first = doc["poses"][0]  # type: ignore[index]
    assert len(first["keypoints"]) == 33 and len(first["keypoints"][0]) == 4
    np.testing.assert_allclose(np.array(first["keypoints"])[:, :2], poses[0].keypoints[:, :2], atol=0.051)
    assert poses[0].keypoints3d is not None
    np.testing.assert_allclose(np.array(first["keypoints3d"]), poses[0].keypoints3d, atol=5e-4)
    assert len(payloads.encode(doc)) < 0.6 * len(payloads.encode(full))
    validate(TOPICS, _received(TOPICS.poses("front"), payloads.encode(doc)))


def test_compact_names_an_unknown_keypoint_order_and_coco() -> None:
    xy = np.array([[10, 20, 0.9], [30, 40, 0.8]], dtype=np.float32)
    odd = Pose(0.9, xy, ("head", "tail"), box_of(xy, 100, 100))
    coco = Pose(0.8, np.tile(xy[:1], (17, 1)), COCO_17, box_of(xy, 100, 100))
    common = dict(device_id="d", camera="c", frame_number=0, captured_at=1.0, latency_ms=1.0)
    kw = dict(common, inference_ms=1.0, model="m", backend="b", width=100, height=100, fmt="compact")
    odd_doc = payloads.poses(people=[odd], **kw)  # type: ignore[arg-type]
    assert odd_doc["keypoint_names"] == ["head", "tail"] and "keypoint_set" not in odd_doc
    coco_doc = payloads.poses(people=[coco], **kw)  # type: ignore[arg-type]
    assert coco_doc["keypoint_set"] == "coco-17"
    assert len(coco_doc["poses"][0]["keypoints"][0]) == 3
    empty = payloads.poses(people=[], **kw)  # type: ignore[arg-type]
    for doc in (odd_doc, coco_doc, empty):
        validate(Topics("posed", "d"), _received("posed/d/c/poses", payloads.encode(doc)))


def test_schemas_reject_what_the_contract_forbids() -> None:
    doc, _ = _poses_doc("compact")
    broken = dict(doc)
    del broken["keypoint_set"]  # a compact payload with poses must name its keypoint order
    with pytest.raises(jsonschema.ValidationError):
        validate(TOPICS, _received(TOPICS.poses("front"), payloads.encode(broken)))
    full, _ = _poses_doc("full")
    full["poses"][0]["keypoints"][0]["score"] = 1.5  # type: ignore[index]
    with pytest.raises(jsonschema.ValidationError):
        validate(TOPICS, _received(TOPICS.poses("front"), payloads.encode(full)))
    with pytest.raises(jsonschema.ValidationError):
        validate(TOPICS, _received(TOPICS.presence("front"), b"on"))
    with pytest.raises(json.JSONDecodeError):
        validate(TOPICS, _received(TOPICS.count("front"), b"two"))


def test_a_nan_never_reaches_the_wire() -> None:
    doc, _ = _poses_doc("full")
    doc["inference_ms"] = float("nan")
    with pytest.raises(ValueError):
        payloads.encode(doc)
    doc["inference_ms"] = float("inf")
    with pytest.raises(ValueError):
        payloads.encode(doc)


@pytest.mark.parametrize("fmt", ["full", "compact"])
def test_encoding_is_byte_identical_to_compact_json_dumps(fmt: payloads.PayloadFormat) -> None:
    # The fast encoder must not change a byte of what subscribers have received so far.
    doc, _ = _poses_doc(fmt, people=3)
    expected = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode("utf-8")
    assert payloads.encode(doc) == expected
    doc["note"] = None  # a real null takes the json.dumps path and stays a null
    assert payloads.encode(doc) == json.dumps(doc, separators=(",", ":")).encode("utf-8")
    with pytest.raises(ValueError, match="finite"):
        payloads.stats(
            _snapshot(cpu_percent=float("nan")),
            device_id="d",
            timestamp=1.0,
            mqtt=MqttCounters(connected=True, reconnects=0, dropped=0, queued=0),
        )


def test_stats_payload() -> None:
    counters = MqttCounters(
        connected=True, reconnects=2, dropped=7, queued=3, events_dropped=1, events_queued=4
    )
    doc = payloads.stats(_snapshot(), device_id="garage-pi", timestamp=1e9, mqtt=counters)
    assert doc["mqtt"] == {
        "connected": True,
        "reconnects": 2,
        "dropped": 7,
        "queued": 3,
        "events_dropped": 1,
        "events_queued": 4,
    }
    assert doc["cameras"]["front"]["inference_ms"] == {"p50": 30.1, "p95": 41.7}
    assert doc["devices"] == {"detector": "CPU", "landmarks": "CPU"}
    validate(TOPICS, _received(TOPICS.stats, payloads.encode(doc)))


def test_plain_text_payloads() -> None:
    assert payloads.count(3) == b"3" and instance("count", b"3") == 3
    assert payloads.presence(True) == b"ON" and payloads.availability(False) == b"offline"
    with pytest.raises(ValueError):
        payloads.count(-1)
    with pytest.raises(ValueError, match="reconnecting"):
        payloads.camera_status("stalled")  # type: ignore[arg-type]
    for topic, payload in (
        (TOPICS.availability, payloads.availability(True)),
        (TOPICS.count("front"), payloads.count(0)),
        (TOPICS.presence("front"), payloads.presence(False)),
        (TOPICS.status("front"), payloads.camera_status(CameraStatus.RECONNECTING)),
    ):
        validate(TOPICS, _received(topic, payload))


def test_topics() -> None:
    assert TOPICS.poses("front") == "posed/garage-pi/front/poses"
    assert TOPICS.availability == "posed/garage-pi/availability"
    node = TOPICS.ha_node_id
    assert node.startswith("posed_garage-pi_") and len(node) == len("posed_garage-pi_") + 8
    assert TOPICS.discovery("binary_sensor", "front_occupancy") == (
        f"homeassistant/binary_sensor/{node}/front_occupancy/config"
    )
    # Unique per (topic_prefix, device_id): the same device id under another prefix differs.
    assert Topics("other", "garage-pi").ha_node_id != node
    assert Topics("posed", "garage-pi").ha_node_id == node
    assert TOPICS.camera_availability("front") == "posed/garage-pi/front/availability"
    assert TOPICS.kind_of("posed/garage-pi/front/availability") == "availability"
    assert TOPICS.kind_of("posed/garage-pi/front/diagnostics") == "diagnostics"
    assert TOPICS.kind_of("posed/garage-pi/host") == "host"
    assert TOPICS.kind_of("posed/garage-pi/front/count") == "count"
    assert TOPICS.kind_of("posed/garage-pi/stats") == "stats"
    assert TOPICS.kind_of("posed/other/stats") is None
    assert TOPICS.kind_of("posed/garage-pi/front/bogus") is None
    assert TOPICS.kind_of(f"homeassistant/sensor/{node}/front_people/config") == "discovery"
    assert TOPICS.kind_of("homeassistant/sensor/posed_garage-pi/front_fps/config") == "discovery"  # legacy
    assert TOPICS.kind_of("homeassistant/sensor/someone_else/x/config") is None
    with pytest.raises(ValueError):
        TOPICS.camera("front", "stats")


def test_unmeasured_values_are_null_never_zero() -> None:
    unmeasured = CameraStats("front", CameraStatus.RECONNECTING, None, None, None, None, None, 2, 1)
    snap = _snapshot(cameras=(unmeasured,), cpu_percent=None)
    doc = payloads.stats(snap, device_id="d", timestamp=1.0, mqtt=NO_MQTT)
    assert doc["cpu_percent"] is None
    assert doc["cameras"]["front"] == {
        "status": "reconnecting",
        "camera_fps": None,
        "processed_fps": None,
        "skipped_fps": None,
        "inference_ms": None,
        "latency_ms": None,
        "reconnects": 2,
        "stalls": 1,
        "failed_inferences": 0,
        "gated_fps": None,
        "gated_frames": 0,
        "cpu_percent": None,
    }
    validate(TOPICS, _received(TOPICS.stats, payloads.encode(doc)))
    diagnostics = payloads.camera_diagnostics(unmeasured)
    assert diagnostics["processed_fps"] is None and diagnostics["inference_ms"] is None
    assert diagnostics["reconnects"] == 2
    validate(TOPICS, _received(TOPICS.diagnostics("front"), payloads.encode(diagnostics)))
    before_any = payloads.camera_diagnostics(None)
    assert {k: v for k, v in before_any.items() if k != "schema_version"} == dict.fromkeys(
        ["processed_fps", "inference_ms", "camera_fps", "skipped_fps", "reconnects", "stalls"]
    )
    host = payloads.host(None, reconnects=0, dropped=0)
    assert host["cpu_percent"] is None and host["uptime_s"] is None and host["mqtt_dropped"] == 0
    validate(TOPICS, _received(TOPICS.host, payloads.encode(host)))
    measured = payloads.host(_snapshot(), reconnects=1, dropped=3)
    assert measured["cpu_percent"] == 152.3 and measured["uptime_s"] is not None
    validate(TOPICS, _received(TOPICS.host, payloads.encode(measured)))
    assert payloads.camera_diagnostics(_snapshot().cameras[0])["inference_ms"] == 30.1
