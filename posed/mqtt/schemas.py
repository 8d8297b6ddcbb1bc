"""The JSON Schemas shipped in posed/schemas/, one per payload kind.

Plain-text payloads (availability, presence, status) are described as JSON
strings: validate the UTF-8 text itself. A snapshot is JPEG bytes: its schema
describes `{"format": "jpeg", "bytes": N}`, which `instance()` makes of it.
A count is plain text that is also a JSON integer. `instance()` turns a received payload into what its schema
describes, so a consumer (or a test) can validate any message of posed's.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from posed.mqtt.topics import TopicKind

SCHEMA_FILES: dict[TopicKind, str] = {
    "availability": "availability.json",
    "poses": "poses.json",
    "count": "count.json",
    "presence": "presence.json",
    "status": "status.json",
    "stats": "stats.json",
    "discovery": "discovery.json",
    "diagnostics": "diagnostics.json",
    "host": "host.json",
    "events": "events.json",
    "fall": "fall.json",
    "zone_occupancy": "zone_occupancy.json",
    "zone_count": "zone_count.json",
    "rep_count": "rep_count.json",
    "snapshot": "snapshot.json",
}
TEXT_KINDS: frozenset[TopicKind] = frozenset({"availability", "presence", "status", "fall", "zone_occupancy"})


def load_schema(kind: TopicKind) -> dict[str, Any]:
    text = resources.files("posed").joinpath("schemas", SCHEMA_FILES[kind]).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def instance(kind: TopicKind, payload: bytes) -> Any:
    """The value a payload's schema applies to: the text for plain-text kinds, a description of
    the bytes for a snapshot (JPEG), else parsed JSON."""
    if kind == "snapshot":
        return {"format": "jpeg" if payload.startswith(b"\xff\xd8\xff") else "unknown", "bytes": len(payload)}
    text = payload.decode("utf-8")
    if kind in TEXT_KINDS:
        return text
    return json.loads(text)
