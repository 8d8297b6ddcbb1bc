"""Checks across sections of a valid config, each pointing at the key to fix.

A pydantic model validator can only report on the model it validates, so a rule
that compares one section with another (a fall's `ignore_zones` entry against the
cameras' zones, one camera's Home Assistant entities against another's) would be
reported at the top of the file. These checks run on the validated config and
return the full key of each problem; the loader turns it into a line. Like
validators they are pure: nothing here touches a file, a device or the network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel

from posed.events.config import EventsConfig, EventsFile, ZoneConfig

if TYPE_CHECKING:
    from posed.config.schema import PosedConfig
    from posed.mqtt.discovery import DiscoveryMessage

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Placed:
    """A problem found across sections: the key that holds it and what is wrong."""

    loc: Loc
    message: str


def placed_issues(model: BaseModel) -> list[Placed]:
    """The cross-section problems of a validated PosedConfig or EventsFile."""
    from posed.config.schema import PosedConfig  # deferred: the schema imports the events config

    if isinstance(model, PosedConfig):
        zones = {name for camera in model.cameras.values() for name in camera.zones}
        found = _ignore_zones(model.events, zones, "no camera's zone")
        found += _frame_memory(model)
        if model.mqtt.homeassistant.enabled:
            cameras = {name: camera.zones for name, camera in model.cameras.items()}
            found += entity_collisions(model.mqtt.topic_prefix, model.device_id, cameras, model.events)
        return found
    if isinstance(model, EventsFile):
        return _ignore_zones(
            model.events, set(model.cameras.estimate.zones), "not a zone of cameras.estimate"
        )
    return []


def _ignore_zones(events: EventsConfig, zones: set[str], what: str) -> list[Placed]:
    """An `ignore_zones` entry that names no zone would silently ignore nothing: a typo."""
    return [
        Placed(("events", "falls", "ignore_zones", i), f"{name!r} is {what}; zones: {sorted(zones)}")
        for i, name in enumerate(events.falls.ignore_zones)
        if name not in zones
    ]


def _frame_memory(config: PosedConfig) -> list[Placed]:
    """Each camera's frames fit (its own validator); all cameras' together must fit as well."""
    from posed.cameras.config import frame_memory_problem

    sized = [
        c.width * c.height for c in config.cameras.values() if c.width is not None and c.height is not None
    ]
    problem = frame_memory_problem(sum(sized), f"the {len(sized)} cameras' frames together hold")
    return [] if problem is None or len(sized) < 2 else [Placed(("cameras",), problem)]


def ha_slug(text: str) -> str:
    """The entity id Home Assistant makes of an object id (its `slugify` on posed's names,
    which hold only letters, digits, `-` and `_`): lower case, runs of `-`/`_` become one `_`."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def entity_collisions(
    prefix: str, device_id: str, cameras: Mapping[str, Mapping[str, ZoneConfig]], events: EventsConfig
) -> list[Placed]:
    """Cameras and zones whose Home Assistant entities (or discovery topics) would be the same.

    `front-door` and `front_door`, or `Front` and `front`, make the same entity ids, so HA
    appends `_2` to one camera's; camera `gym_zone_sofa` publishes the same discovery topics as
    camera `gym`'s zone `sofa`, and one silently replaces the other. The entities are those
    the publisher announces: they are made here by the same functions.
    """
    from posed.mqtt.config import MqttConfig
    from posed.mqtt.discovery import discovery_messages
    from posed.mqtt.events_discovery import CameraEvents, events_discovery
    from posed.mqtt.topics import Topics

    topics = Topics(prefix=prefix, device_id=device_id)
    owners: dict[str, tuple[Loc, str]] = {}  # entity id or discovery topic -> first owner
    found: list[Placed] = []
    for camera, zones in cameras.items():
        own = discovery_messages(MqttConfig(), topics, cameras=[camera], model="", backend="", version="")
        own = [m for m in own if m.document.get("device", {}).get("identifiers") != [topics.ha_node_id]]
        published = CameraEvents(
            zones=(),
            falls=events.falls.enabled,
            exercises=tuple(events.reps.exercises),
            gestures=tuple(events.gestures.definitions()),
        )
        own += events_discovery(topics, {camera: published}, own)
        entities: list[tuple[Loc, DiscoveryMessage]] = [(("cameras", camera), m) for m in own]
        for zone in zones:
            zone_only = CameraEvents(zones=(zone,), falls=False)
            entities += [
                (("cameras", camera, "zones", zone), m)
                for m in events_discovery(topics, {camera: zone_only}, own)
            ]
        reported: set[Loc] = set()
        for loc, message in entities:
            object_id = str(message.document.get("object_id", ""))
            component = message.topic.split("/")[-4]
            names = ([f"{component}.{ha_slug(object_id)}"] if object_id else []) + [message.topic]
            for name in names:
                first = owners.setdefault(name, (loc, name))[0]
                if first != loc and loc not in reported:
                    reported.add(loc)
                    found.append(Placed(loc, _collision(loc, first, name)))
    return found


def _collision(loc: Loc, first: Loc, name: str) -> str:
    what = "discovery topic" if "/" in name else "entity id"

    def key(parts: Loc) -> str:
        return ".".join(str(p) for p in parts)

    return (
        f"its Home Assistant {what} {name} is also {key(first)}'s (HA turns `-` into `_` and ignores "
        f"case, so one of them would lose it); rename {key(loc)} or {key(first)}"
    )
