"""Reps: per person and exercise, a count that goes up on the return to the start position.

Each exercise is one measure with a start and a far threshold; the gap between them
is the hysteresis, so noise around either threshold cannot count twice, and a frame
where the keypoints are not seen holds the phase. A rep is the sequence
start -> (far, with every `require` condition true) -> start. A set ends after
`rest_seconds` without a rep.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from posed.events.config import ExerciseConfig
from posed.events.event import Event, FieldValue, reached
from posed.events.geometry import Body
from posed.events.measures import Rule, all_hold, compile_conditions, compile_measure, value


class RepPhase(enum.Enum):
    UNKNOWN = "unknown"  # the start position not seen yet: nothing can count
    START = "start"
    OUT = "out"  # left the start position, the far position not reached yet
    FAR = "far"


@dataclass(slots=True)
class _Progress:
    last_seen: float
    phase: RepPhase = RepPhase.UNKNOWN
    at_start: float = 0.0  # the last time seen in the start position
    count: int = 0
    set_reps: int = 0
    set_start: float = 0.0
    last_rep: float = 0.0


class RepAnalyzer:
    def __init__(self, exercises: Mapping[str, ExerciseConfig], rest_seconds: float) -> None:
        self._exercises = dict(exercises)
        self._rules: dict[str, tuple[Rule, tuple[Rule, ...]]] = {
            name: (compile_measure(e.measure), compile_conditions(e.require)) for name, e in exercises.items()
        }
        self._rest_seconds = rest_seconds
        self._progress: dict[tuple[int, str], _Progress] = {}
        self._totals = dict.fromkeys(self._exercises, 0)

    def update(self, timestamp: float, bodies: Sequence[Body]) -> list[Event]:
        events: list[Event] = []
        for body in bodies:
            for name, exercise in self._exercises.items():
                progress = self._progress.setdefault((body.person, name), _Progress(last_seen=timestamp))
                progress.last_seen = timestamp
                if self._step(timestamp, body, exercise, self._rules[name], progress):
                    self._count(timestamp, body.person, name, progress, events)
        for (person, name), progress in list(self._progress.items()):
            if progress.set_reps and reached(timestamp, progress.last_rep, self._rest_seconds):
                duration = progress.last_rep - progress.set_start
                fields: dict[str, FieldValue] = {
                    "exercise": name,
                    "reps": progress.set_reps,
                    "duration": duration,
                }
                events.append(Event("set", timestamp, person, fields))
                progress.set_reps = 0
            if not progress.set_reps and reached(timestamp, progress.last_seen, self._rest_seconds):
                del self._progress[(person, name)]  # gone, set reported: ids are not reused
        return events

    def totals(self) -> dict[str, int]:
        """Reps of each exercise on this camera since the last reset, everyone together."""
        return dict(self._totals)

    def reset(self, exercise: str | None = None) -> None:
        """Zero the counts of one exercise (None: all); a set in progress is dropped unreported."""
        for name in self._totals:
            if exercise is None or name == exercise:
                self._totals[name] = 0
        for (_, name), progress in self._progress.items():
            if exercise is None or name == exercise:
                progress.count = progress.set_reps = 0

    @staticmethod
    def _step(
        now: float,
        body: Body,
        exercise: ExerciseConfig,
        rules: tuple[Rule, tuple[Rule, ...]],
        progress: _Progress,
    ) -> bool:
        """Advance the phase; True when this frame completes a rep."""
        measure, require = rules
        measured = value(body, measure, toward_low=exercise.decreasing)
        if measured is None:
            return False
        if exercise.decreasing:
            at_start = measured > exercise.start_above  # type: ignore[operator]
            at_far = measured < exercise.far_below  # type: ignore[operator]
        else:
            at_start = measured < exercise.start_below  # type: ignore[operator]
            at_far = measured > exercise.far_above  # type: ignore[operator]
        if at_far and require:
            at_far = all_hold(body, require) is True
        phase = progress.phase
        if at_start:
            progress.phase = RepPhase.START
            if phase is RepPhase.FAR:
                return True  # _count reads at_start (when the rep began) before it moves on
            progress.at_start = now
        elif phase is RepPhase.START:
            progress.phase = RepPhase.FAR if at_far else RepPhase.OUT
        elif phase is RepPhase.OUT and at_far:
            progress.phase = RepPhase.FAR
        return False

    def _count(self, now: float, person: int, name: str, progress: _Progress, events: list[Event]) -> None:
        progress.count += 1
        self._totals[name] += 1
        if progress.set_reps == 0:
            progress.set_start = progress.at_start
        progress.set_reps += 1
        progress.last_rep = now
        fields: dict[str, FieldValue] = {
            "exercise": name,
            "count": progress.count,
            "total": self._totals[name],
            "duration": now - progress.at_start,
            "set_reps": progress.set_reps,
        }
        progress.at_start = now
        events.append(Event("rep", now, person, fields))
