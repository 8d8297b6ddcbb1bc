"""`posed demo`'s events: the daemon's analyzers on the demo camera, each event said as a line.

The demo runs the same event stage as `posed run` (posed.events.stage), with the
default analyzers (falls, gestures) and the exercises asked for (squats by
default: the sample clip is someone doing squats). Each event is printed as it
happens, published when a broker answers, and shown on the preview page.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from posed.events.config import EventsConfig, RepsConfig
from posed.events.wording import describe, tally_key, tally_summary

if TYPE_CHECKING:
    from posed.events.engine import EventState
    from posed.mqtt.publisher import Publisher

DEFAULT_EXERCISES = ("squat",)


def demo_events_config(exercises: Sequence[str]) -> EventsConfig:
    """The daemon's default analyzers, counting `exercises`; an unknown name is a PosedError."""
    from pydantic import ValidationError

    from posed.errors import PosedError

    try:
        return EventsConfig(reps=RepsConfig(exercises=list(exercises)))
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise PosedError(f"--exercise: {reason}") from exc


class DemoEvents:
    """The event stage's sink: says each event, and hands events and state to the publisher.

    Called on the worker's thread; the counts are read by the main thread at the end.
    """

    def __init__(self, publisher: Publisher | None, say: Callable[[str], None]) -> None:
        self._publisher = publisher
        self._say = say
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def publish_events(self, camera: str, events: Sequence[Mapping[str, Any]], state: EventState) -> None:
        if self._publisher is not None:
            self._publisher.publish_events(camera, events, state)
        for event in events:
            self._say(f"         event: {describe(event)}")
            with self._lock:
                self._counts[tally_key(event)] += 1

    def summary(self) -> str:
        """What happened in the whole run, e.g. `events: 2 squat reps, no fall`."""
        with self._lock:
            counts = dict(self._counts)
        return "events: " + tally_summary(counts)
