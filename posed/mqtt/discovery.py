"""Home Assistant MQTT discovery: the config messages of posed's entities, in HA's native style.

Devices: one per camera (so each can go in its own HA area), each linked with
`via_device` to one device for the posed host, which carries the model, the
backend, the software version and (with the preview page) its URL.

Availability: every camera entity lists the device's availability topic AND
its camera's (`availability_mode: all`), so it is `unavailable` while posed is
down or while that camera delivers no frames. The camera's Connectivity sensor
and the host's sensors list only the device's topic: they keep telling while
a camera is down.

Names use `has_entity_name`: the device is the camera, the entity is "People".
`object_id` fixes the entity id: `sensor.posed_{device_id}_{camera}_people`
(HA turns `-` into `_`), so ids do not depend on names a user may change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from posed.mqtt.config import MqttConfig
from posed.mqtt.topics import HaComponent, Topics

ORIGIN_NAME = "posed"
# Where a Home Assistant user is sent for help (HA shows it on the device page).


@dataclass(frozen=True, slots=True)
class DiscoveryMessage:
    topic: str
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity: its key (object id suffix), component and HA config keys."""

    key: str
    component: HaComponent
    config: dict[str, Any]


def _diagnostic(enabled: bool = True) -> dict[str, Any]:
    return {"entity_category": "diagnostic"} | ({} if enabled else {"enabled_by_default": False})


def camera_entities(topics: Topics, camera: str) -> list[tuple[Entity, bool]]:
    """(entity, follows the camera's availability) for one camera."""
    diagnostics = topics.diagnostics(camera)

    def from_diagnostics(field: str) -> dict[str, Any]:
        return {"state_topic": diagnostics, "value_template": f"{{{{ value_json.{field} }}}}"}

    fps = {"unit_of_measurement": "fps", "state_class": "measurement", "suggested_display_precision": 1}
    count = {"state_class": "total_increasing", "suggested_display_precision": 0}
    return [
        (
            Entity(
                "people",
                "sensor",
                {
                    "name": "People",
                    "state_topic": topics.count(camera),
                    "unit_of_measurement": "people",
                    "state_class": "measurement",
                    "suggested_display_precision": 0,
                    "icon": "mdi:account-multiple",
                },
            ),
            True,
        ),
        (
            Entity(
                "occupancy",
                "binary_sensor",
                {
                    "name": "Occupancy",
                    "state_topic": topics.presence(camera),
                    "device_class": "occupancy",
                    "payload_on": "ON",
                    "payload_off": "OFF",
                },
            ),
            True,
        ),
        (
            Entity(
                "processing_rate",
                "sensor",
                {"name": "Processing rate", **from_diagnostics("processed_fps"), **fps}
                | {"icon": "mdi:speedometer"}
                | _diagnostic(),
            ),
            True,
        ),
        (
            Entity(
                "inference_time",
                "sensor",
                {
                    "name": "Inference time",
                    **from_diagnostics("inference_ms"),
                    "unit_of_measurement": "ms",
                    "device_class": "duration",
                    "state_class": "measurement",
                    "suggested_display_precision": 1,
                }
                | _diagnostic(),
            ),
            True,
        ),
        (
            Entity(
                "connectivity",
                "binary_sensor",
                {
                    "name": "Connectivity",
                    "state_topic": topics.status(camera),
                    # online -> ON; offline and reconnecting -> OFF (the camera is down).
                    "value_template": "{{ 'ON' if value == 'online' else 'OFF' }}",
                    "device_class": "connectivity",
                    "payload_on": "ON",
                    "payload_off": "OFF",
                }
                | _diagnostic(),
            ),
            False,
        ),
        (
            Entity(
                "camera_fps",
                "sensor",
                {"name": "Camera frame rate", **from_diagnostics("camera_fps"), **fps}
                | {"icon": "mdi:camera-timer"}
                | _diagnostic(enabled=False),
            ),
            True,
        ),
        (
            Entity(
                "skipped_fps",
                "sensor",
                {"name": "Skipped frame rate", **from_diagnostics("skipped_fps"), **fps}
                | {"icon": "mdi:debug-step-over"}
                | _diagnostic(enabled=False),
            ),
            True,
        ),
        (
            Entity(
                "reconnects",
                "sensor",
                {"name": "Reconnects", **from_diagnostics("reconnects"), **count}
                | {"icon": "mdi:restart"}
                | _diagnostic(enabled=False),
            ),
            False,
        ),
        (
            Entity(
                "stalls",
                "sensor",
                {"name": "Stalls", **from_diagnostics("stalls"), **count}
                | {"icon": "mdi:timer-sand-paused"}
                | _diagnostic(enabled=False),
            ),
            False,
        ),
    ]


def host_entities(topics: Topics) -> list[Entity]:
    """The host device's sensors. Their keys never end in `_{camera key}`, so no object id
    of the host can equal a camera's `{camera}_{key}`."""

    def from_host(field: str) -> dict[str, Any]:
        return {"state_topic": topics.host, "value_template": f"{{{{ value_json.{field} }}}}"}

    counter = {"state_class": "total_increasing", "suggested_display_precision": 0}
    return [
        Entity(
            "cpu",
            "sensor",
            {"name": "CPU", **from_host("cpu_percent"), "unit_of_measurement": "%"}
            | {"state_class": "measurement", "suggested_display_precision": 0, "icon": "mdi:cpu-64-bit"}
            | _diagnostic(),
        ),
        Entity(
            "memory",
            "sensor",
            {"name": "Memory", **from_host("rss_mb"), "unit_of_measurement": "MiB"}
            | {"device_class": "data_size", "state_class": "measurement", "suggested_display_precision": 0}
            | {"icon": "mdi:memory"}
            | _diagnostic(),
        ),
        Entity(
            "uptime",
            "sensor",
            {"name": "Uptime", **from_host("uptime_s"), "unit_of_measurement": "s"}
            | {"device_class": "duration", "state_class": "measurement", "suggested_display_precision": 0}
            | _diagnostic(enabled=False),
        ),
        Entity(
            "mqtt_dropped",
            "sensor",
            {"name": "MQTT dropped messages", **from_host("mqtt_dropped"), **counter}
            | {"icon": "mdi:message-alert"}
            | _diagnostic(enabled=False),
        ),
        Entity(
            "mqtt_reconnections",
            "sensor",
            {"name": "MQTT reconnects", **from_host("mqtt_reconnects"), **counter}
            | {"icon": "mdi:lan-connect"}
            | _diagnostic(enabled=False),
        ),
    ]


def _origin(version: str, support_url: str | None) -> dict[str, str]:
    origin = {"name": ORIGIN_NAME, "sw_version": version}
    if support_url is not None:
        origin["support_url"] = support_url
    return origin


def discovery_messages(
    config: MqttConfig,
    topics: Topics,
    *,
    cameras: Sequence[str],
    model: str,
    backend: str,
    version: str,
    configuration_url: str | None = None,
) -> list[DiscoveryMessage]:
    """Every discovery config message, in a stable order: the host's, then each camera's."""
    node = topics.ha_node_id
    host_device: dict[str, Any] = {
        "identifiers": [node],
        "name": f"posed {topics.device_id}",
        "manufacturer": "posed",
        "model": f"{model} on {backend}",
        "sw_version": version,
    }
    if configuration_url is not None:
        host_device["configuration_url"] = configuration_url
    common: dict[str, Any] = {
        "origin": _origin(version, config.homeassistant.support_url),
        "payload_available": "online",
        "payload_not_available": "offline",
        "has_entity_name": True,
        "qos": 1,
    }
    expire_after = config.homeassistant.expire_after
    device_only = {"availability": [{"topic": topics.availability}]}
    messages: list[DiscoveryMessage] = []

    def add(entity: Entity, object_id: str, device: dict[str, Any], availability: dict[str, Any]) -> None:
        document = {
            "unique_id": f"{node}_{object_id}",
            "object_id": f"posed_{topics.device_id}_{object_id}",
            **entity.config,
            "device": device,
            **availability,
            **common,
        }
        if expire_after is not None and "value_template" in entity.config and entity.component == "sensor":
            document["expire_after"] = expire_after  # only the sensors fed by each stats round
        messages.append(DiscoveryMessage(topics.discovery(entity.component, object_id), document))

    for entity in host_entities(topics):
        add(entity, entity.key, host_device, device_only)
    for camera in cameras:
        device = {
            "identifiers": [f"{node}_{camera}"],
            "name": camera,
            "manufacturer": "posed",
            "model": "Camera",
            "via_device": node,
        }
        with_camera = {
            "availability": [{"topic": topics.availability}, {"topic": topics.camera_availability(camera)}],
            "availability_mode": "all",
        }
        for entity, follows_camera in camera_entities(topics, camera):
            add(entity, f"{camera}_{entity.key}", device, with_camera if follows_camera else device_only)
    return messages
