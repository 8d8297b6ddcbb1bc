"""One camera's analyzers together: poses in, events and the retained state out.

The engine is pure and deterministic: time is the timestamp it is given (the
frame's tracking time), so a file gives the same events as real time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from posed.events.config import EventsConfig, ZoneConfig
from posed.events.event import Event
from posed.events.falls import FallAnalyzer
from posed.events.geometry import people
from posed.events.gestures import GestureAnalyzer
from posed.events.reps import RepAnalyzer
from posed.events.zones import ZoneAnalyzer
from posed.types import Pose


@dataclass(frozen=True, slots=True)
class EventState:
    """What the retained state topics say: people per zone, the fall state, rep counts."""

    zones: Mapping[str, int]
    fallen: bool | None  # None: fall detection off
    reps: Mapping[str, int]


class EventEngine:
    def __init__(self, config: EventsConfig, zones: Mapping[str, ZoneConfig]) -> None:
        self.config = config
        self.zones = ZoneAnalyzer(zones, config.forget_seconds)
        self.falls = FallAnalyzer(config.falls, zones) if config.falls.enabled else None
        self.reps = RepAnalyzer(config.reps.definitions(), config.reps.rest_seconds)
        gestures = config.gestures
        self.gestures = GestureAnalyzer(
            gestures.definitions(),
            hold_seconds=gestures.hold_seconds,
            cooldown_seconds=gestures.cooldown_seconds,
            release_seconds=gestures.release_seconds,
            forget_seconds=config.forget_seconds,
        )

    def update(self, timestamp: float, poses: Sequence[Pose], width: int, height: int) -> list[Event]:
        """Events for one frame, in the order zone, fall, rep/set, gesture."""
        bodies = people(poses, width, height, self.config.min_keypoint_score)
        events = self.zones.update(timestamp, bodies)
        if self.falls is not None:
            events += self.falls.update(timestamp, bodies)
        events += self.reps.update(timestamp, bodies)
        events += self.gestures.update(timestamp, bodies)
        return events

    @property
    def watching(self) -> bool:
        """Whether an analyzer watches over someone the estimator may no longer see (a fall in
        progress): the motion gate then keeps the estimator on every frame."""
        return self.falls is not None and self.falls.in_progress

    def state(self) -> EventState:
        return EventState(
            zones=self.zones.counts(),
            fallen=None if self.falls is None else self.falls.fallen,
            reps=self.reps.totals(),
        )

    def reset_reps(self, exercise: str | None = None) -> None:
        self.reps.reset(exercise)
