"""Home Assistant discovery payloads: devices, names, entity ids, availability, units."""

from __future__ import annotations

import jsonschema
import pytest

from posed.mqtt.config import MqttConfig
from posed.mqtt.discovery import DiscoveryMessage, discovery_messages
from posed.mqtt.schemas import load_schema
from posed.mqtt.topics import Topics

TOPICS = Topics("posed", "garage-pi")
HA = MqttConfig.model_validate({"homeassistant": {"enabled": True}})
CAMERA_KEYS = [
    "people", "occupancy", "processing_rate", "inference_time", "connectivity",
    "camera_fps", "skipped_fps", "reconnects", "stalls",
]  # fmt: skip
HOST_KEYS = ["cpu", "memory", "uptime", "mqtt_dropped", "mqtt_reconnections"]


def _messages(cfg: MqttConfig = HA, **kw: object) -> dict[str, DiscoveryMessage]:
    values: dict[str, object] = {"model": "blazepose-full", "backend": "openvino", "version": "9.9"} | kw
    messages = discovery_messages(cfg, TOPICS, cameras=["front", "back-yard"], **values)  # type: ignore[arg-type]
    return {m.topic.split("/")[-2]: m for m in messages}


def test_every_config_validates_and_is_unique() -> None:
    by_object = _messages()
    assert set(by_object) == {f"{c}_{k}" for c in ("front", "back-yard") for k in CAMERA_KEYS} | set(
        HOST_KEYS
    )
    docs = [m.document for m in by_object.values()]
    for field in ("unique_id", "object_id"):
        assert len({d[field] for d in docs}) == len(docs), field
    schema = load_schema("discovery")
    for message in by_object.values():
        jsonschema.validate(message.document, schema)
        binary = message.topic.endswith(("_occupancy/config", "_connectivity/config"))
        component = "binary_sensor" if binary else "sensor"
        assert message.topic.startswith(f"homeassistant/{component}/{TOPICS.ha_node_id}/")
        # No support_url unless configured: posed has no public home to link to.
        assert message.document["origin"] == {"name": "posed", "sw_version": "9.9"}
        assert message.document["has_entity_name"] is True


def test_the_support_link_is_the_configured_one() -> None:
    url = "https://example.org/posed/issues"
    cfg = MqttConfig.model_validate({"homeassistant": {"enabled": True, "support_url": url}})
    for message in _messages(cfg).values():
        assert message.document["origin"]["support_url"] == url
    with pytest.raises(ValueError):
        MqttConfig.model_validate({"homeassistant": {"enabled": True, "support_url": "not a url"}})


def test_one_device_per_camera_via_the_host_device() -> None:
    by_object = _messages(configuration_url="http://pi.local:8080/")
    node = TOPICS.ha_node_id
    host = by_object["cpu"].document["device"]
    assert host == {
        "identifiers": [node],
        "name": "posed garage-pi",
        "manufacturer": "posed",
        "model": "blazepose-full on openvino",
        "sw_version": "9.9",
        "configuration_url": "http://pi.local:8080/",
    }
    for key in HOST_KEYS:
        assert by_object[key].document["device"] == host
    for camera in ("front", "back-yard"):
        device = by_object[f"{camera}_people"].document["device"]
        assert device["identifiers"] == [f"{node}_{camera}"] and device["name"] == camera
        assert device["via_device"] == node
        for key in CAMERA_KEYS:
            assert by_object[f"{camera}_{key}"].document["device"] == device
    assert "configuration_url" not in _messages()["cpu"].document["device"]


def test_names_entity_ids_units_and_precision() -> None:
    by_object = _messages()
    front = {k: by_object[f"front_{k}"].document for k in CAMERA_KEYS}
    assert [front[k]["name"] for k in ("people", "occupancy", "processing_rate", "inference_time")] == [
        "People", "Occupancy", "Processing rate", "Inference time",
    ]  # fmt: skip
    assert front["people"]["object_id"] == "posed_garage-pi_front_people"
    assert by_object["back-yard_people"].document["object_id"] == "posed_garage-pi_back-yard_people"
    assert by_object["cpu"].document["object_id"] == "posed_garage-pi_cpu"
    assert front["people"]["unit_of_measurement"] == "people"
    assert front["people"]["suggested_display_precision"] == 0
    assert front["processing_rate"]["unit_of_measurement"] == "fps"
    assert front["processing_rate"]["suggested_display_precision"] == 1
    assert front["inference_time"]["unit_of_measurement"] == "ms"
    assert front["inference_time"]["suggested_display_precision"] == 1
    assert front["occupancy"]["device_class"] == "occupancy"
    assert front["connectivity"]["device_class"] == "connectivity"
    assert front["inference_time"]["state_topic"] == TOPICS.diagnostics("front")
    assert front["inference_time"]["value_template"] == "{{ value_json.inference_ms }}"
    assert by_object["memory"].document["state_topic"] == TOPICS.host


def test_rarely_needed_diagnostics_are_disabled_by_default() -> None:
    by_object = _messages()
    disabled = {key for key, m in by_object.items() if m.document.get("enabled_by_default") is False}
    assert disabled == {
        f"{c}_{k}"
        for c in ("front", "back-yard")
        for k in ("camera_fps", "skipped_fps", "reconnects", "stalls")
    } | {"uptime", "mqtt_dropped", "mqtt_reconnections"}
    for key in (
        "front_people",
        "front_occupancy",
        "front_processing_rate",
        "front_inference_time",
        "front_connectivity",
        "cpu",
        "memory",
    ):
        assert "enabled_by_default" not in by_object[key].document, key


def test_camera_entities_follow_the_camera_and_connectivity_does_not() -> None:
    by_object = _messages()
    device_only = [{"topic": TOPICS.availability}]
    with_camera = [*device_only, {"topic": TOPICS.camera_availability("front")}]
    for key in ("people", "occupancy", "processing_rate", "inference_time", "camera_fps", "skipped_fps"):
        doc = by_object[f"front_{key}"].document
        assert doc["availability"] == with_camera and doc["availability_mode"] == "all", key
    # These say what happens while the camera is down, so they stay available.
    for key in ("front_connectivity", "front_reconnects", "front_stalls", *HOST_KEYS):
        doc = by_object[key].document
        assert doc["availability"] == device_only and "availability_mode" not in doc, key
    assert by_object["front_connectivity"].document["state_topic"] == TOPICS.status("front")


@pytest.mark.parametrize("expire", [None, 600])
def test_expire_after_only_when_asked_and_only_on_stats_fed_sensors(expire: int | None) -> None:
    cfg = MqttConfig.model_validate({"homeassistant": {"enabled": True, "expire_after": expire}})
    by_object = _messages(cfg)
    has = {key for key, m in by_object.items() if "expire_after" in m.document}
    if expire is None:
        assert has == set()
    else:
        assert "front_people" not in has and "front_occupancy" not in has and "front_connectivity" not in has
        assert {"front_processing_rate", "front_inference_time", "cpu"} <= has
