"""Home Assistant discovery of the event analyzers' entities.

Per zone an occupancy binary_sensor and a people sensor; per camera a fall
binary_sensor (device class safety: ON means unsafe), an `event` entity for
gestures and one for reps; per exercise a rep-count sensor (total_increasing:
HA takes a drop to 0 as a reset) and a reset button; per gesture a
device_automation trigger, so "when I raise my hand" is a plain device trigger.
Every entity carries the same device, origin and availability as posed's other
entities (taken from those messages, so the two cannot drift apart).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posed.mqtt.discovery import DiscoveryMessage
from posed.mqtt.topics import Topics

# The keys every posed entity shares, copied from the main discovery messages.
SHARED_KEYS = (
    "device", "origin", "availability", "payload_available", "payload_not_available", "has_entity_name", "qos"
)  # fmt: skip
RESET_PAYLOAD = "PRESS"


@dataclass(frozen=True, slots=True)
class CameraEvents:
    """What one camera's analyzers publish: the names behind its topics and entities."""

    zones: tuple[str, ...] = ()
    falls: bool = True
    exercises: tuple[str, ...] = ()
    gestures: tuple[str, ...] = ()


def _gesture_template() -> str:
    # HA ignores a message whose template renders empty, so other event types pass silently.
    return (
        "{% if value_json.type == 'gesture' %}"
        "{{ {'event_type': value_json.gesture, 'person': value_json.person} | to_json }}"
        "{% endif %}"
    )


def _rep_template() -> str:
    return (
        "{% if value_json.type in ['rep', 'set'] %}"
        "{{ {'event_type': value_json.exercise ~ '_' ~ value_json.type, 'person': value_json.person,"
        " 'count': value_json.get('count'), 'reps': value_json.get('reps')} | to_json }}"
        "{% endif %}"
    )


def events_discovery(
    topics: Topics, cameras: Mapping[str, CameraEvents], shared_from: Sequence[DiscoveryMessage]
) -> list[DiscoveryMessage]:
    """The analyzers' discovery messages, in a stable order; `shared_from` are posed's own."""
    if not shared_from:
        return []
    shared = {key: shared_from[0].document[key] for key in SHARED_KEYS}
    messages: list[DiscoveryMessage] = []

    def add(component: str, object_id: str, entity: dict[str, Any]) -> None:
        document = {"unique_id": f"{topics.ha_node_id}_{object_id}", **entity, **shared}
        messages.append(DiscoveryMessage(topics.discovery_of(component, object_id), document))

    for camera, setup in cameras.items():
        for zone in setup.zones:
            add("binary_sensor", f"{camera}_zone_{zone}_occupancy", {
                "name": f"{camera} {zone} occupancy",
                "state_topic": topics.zone_occupancy(camera, zone),
                "device_class": "occupancy",
                "payload_on": "ON",
                "payload_off": "OFF",
            })  # fmt: skip
            add("sensor", f"{camera}_zone_{zone}_people", {
                "name": f"{camera} {zone} people",
                "state_topic": topics.zone_count(camera, zone),
                "state_class": "measurement",
                "icon": "mdi:account-group",
            })  # fmt: skip
        if setup.falls:
            add("binary_sensor", f"{camera}_fall", {
                "name": f"{camera} fall",
                "state_topic": topics.fall(camera),
                "device_class": "safety",
                "payload_on": "ON",
                "payload_off": "OFF",
            })  # fmt: skip
        for exercise in setup.exercises:
            add("sensor", f"{camera}_{exercise}_reps", {
                "name": f"{camera} {exercise} reps",
                "state_topic": topics.rep_count(camera, exercise),
                "state_class": "total_increasing",
                "icon": "mdi:counter",
            })  # fmt: skip
            add("button", f"{camera}_{exercise}_reset", {
                "name": f"{camera} {exercise} reset",
                "command_topic": topics.rep_reset(camera, exercise),
                "payload_press": RESET_PAYLOAD,
                "icon": "mdi:restart",
            })  # fmt: skip
        if setup.exercises:
            add("event", f"{camera}_reps", {
                "name": f"{camera} reps",
                "state_topic": topics.events(camera),
                "event_types": [f"{e}_{kind}" for e in setup.exercises for kind in ("rep", "set")],
                "value_template": _rep_template(),
            })  # fmt: skip
        if setup.gestures:
            add("event", f"{camera}_gestures", {
                "name": f"{camera} gestures",
                "state_topic": topics.events(camera),
                "event_types": list(setup.gestures),
                "value_template": _gesture_template(),
            })  # fmt: skip
        for gesture in setup.gestures:
            object_id = f"{camera}_gesture_{gesture}"
            messages.append(DiscoveryMessage(topics.discovery_of("device_automation", object_id), {
                "automation_type": "trigger",
                "topic": topics.events(camera),
                "type": "gesture",
                "subtype": f"{camera} {gesture}",
                "payload": gesture,
                "value_template": "{{ value_json.gesture if value_json.type == 'gesture' else '' }}",
                "qos": 1,
                "device": shared["device"],
                "origin": shared["origin"],
            }))  # fmt: skip
    return messages
