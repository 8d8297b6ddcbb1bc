"""Falls: upright -> falling -> down -> detected -> cleared, for "someone fell here".

A fall starts with a fast change (the torso tips by `fast_angle` or the hips drop by
`fast_drop` torso lengths within `fast_seconds`), must end lying within
`settle_seconds`, and is reported after `confirm_seconds` lying. Squats and sitting
down drop fast but stay upright; bending over tips the torso but stays tall; lying
down slowly is not fast; lying with the hips inside an `ignore_zones` zone is never
a fall. Lying is judged by posed/events/posture.py (the torso angle, or, under
foreshortening, a body low at the floor it stood on).

State is kept per tracker id, but an id is the tracker's guess: a fast turn loses
the person and they come back with a new id. A new id that appears where someone
was just lost continues that person's state (`_handover`), and a fallen person who
can no longer be found stays fallen unless they were last seen at the image's edge.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from posed.events.config import ZoneConfig
from posed.events.event import Event, reached
from posed.events.falls_config import FallsConfig
from posed.events.geometry import Body, Polygon, anchor
from posed.events.posture import Upright, is_low, is_lying, upright_reference

Box = tuple[float, float, float, float]
# People kept while unseen are bounded: fallen ones are kept until someone is seen at their
# place, so a camera that keeps losing people must not grow this without end.
MAX_PEOPLE = 64


class Phase(enum.Enum):
    UPRIGHT = "upright"  # or anything not yet suspicious
    FALLING = "falling"  # a fast change; waiting to see whether it ends lying
    DOWN = "down"  # lying after a fast change; confirming
    DETECTED = "detected"  # reported
    TIMED_OUT = "timed_out"  # cleared by clear_timeout; re-armed once upright


# A fall in progress belongs to the place: whoever appears there next continues it.
FALLEN = (Phase.FALLING, Phase.DOWN, Phase.DETECTED)
_IN_PROGRESS = frozenset(FALLEN)  # the motion gate keeps every frame running meanwhile


@dataclass(slots=True)
class _Sample:
    timestamp: float
    angle: float
    hip_y: float
    scale: float


@dataclass(slots=True)
class _Person:
    last_seen: float
    box: Box
    frame: tuple[int, int]
    phase: Phase = Phase.UPRIGHT
    since: float = 0.0
    upright_since: float | None = None
    zone: str | None = None
    history: deque[_Sample] = field(default_factory=deque)
    uprights: deque[Upright] = field(default_factory=deque)  # seen upright lately, newest last
    reference: Upright | None = None  # the one in force since the fast change


class FallAnalyzer:
    def __init__(self, config: FallsConfig, zones: Mapping[str, ZoneConfig]) -> None:
        self.config = config
        self._zones = {name: (Polygon(z.points), z) for name, z in zones.items()}
        self._people: dict[int, _Person] = {}

    def update(self, timestamp: float, bodies: Sequence[Body]) -> list[Event]:
        events: list[Event] = []
        seen = {body.person for body in bodies}
        for body in bodies:
            person = self._people.get(body.person)
            if person is None:
                person = self._handover(timestamp, body, seen)
                self._people[body.person] = person
            person.last_seen, person.box, person.frame = timestamp, body.pose.box, (body.width, body.height)
            self._step(timestamp, body, person, events)
        for pid in [p for p in self._people if p not in seen]:
            self._unseen(timestamp, pid, self._people[pid], events)
        unseen = sorted((p for p in self._people if p not in seen), key=lambda p: self._people[p].last_seen)
        for pid in unseen[: max(0, len(self._people) - MAX_PEOPLE)]:  # the longest unseen go first
            self._forget(timestamp, pid, events)
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

    def _handover(self, now: float, body: Body, seen: set[int]) -> _Person:
        """The state of the person a new id continues: someone lost at this place (a fallen one
        however long ago, anyone else within handover_seconds), else a fresh one."""
        config = self.config
        box = body.pose.box
        candidates = []
        for pid, person in self._people.items():
            if pid in seen:
                continue
            recent = now - person.last_seen <= config.handover_seconds
            if not (recent or person.phase in FALLEN):
                continue
            size = max(person.box[2], person.box[3], 1.0)
            apart = math.dist(_centre(person.box), _centre(box)) / size
            if apart <= config.handover_distance:
                candidates.append((person.phase not in FALLEN, apart, pid))
        if not candidates:
            return _Person(last_seen=now, box=box, frame=(body.width, body.height))
        _, _, pid = min(candidates)
        person = self._people.pop(pid)
        if person.phase is Phase.UPRIGHT and not self._ignored(body):
            # Upright when lost, lying when found moments later (within handover_seconds, as
            # every person who is not fallen): the disappearance was the fast change the
            # tracker could not follow.
            reference = self._fresh_reference(person, person.last_seen)
            if is_lying(body, config, reference):
                person.phase, person.since, person.reference = Phase.FALLING, person.last_seen, reference
        return person

    def _unseen(self, now: float, pid: int, person: _Person, events: list[Event]) -> None:
        config = self.config
        if person.phase in (Phase.DOWN, Phase.DETECTED) and not self._at_edge(person):
            # Lost while lying, away from any edge: nobody was seen getting up or leaving.
            if person.phase is Phase.DOWN and reached(now, person.since, config.confirm_seconds):
                self._detect(now, pid, person, events)
            return
        if reached(now, person.last_seen, config.lost_seconds):
            self._forget(now, pid, events)

    def _forget(self, now: float, pid: int, events: list[Event]) -> None:
        person = self._people.pop(pid)
        if person.phase is Phase.DETECTED:
            events.append(self._event(now, pid, person, "cleared", "lost"))

    def _at_edge(self, person: _Person) -> bool:
        x, y, w, h = person.box
        width, height = person.frame
        mx, my = self.config.edge_margin * width, self.config.edge_margin * height
        return x <= mx or y <= my or x + w >= width - mx or y + h >= height - my

    def _step(self, now: float, body: Body, person: _Person, events: list[Event]) -> None:
        config = self.config
        angle, hips, scale = body.torso_angle(), body.midpoint("hip"), body.torso_length()
        if angle is None or hips is None or scale is None:
            return  # not seen well enough: hold the phase
        history = person.history
        history.append(_Sample(now, angle, hips[1], scale))
        while history and now - history[0].timestamp > config.fast_seconds:
            history.popleft()
        # The person's upright height and floor level: frozen at the fast change during a fall.
        ref = self._fresh_reference(person, now) if person.phase is Phase.UPRIGHT else person.reference
        # A torso upright in 2-D is not enough: lying feet to the camera looks upright too.
        upright = angle <= config.upright_angle and not is_low(body, config, ref)
        if upright and person.phase is Phase.UPRIGHT:
            self._remember_upright(person, upright_reference(body, now))
        lying = is_lying(body, config, ref)
        if person.phase is Phase.UPRIGHT:
            if self._fast(history) and not self._ignored(body):
                person.phase, person.since = Phase.FALLING, now
                person.reference = self._fresh_reference(person, now)
                if is_lying(body, config, person.reference):
                    person.phase = Phase.DOWN
        elif person.phase is Phase.FALLING:
            if lying:
                person.phase, person.since = Phase.DOWN, now
            elif now - person.since > config.settle_seconds:
                person.phase = Phase.UPRIGHT
        elif person.phase is Phase.DOWN:
            if upright or self._ignored(body):
                person.phase = Phase.UPRIGHT
            elif not (lying or is_low(body, config, ref)):
                # Must stay down (lying, or low on the floor without getting up) for
                # confirm_seconds at a stretch; settle again meanwhile.
                person.phase, person.since = Phase.FALLING, now
            elif reached(now, person.since, config.confirm_seconds):
                person.zone = self._zone_of(body)
                self._detect(now, body.person, person, events)
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

    def _detect(self, now: float, pid: int, person: _Person, events: list[Event]) -> None:
        person.phase, person.since, person.upright_since = Phase.DETECTED, now, None
        events.append(self._event(now, pid, person, "detected", None))

    def _remember_upright(self, person: _Person, seen: Upright | None) -> None:
        """Keep the upright samples of the last fast_seconds (and always the newest one)."""
        if seen is None:
            return
        uprights = person.uprights
        uprights.append(seen)
        while len(uprights) > 1 and seen.timestamp - uprights[0].timestamp > self.config.fast_seconds:
            uprights.popleft()

    def _fresh_reference(self, person: _Person, now: float) -> Upright | None:
        """The upright height and floor level in force for a fall starting now: the tallest of
        the person's upright samples of the fast_seconds before (the fast change is noticed
        part-way down, when the last samples already shrink), if recent enough to describe
        this place (reference_seconds)."""
        recent = [u for u in person.uprights if now - u.timestamp <= self.config.reference_seconds]
        return max(recent, key=lambda u: u.height) if recent else None

    def _fast(self, history: deque[_Sample]) -> bool:
        latest = history[-1]
        tipped = latest.angle - min(s.angle for s in history)
        scale = max(s.scale for s in history)
        dropped = (latest.hip_y - min(s.hip_y for s in history)) / scale
        return tipped >= self.config.fast_angle or dropped >= self.config.fast_drop

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


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2] / 2.0, box[1] + box[3] / 2.0)
