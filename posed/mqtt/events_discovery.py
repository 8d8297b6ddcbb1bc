"""Home Assistant discovery of the event analyzers' entities.

Per zone an occupancy binary_sensor and a people sensor; per camera a fall
binary_sensor (device class safety: ON means unsafe), an `event` entity for
gestures and one for reps; per exercise a rep-count sensor (total_increasing:
HA takes a drop to 0 as a reset) and a reset button; per gesture a
device_automation trigger, so "when I raise my hand" is a plain device trigger.
Each entity belongs to its camera's device and follows that camera's availability
like the camera's own entities (posed.mqtt.discovery): unavailable while posed is
down or the camera delivers no frames, since then posed knows nothing of falls or
zones. The shared keys are taken from the camera's own discovery messages, so the
two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posed.mqtt.discovery import DiscoveryMessage
from posed.mqtt.topics import Topics

# The keys a camera's entities share, copied from that camera's own discovery messages.
SHARED_KEYS = (
    "device", "origin", "availability", "availability_mode", "payload_available", "payload_not_available",
    "has_entity_name", "qos",
)  # fmt: skip
RESET_PAYLOAD = "PRESS"


@dataclass(frozen=True, slots=True)
class CameraEvents:
    """What one camera's analyzers publish: the names behind its topics and entities."""

    zones: tuple[str, ...] = ()
    falls: bool = True
    exercises: tuple[str, ...] = ()
    gestures: tuple[str, ...] = ()
    snapshots: tuple[str, ...] = ()  # event kinds with a snapshot image (posed.mqtt.snapshot_topics)


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


def _camera_shared(
    topics: Topics, camera: str, messages: Sequence[DiscoveryMessage]
) -> dict[str, Any] | None:
    """The shared keys of a camera entity that follows the camera's availability."""
    device_id = f"{topics.ha_node_id}_{camera}"
    for message in messages:
        document = message.document
        if document.get("device", {}).get("identifiers") == [device_id] and "availability_mode" in document:
            return {key: document[key] for key in SHARED_KEYS if key in document}
    return None


def events_discovery(
    topics: Topics, cameras: Mapping[str, CameraEvents], shared_from: Sequence[DiscoveryMessage]
) -> list[DiscoveryMessage]:
    """The analyzers' discovery messages, in a stable order; `shared_from` are posed's own."""
    messages: list[DiscoveryMessage] = []
    for camera, setup in cameras.items():
        shared = _camera_shared(topics, camera, shared_from)
        if shared is None:
            continue

        def add(
            component: str,
            key: str,
            entity: dict[str, Any],
            camera: str = camera,
            shared: dict[str, Any] = shared,
        ) -> None:
            object_id = f"{camera}_{key}"
            document = {
                "unique_id": f"{topics.ha_node_id}_{object_id}",
                "object_id": f"posed_{topics.device_id}_{object_id}",
                **entity,
                **shared,
            }
            messages.append(DiscoveryMessage(topics.discovery_of(component, object_id), document))

        for zone in setup.zones:
            add("binary_sensor", f"zone_{zone}_occupancy", {
                "name": f"{zone} occupancy",
                "state_topic": topics.zone_occupancy(camera, zone),
                "device_class": "occupancy",
                "payload_on": "ON",
                "payload_off": "OFF",
            })  # fmt: skip
            add("sensor", f"zone_{zone}_people", {
                "name": f"{zone} people",
                "state_topic": topics.zone_count(camera, zone),
                "state_class": "measurement",
                "icon": "mdi:account-group",
            })  # fmt: skip
        if setup.falls:
            add("binary_sensor", "fall", {
                "name": "Fall",
                "state_topic": topics.fall(camera),
                "device_class": "safety",
                "payload_on": "ON",
                "payload_off": "OFF",
            })  # fmt: skip
        for exercise in setup.exercises:
            add("sensor", f"{exercise}_reps", {
                "name": f"{exercise} reps",
                "state_topic": topics.rep_count(camera, exercise),
                "state_class": "total_increasing",
                "icon": "mdi:counter",
            })  # fmt: skip
            add("button", f"{exercise}_reset", {
                "name": f"Reset {exercise}",
                "command_topic": topics.rep_reset(camera, exercise),
                "payload_press": RESET_PAYLOAD,
                "icon": "mdi:restart",
            })  # fmt: skip
        if setup.exercises:
            add("event", "reps", {
                "name": "Reps",
                "state_topic": topics.events(camera),
                "event_types": [f"{e}_{kind}" for e in setup.exercises for kind in ("rep", "set")],
                "value_template": _rep_template(),
            })  # fmt: skip
        if setup.gestures:
            add("event", "gestures", {
                "name": "Gestures",
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
                "subtype": gesture,
                "payload": gesture,
                "value_template": "{{ value_json.gesture if value_json.type == 'gesture' else '' }}",
                "qos": 1,
                "device": shared["device"],
                "origin": shared["origin"],
            }))  # fmt: skip
    return messages
