"""The topic contract: every topic posed publishes or subscribes to, in one place.

All of posed's own topics sit under `{topic_prefix}/{device_id}/`. Device and
camera names are restricted by the config to letters, digits, `-` and `_`, so
they are always single, wildcard-free topic levels.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

# The payload kinds of posed's topics; each has a JSON Schema in posed/schemas/.
TopicKind = Literal[
    "availability", "poses", "count", "presence", "status", "stats", "discovery", "diagnostics", "host",
    "events", "fall", "zone_occupancy", "zone_count", "rep_count", "snapshot",
]  # fmt: skip

CAMERA_KINDS: tuple[TopicKind, ...] = ("poses", "count", "presence", "status", "availability", "diagnostics")
_CAMERA_KIND_BY_NAME: dict[str, TopicKind] = {kind: kind for kind in CAMERA_KINDS}
# The event analyzers' topics (posed.mqtt.events_topics): {camera}/events, {camera}/fall,
# {camera}/zones/{zone}/occupancy|count, {camera}/reps/{exercise}/count (and .../reset, a command).
_EVENT_KIND_BY_NAME: dict[str, TopicKind] = {"events": "events", "fall": "fall"}
_NESTED_KINDS: dict[tuple[str, str], TopicKind] = {
    ("zones", "occupancy"): "zone_occupancy",
    ("zones", "count"): "zone_count",
    ("reps", "count"): "rep_count",
    ("events", "snapshot"): "snapshot",  # {camera}/events/{kind}/snapshot: JPEG bytes
}

# Home Assistant entity components and the object ids posed gives them per camera.
HaComponent = Literal["sensor", "binary_sensor"]


@dataclass(frozen=True, slots=True)
class Topics:
    """Builds the topics of one device."""

    prefix: str
    device_id: str
    discovery_prefix: str = "homeassistant"

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.device_id}"

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def stats(self) -> str:
        return f"{self.base}/stats"

    @property
    def host(self) -> str:
        """The host's measurements (CPU, memory, uptime, MQTT counters), retained."""
        return f"{self.base}/host"

    def camera(self, camera: str, kind: TopicKind) -> str:
        if kind not in CAMERA_KINDS:
            raise ValueError(f"{kind!r} is not a per-camera topic")
        return f"{self.base}/{camera}/{kind}"

    def poses(self, camera: str) -> str:
        return self.camera(camera, "poses")

    def count(self, camera: str) -> str:
        return self.camera(camera, "count")

    def presence(self, camera: str) -> str:
        return self.camera(camera, "presence")

    def status(self, camera: str) -> str:
        return self.camera(camera, "status")

    def camera_availability(self, camera: str) -> str:
        """`online` while the camera delivers frames, else `offline`."""
        return self.camera(camera, "availability")

    def diagnostics(self, camera: str) -> str:
        return self.camera(camera, "diagnostics")

    @property
    def ha_node_id(self) -> str:
        """The HA node id: unique per (topic_prefix, device_id), so two devices that share
        a device_id under different prefixes never touch each other's discovery."""
        digest = hashlib.sha256(f"{self.prefix}\0{self.device_id}".encode()).hexdigest()[:8]
        return f"posed_{self.device_id}_{digest}"

    @property
    def legacy_ha_node_id(self) -> str:
        """The node id of earlier posed versions (prefix-blind); only read, to clear what we left there."""
        return f"posed_{self.device_id}"

    def discovery(self, component: HaComponent, object_id: str) -> str:
        return f"{self.discovery_prefix}/{component}/{self.ha_node_id}/{object_id}/config"

    @property
    def ha_status(self) -> str:
        """Where Home Assistant announces itself (`online`) after it starts."""
        return f"{self.discovery_prefix}/status"

    def kind_of(self, topic: str) -> TopicKind | None:
        """The payload kind of one of this device's topics, or None for a foreign topic."""
        if topic.startswith(f"{self.discovery_prefix}/") and topic.endswith("/config"):
            levels = topic.split("/")
            if len(levels) >= 4 and levels[-3] in (self.ha_node_id, self.legacy_ha_node_id):
                return "discovery"
            return None
        if not topic.startswith(f"{self.base}/"):
            return None
        rest = topic[len(self.base) + 1 :].split("/")
        if rest == ["availability"]:
            return "availability"
        if rest == ["stats"]:
            return "stats"
        if rest == ["host"]:
            return "host"
        if len(rest) == 2:
            return _CAMERA_KIND_BY_NAME.get(rest[1]) or _EVENT_KIND_BY_NAME.get(rest[1])
        if len(rest) == 4:
            return _NESTED_KINDS.get((rest[1], rest[3]))
        return None

    # -- the event analyzers' topics ----------------------------------------------

    def events(self, camera: str) -> str:
        return f"{self.base}/{camera}/events"

    def fall(self, camera: str) -> str:
        return f"{self.base}/{camera}/fall"

    def zone_occupancy(self, camera: str, zone: str) -> str:
        return f"{self.base}/{camera}/zones/{zone}/occupancy"

    def zone_count(self, camera: str, zone: str) -> str:
        return f"{self.base}/{camera}/zones/{zone}/count"

    def rep_count(self, camera: str, exercise: str) -> str:
        return f"{self.base}/{camera}/reps/{exercise}/count"

    def snapshot(self, camera: str, kind: str) -> str:
        """The newest snapshot (JPEG bytes, retained) of the camera's events of one kind."""
        return f"{self.base}/{camera}/events/{kind}/snapshot"

    def rep_reset(self, camera: str, exercise: str) -> str:
        """The command topic posed subscribes to: any payload zeroes the exercise's count."""
        return f"{self.base}/{camera}/reps/{exercise}/reset"

    def discovery_of(self, component: str, object_id: str) -> str:
        """Like `discovery`, for any Home Assistant component (button, event, device_automation)."""
        return f"{self.discovery_prefix}/{component}/{self.ha_node_id}/{object_id}/config"
