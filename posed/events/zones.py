"""Zones: who is inside each named polygon, with Frigate's inertia and loitering time.

Frigate confirms an entry after `inertia` consecutive frames inside. posed also
reports leaving, so the same inertia applies to leaving: one frame's jitter
across an edge does not give a leave and an enter. A person whose anchor cannot
be seen keeps their state; a person unseen for `forget_seconds` leaves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from posed.events.config import ZoneConfig
from posed.events.event import Event, reached
from posed.events.geometry import Body, Polygon, anchor


@dataclass(slots=True)
class _Presence:
    last_seen: float
    inside: bool = False
    streak: int = 0  # consecutive frames on the other side of the edge than `inside`
    since: float = 0.0
    loitered: bool = False


class _Zone:
    def __init__(self, name: str, config: ZoneConfig) -> None:
        self.name = name
        self.config = config
        self.polygon = Polygon(config.points)
        self.people: dict[int, _Presence] = {}

    def observe(self, timestamp: float, body: Body, events: list[Event]) -> None:
        presence = self.people.setdefault(body.person, _Presence(last_seen=timestamp))
        presence.last_seen = timestamp
        point = anchor(body, self.config.anchor)
        if point is None:
            return  # not seen: no evidence either way
        if self.polygon.contains(point) == presence.inside:
            presence.streak = 0
        else:
            presence.streak += 1
            if presence.streak >= self.config.inertia:
                presence.inside = not presence.inside
                presence.streak = 0
                presence.since = timestamp
                presence.loitered = False
                self._emit(events, timestamp, body.person, "enter" if presence.inside else "leave")
        loitering = self.config.loitering_time
        due = loitering > 0 and reached(timestamp, presence.since, loitering)
        if presence.inside and due and not presence.loitered:
            presence.loitered = True
            self._emit(events, timestamp, body.person, "loitering")

    def forget(self, timestamp: float, seen: set[int], forget_seconds: float, events: list[Event]) -> None:
        for person in [p for p in self.people if p not in seen]:
            presence = self.people[person]
            if reached(timestamp, presence.last_seen, forget_seconds):
                del self.people[person]
                if presence.inside:
                    self._emit(events, timestamp, person, "leave")

    def count(self) -> int:
        return sum(1 for p in self.people.values() if p.inside)

    def _emit(self, events: list[Event], timestamp: float, person: int, state: str) -> None:
        events.append(Event("zone", timestamp, person, {"zone": self.name, "state": state}))


class ZoneAnalyzer:
    """Per zone and person: enter, leave and loitering events, and the zone's head count."""

    def __init__(self, zones: Mapping[str, ZoneConfig], forget_seconds: float) -> None:
        self._zones = [_Zone(name, config) for name, config in zones.items()]
        self._forget_seconds = forget_seconds

    def update(self, timestamp: float, bodies: Sequence[Body]) -> list[Event]:
        events: list[Event] = []
        seen = {body.person for body in bodies}
        for zone in self._zones:
            for body in bodies:
                zone.observe(timestamp, body, events)
            zone.forget(timestamp, seen, self._forget_seconds, events)
        return events

    def counts(self) -> dict[str, int]:
        """People inside each zone now."""
        return {zone.name: zone.count() for zone in self._zones}
