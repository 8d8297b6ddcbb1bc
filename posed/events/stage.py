"""The daemon's event stage: every camera's analyzers, between the estimator and the publisher.

The workers hand it each processed frame (it is a worker FrameObserver). The
analyzers run on the frame's tracking time (the file's own clock for a video
read faster than real time, else the monotonic capture time), so the daemon
gives the events `posed estimate --events` gives; the published `timestamp` is
the frame's capture wall-clock time. Events and the state after them go to the
publisher and to the preview's tap. A reset (the HA button, on paho's thread)
takes the camera's lock, so it never interleaves with a frame.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from posed.events.config import EventsConfig, ZoneConfig
from posed.events.engine import EventEngine, EventState
from posed.types import Frame, Pose


class EventSink(Protocol):
    def publish_events(self, camera: str, events: Sequence[Mapping[str, Any]], state: EventState) -> None: ...


class EvidenceHook(Protocol):
    """Snapshots and clips (posed.evidence.recorder): sees every frame, returns the events with
    their `snapshot` references, at once."""

    def observe(
        self, camera: str, frame: Frame, poses: Sequence[Pose], events: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]: ...


class EventTap(Protocol):
    def observe_events(
        self, camera: str, events: Sequence[Mapping[str, Any]], occupancy: Mapping[str, int] | None = None
    ) -> None: ...


@dataclass(slots=True)
class _Camera:
    settings: tuple[EventsConfig, Mapping[str, ZoneConfig]]
    engine: EventEngine
    lock: threading.Lock


class EventStage:
    def __init__(self, sink: EventSink, tap: EventTap | None = None) -> None:
        self._sink = sink
        self._tap = tap
        self._cameras: dict[str, _Camera] = {}
        self._lock = threading.Lock()  # guards the dict; each camera's own lock guards its engine
        self._evidence: EvidenceHook | None = None

    def set_evidence(self, evidence: EvidenceHook | None) -> None:
        """Where snapshots are made from now on (None: no snapshots)."""
        self._evidence = evidence

    def configure(self, events: EventsConfig, zones: Mapping[str, Mapping[str, ZoneConfig]]) -> None:
        """Analyzers for these cameras; a camera whose events and zones are unchanged keeps its
        state (counts, who is where), a changed one starts afresh, a removed one is dropped."""
        with self._lock:
            fresh: dict[str, _Camera] = {}
            for camera, camera_zones in zones.items():
                settings = (events, dict(camera_zones))
                current = self._cameras.get(camera)
                if current is not None and current.settings == settings:
                    fresh[camera] = current
                else:
                    fresh[camera] = _Camera(settings, EventEngine(events, camera_zones), threading.Lock())
            self._cameras = fresh

    def observe(self, camera: str, frame: Frame, poses: Sequence[Pose]) -> None:
        """One processed frame of `camera`: run its analyzers, hand on the events and the state."""
        state = self._cameras.get(camera)
        if state is None:
            return  # a camera being removed by a reload
        with state.lock:
            events = state.engine.update(frame.tracking_time, poses, frame.width, frame.height)
            now = state.engine.state()
        documents: Sequence[Mapping[str, Any]] = [event.to_dict(timestamp=frame.wall) for event in events]
        evidence = self._evidence
        if evidence is not None:
            documents = evidence.observe(camera, frame, poses, documents)
        self._sink.publish_events(camera, documents, now)
        if self._tap is not None:
            self._tap.observe_events(camera, documents, now.zones if now.zones else None)

    def watching(self, camera: str) -> bool:
        """Whether `camera`'s analyzers have a fall in progress (read by its worker's gate)."""
        state = self._cameras.get(camera)
        return state is not None and state.engine.watching

    def reset_reps(self, camera: str, exercise: str | None = None) -> None:
        """Zero a camera's rep count (None: every exercise) and publish the new state at once."""
        state = self._cameras.get(camera)
        if state is None:
            return
        with state.lock:
            state.engine.reset_reps(exercise)
            now = state.engine.state()
        self._sink.publish_events(camera, [], now)

    def republish(self) -> None:
        """Every camera's current state again (a new publisher starts from zeros)."""
        for camera, state in list(self._cameras.items()):
            with state.lock:
                now = state.engine.state()
            self._sink.publish_events(camera, [], now)
