"""Gestures: a pose held for `hold_seconds` fires once; it must be released (for
`release_seconds`) and the cooldown passed before the same person's same gesture fires again. A frame where
the keypoints are not seen neither breaks nor extends the hold.

A gesture with a `swing` (a wave) also needs, during the hold, a keypoint moving side
to side: `swings` sideways movements, each the other way from the last and each at
least `distance` torso lengths, measured from the shoulders' midpoint so that walking
with a hand up is not a wave.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from posed.events.config import GestureConfig
from posed.events.event import Event, reached
from posed.events.geometry import SIDES, Body, Side
from posed.events.gesture_config import SwingConfig
from posed.events.measures import Rule, all_hold, compile_conditions


@dataclass(slots=True)
class _Swing:
    """One side's sideways movement during a hold: the turns it made, with hysteresis."""

    start: float | None = None  # the position when the hold began (before the first swing)
    extreme: float = 0.0  # the furthest position in the current direction
    direction: int = 0  # +1 / -1 after the first swing, 0 before
    swings: int = 0

    def update(self, position: float, distance: float) -> None:
        if self.start is None:
            self.start = self.extreme = position
            return
        if self.direction == 0:
            if abs(position - self.start) >= distance:
                self.direction = 1 if position > self.start else -1
                self.extreme, self.swings = position, 1
            return
        if (position - self.extreme) * self.direction > 0:
            self.extreme = position  # further the same way
        elif (self.extreme - position) * self.direction >= distance:
            self.direction, self.extreme, self.swings = -self.direction, position, self.swings + 1


@dataclass(slots=True)
class _Hold:
    last_seen: float
    held_since: float | None = None
    armed: bool = True  # released (for release_seconds) since it last fired
    released_since: float | None = None
    fired_at: float | None = None
    swings: dict[Side, _Swing] = field(default_factory=dict)


class GestureAnalyzer:
    def __init__(
        self,
        gestures: Mapping[str, GestureConfig],
        *,
        hold_seconds: float,
        cooldown_seconds: float,
        forget_seconds: float,
        release_seconds: float = 0.0,
    ) -> None:
        self._gestures: dict[str, tuple[tuple[Rule, ...], SwingConfig | None]] = {
            name: (compile_conditions(g.all), g.swing) for name, g in gestures.items()
        }
        self._hold_seconds = hold_seconds
        self._release_seconds = release_seconds
        self._cooldown_seconds = cooldown_seconds
        self._forget_seconds = forget_seconds
        self._holds: dict[tuple[int, str], _Hold] = {}

    def update(self, timestamp: float, bodies: Sequence[Body]) -> list[Event]:
        events: list[Event] = []
        for body in bodies:
            for name, (rules, swing) in self._gestures.items():
                hold = self._holds.setdefault((body.person, name), _Hold(last_seen=timestamp))
                hold.last_seen = timestamp
                held = all_hold(body, rules)
                if held is None:
                    continue
                if not held:
                    hold.held_since = None
                    hold.swings.clear()
                    if hold.released_since is None:
                        hold.released_since = timestamp
                    if reached(timestamp, hold.released_since, self._release_seconds):
                        hold.armed = True
                    continue
                hold.released_since = None
                if hold.held_since is None:
                    hold.held_since = timestamp
                if swing is not None and not _swung(body, swing, hold.swings):
                    continue
                cooled = hold.fired_at is None or reached(timestamp, hold.fired_at, self._cooldown_seconds)
                if hold.armed and cooled and reached(timestamp, hold.held_since, self._hold_seconds):
                    hold.armed, hold.fired_at = False, timestamp
                    events.append(Event("gesture", timestamp, body.person, {"gesture": name}))
        for key in [
            k for k, h in self._holds.items() if reached(timestamp, h.last_seen, self._forget_seconds)
        ]:
            del self._holds[key]
        return events


def _swung(body: Body, swing: SwingConfig, swings: dict[Side, _Swing]) -> bool:
    """Follow the keypoint on each side seen; True once a side made `swing.swings` swings."""
    scale, centre = body.torso_length(), body.both_midpoint("shoulder")
    if scale is not None and centre is not None:
        for side in SIDES:
            point = body.point(f"{side}_{swing.keypoint}")
            if point is not None:
                swings.setdefault(side, _Swing()).update((point[0] - centre[0]) / scale, swing.distance)
    return any(s.swings >= swing.swings for s in swings.values())
