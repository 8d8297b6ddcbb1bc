"""Gestures: a pose held for `hold_seconds` fires once; it must be released and the
cooldown passed before the same person's same gesture fires again. A frame where
the keypoints are not seen neither breaks nor extends the hold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from posed.events.config import GestureConfig
from posed.events.event import Event, reached
from posed.events.geometry import Body
from posed.events.measures import Rule, all_hold, compile_conditions


@dataclass(slots=True)
class _Hold:
    last_seen: float
    held_since: float | None = None
    armed: bool = True  # released since it last fired
    fired_at: float | None = None


class GestureAnalyzer:
    def __init__(
        self,
        gestures: Mapping[str, GestureConfig],
        *,
        hold_seconds: float,
        cooldown_seconds: float,
        forget_seconds: float,
    ) -> None:
        self._gestures: dict[str, tuple[Rule, ...]] = {
            name: compile_conditions(g.all) for name, g in gestures.items()
        }
        self._hold_seconds = hold_seconds
        self._cooldown_seconds = cooldown_seconds
        self._forget_seconds = forget_seconds
        self._holds: dict[tuple[int, str], _Hold] = {}

    def update(self, timestamp: float, bodies: Sequence[Body]) -> list[Event]:
        events: list[Event] = []
        for body in bodies:
            for name, rules in self._gestures.items():
                hold = self._holds.setdefault((body.person, name), _Hold(last_seen=timestamp))
                hold.last_seen = timestamp
                held = all_hold(body, rules)
                if held is None:
                    continue
                if not held:
                    hold.held_since, hold.armed = None, True
                    continue
                if hold.held_since is None:
                    hold.held_since = timestamp
                cooled = hold.fired_at is None or reached(timestamp, hold.fired_at, self._cooldown_seconds)
                if hold.armed and cooled and reached(timestamp, hold.held_since, self._hold_seconds):
                    hold.armed, hold.fired_at = False, timestamp
                    events.append(Event("gesture", timestamp, body.person, {"gesture": name}))
        for key in [
            k for k, h in self._holds.items() if reached(timestamp, h.last_seen, self._forget_seconds)
        ]:
            del self._holds[key]
        return events
