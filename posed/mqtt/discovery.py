"""Home Assistant MQTT discovery: the config messages of posed's entities.

Per camera: a person-count sensor, an occupancy binary sensor, and two
diagnostic sensors read from the `stats` topic (processed fps and inference
time) that expire when stats stop arriving. Every entity shares one device
block, one origin block and the device's availability topic, so HA shows the
whole device unavailable when posed dies (the broker's last will) and
available again when it comes back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from posed.mqtt.config import MqttConfig
from posed.mqtt.topics import HaComponent, Topics

ORIGIN_NAME = "posed"


@dataclass(frozen=True, slots=True)
class DiscoveryMessage:
    topic: str
    document: dict[str, Any]


def expire_after(config: MqttConfig) -> int:
    """Seconds before HA marks the diagnostic sensors unavailable."""
    if config.homeassistant.expire_after is not None:
        return config.homeassistant.expire_after
    return math.ceil(3 * config.stats_interval)


def discovery_messages(
    config: MqttConfig,
    topics: Topics,
    *,
    cameras: Sequence[str],
    model: str,
    backend: str,
    version: str,
) -> list[DiscoveryMessage]:
    """Every discovery config message, in a stable order."""
    device = {
        "identifiers": [topics.ha_node_id],
        "name": f"posed {topics.device_id}",
        "manufacturer": "posed",
        "model": f"{model} on {backend}",
        "sw_version": version,
    }
    common: dict[str, Any] = {
        "device": device,
        "origin": {"name": ORIGIN_NAME, "sw_version": version},
        "availability": [{"topic": topics.availability}],
        "payload_available": "online",
        "payload_not_available": "offline",
        "has_entity_name": True,
        "qos": 1,
    }
    expire = expire_after(config)
    messages: list[DiscoveryMessage] = []

    def add(component: HaComponent, camera: str, key: str, entity: dict[str, Any]) -> None:
        object_id = f"{camera}_{key}"
        document = {"unique_id": f"{topics.ha_node_id}_{object_id}", **entity, **common}
        messages.append(DiscoveryMessage(topics.discovery(component, object_id), document))

    for camera in cameras:
        add(
            "sensor",
            camera,
            "person_count",
            {
                "name": f"{camera} person count",
                "state_topic": topics.count(camera),
                "state_class": "measurement",
                "icon": "mdi:account-multiple",
            },
        )
        add(
            "binary_sensor",
            camera,
            "presence",
            {
                "name": f"{camera} presence",
                "state_topic": topics.presence(camera),
                "device_class": "occupancy",
                "payload_on": "ON",
                "payload_off": "OFF",
            },
        )
        # Jinja subscripting, not attribute access: camera names may contain '-'.
        stats_of = f"value_json.cameras[{camera!r}]"
        add(
            "sensor",
            camera,
            "fps",
            {
                "name": f"{camera} processed fps",
                "state_topic": topics.stats,
                "value_template": f"{{{{ {stats_of}.processed_fps }}}}",
                "unit_of_measurement": "fps",
                "state_class": "measurement",
                "entity_category": "diagnostic",
                "expire_after": expire,
                "icon": "mdi:speedometer",
            },
        )
        add(
            "sensor",
            camera,
            "inference_ms",
            {
                "name": f"{camera} inference time",
                "state_topic": topics.stats,
                "value_template": f"{{{{ {stats_of}.inference_ms.p50 }}}}",
                "unit_of_measurement": "ms",
                "device_class": "duration",
                "state_class": "measurement",
                "entity_category": "diagnostic",
                "expire_after": expire,
                "suggested_display_precision": 1,
            },
        )
    return messages
