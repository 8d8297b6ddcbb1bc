"""The events analyzers emit, and their JSON form (posed/schemas/events.json)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

EVENT_SCHEMA_VERSION = 1
EventType = Literal["zone", "fall", "rep", "set", "gesture"]
EVENT_TYPES: tuple[EventType, ...] = ("zone", "fall", "rep", "set", "gesture")
FieldValue = str | int | float | None


# Timestamps are sums of frame intervals (4.6 - 3.6 < 1.0 in floating point): a hold of
# exactly the configured length must count on the frame that completes it.
TIME_EPSILON = 1e-6


def reached(now: float, since: float, seconds: float) -> bool:
    """Whether `seconds` have passed from `since` to `now`."""
    return now - since >= seconds - TIME_EPSILON


@dataclass(frozen=True, slots=True)
class Event:
    """Something a person did, at the analyzer's time (the frame's tracking time)."""

    type: EventType
    timestamp: float
    person: int
    fields: Mapping[str, FieldValue]

    def to_dict(self, *, timestamp: float | None = None) -> dict[str, Any]:
        """The published form; `timestamp` replaces the analyzer's time (the daemon's wall clock)."""
        stamp = self.timestamp if timestamp is None else timestamp
        out: dict[str, Any] = {
            "schema_version": EVENT_SCHEMA_VERSION,
            "type": self.type,
            "person": self.person,
            "timestamp": round(stamp, 3),
        }
        for key, value in self.fields.items():
            out[key] = round(value, 3) if isinstance(value, float) else value
        return out
