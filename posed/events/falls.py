"""Falls: per person, upright -> falling -> down -> detected -> cleared.

A fall starts with a fast change (the torso tips by `fast_angle` or the hips drop by
`fast_drop` torso lengths within `fast_seconds`), must end lying (torso far from
vertical and the body wider than tall) within `settle_seconds`, and is reported
after `confirm_seconds` lying. Squats and sitting down drop fast but stay upright;
bending over tips the torso but stays tall; lying down slowly is not fast; lying
with the hips inside an `ignore_zones` zone is never a fall.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from posed.events.config import FallsConfig, ZoneConfig
from posed.events.event import Event, reached
from posed.events.geometry import Body, Polygon, anchor


class Phase(enum.Enum):
    UPRIGHT = "upright"  # or anything not yet suspicious
    FALLING = "falling"  # a fast change; waiting to see whether it ends lying
    DOWN = "down"  # lying after a fast change; confirming
    DETECTED = "detected"  # reported
    TIMED_OUT = "timed_out"  # cleared by clear_timeout; re-armed once upright


_IN_PROGRESS = frozenset({Phase.FALLING, Phase.DOWN, Phase.DETECTED})


@dataclass(slots=True)
class _Sample:
    timestamp: float
    angle: float
    hip_y: float
    scale: float


@dataclass(slots=True)
class _Person:
    last_seen: float
    phase: Phase = Phase.UPRIGHT
    since: float = 0.0
    upright_since: float | None = None
    zone: str | None = None
    history: deque[_Sample] = field(default_factory=deque)


class FallAnalyzer:
    def __init__(self, config: FallsConfig, zones: Mapping[str, ZoneConfig]) -> None:
        self.config = config
        self._zones = {name: (Polygon(z.points), z) for name, z in zones.items()}
        self._people: dict[int, _Person] = {}

    def update(self, timestamp: float, bodies: Sequence[Body]) -> list[Event]:
        events: list[Event] = []
        for body in bodies:
            person = self._people.setdefault(body.person, _Person(last_seen=timestamp))
            person.last_seen = timestamp
            self._step(timestamp, body, person, events)
        seen = {body.person for body in bodies}
        for pid in [p for p in self._people if p not in seen]:
            person = self._people[pid]
            if reached(timestamp, person.last_seen, self.config.lost_seconds):
                del self._people[pid]
                if person.phase is Phase.DETECTED:
                    events.append(self._event(timestamp, pid, person, "cleared", "lost"))
        return events

    @property
    def fallen(self) -> bool:
        """Whether any person's fall is reported and not cleared: the camera's fall state."""
        return any(p.phase is Phase.DETECTED for p in self._people.values())

    @property
    def in_progress(self) -> bool:
        """Whether anyone's fall has started and is not cleared (falling, down or detected)."""
        return any(p.phase in _IN_PROGRESS for p in self._people.values())

    def phase_of(self, person: int) -> Phase | None:
        state = self._people.get(person)
        return None if state is None else state.phase

    def _step(self, now: float, body: Body, person: _Person, events: list[Event]) -> None:
        config = self.config
        angle, hips, scale = body.torso_angle(), body.midpoint("hip"), body.torso_length()
        if angle is None or hips is None or scale is None:
            return  # not seen well enough: hold the phase
        history = person.history
        history.append(_Sample(now, angle, hips[1], scale))
        while history and now - history[0].timestamp > config.fast_seconds:
            history.popleft()
        upright = angle <= config.upright_angle
        lying = angle >= config.lying_angle and self._wide(body)
        if person.phase is Phase.UPRIGHT:
            if self._fast(history) and not self._ignored(body):
                person.phase, person.since = Phase.FALLING, now
        elif person.phase is Phase.FALLING:
            if lying:
                person.phase, person.since = Phase.DOWN, now
            elif now - person.since > config.settle_seconds:
                person.phase = Phase.UPRIGHT
        elif person.phase is Phase.DOWN:
            if upright or self._ignored(body):
                person.phase = Phase.UPRIGHT
            elif not lying:  # must lie for confirm_seconds at a stretch; settle again meanwhile
                person.phase, person.since = Phase.FALLING, now
            elif reached(now, person.since, config.confirm_seconds):
                person.phase, person.since, person.upright_since = Phase.DETECTED, now, None
                person.zone = self._zone_of(body)
                events.append(self._event(now, body.person, person, "detected", None))
        elif person.phase is Phase.DETECTED:
            person.upright_since = (person.upright_since or now) if upright else None
            if person.upright_since is not None and reached(now, person.upright_since, config.clear_seconds):
                person.phase = Phase.UPRIGHT
                events.append(self._event(now, body.person, person, "cleared", "upright"))
            elif config.clear_timeout is not None and reached(now, person.since, config.clear_timeout):
                person.phase = Phase.TIMED_OUT
                events.append(self._event(now, body.person, person, "cleared", "timeout"))
        elif upright:  # TIMED_OUT: a new fall needs the person up first
            person.phase = Phase.UPRIGHT

    def _fast(self, history: deque[_Sample]) -> bool:
        latest = history[-1]
        tipped = latest.angle - min(s.angle for s in history)
        scale = max(s.scale for s in history)
        dropped = (latest.hip_y - min(s.hip_y for s in history)) / scale
        return tipped >= self.config.fast_angle or dropped >= self.config.fast_drop

    def _wide(self, body: Body) -> bool:
        extent = body.extent()
        return extent is not None and extent[0] >= self.config.lying_aspect * extent[1]

    def _ignored(self, body: Body) -> bool:
        point = anchor(body, "hips")
        if point is None:
            return False
        return any(
            self._zones[name][0].contains(point) for name in self.config.ignore_zones if name in self._zones
        )

    def _zone_of(self, body: Body) -> str | None:
        for name, (polygon, zone) in self._zones.items():
            point = anchor(body, zone.anchor)
            if point is not None and polygon.contains(point):
                return name
        return None

    @staticmethod
    def _event(now: float, pid: int, person: _Person, state: str, reason: str | None) -> Event:
        fields: dict[str, str | None] = {"state": state, "zone": person.zone}
        if reason is not None:
            fields["reason"] = reason
        return Event("fall", now, pid, fields)
