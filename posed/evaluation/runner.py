"""Running one labelled clip through `posed estimate --events`' path: frames, the estimator
(tracked and smoothed), the analyzers, with the last frame held; optionally from the pose cache."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from posed.backend import Backend, BackendConfig
from posed.cameras.media_files import video_frames, video_info
from posed.config.schema import ModelConfig
from posed.estimator import open_estimator
from posed.estimator_contract import PoseEstimator
from posed.evaluation.cache import PoseCache, cache_key
from posed.evaluation.frames import FramePoses, frame_events, frame_poses
from posed.evaluation.labels import ClipLabels
from posed.events.config import EventsConfig, EventsFile
from posed.events.engine import EventEngine
from posed.events.event import Event
from posed.models.resolve import model_search_path
from posed.people.phantoms import PhantomFilter
from posed.tracking.ids import IdSource
from posed.types import ImageArray


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    model: str
    backend: str
    device: str | None
    precision: str
    model_dir: Path | None
    hold: float
    cache: Path | None
    no_gate: bool = False  # the motion gate off: the estimator on every frame

    def key(self) -> dict[str, str | float | None]:
        """What the poses depend on (besides the clip and posed's code)."""
        return {
            "model": self.model,
            "backend": self.backend,
            "device": self.device,
            "precision": self.precision,
            "hold": self.hold,
            "gate": "off" if self.no_gate else "on",
        }


@dataclass(frozen=True, slots=True)
class ClipRun:
    events: list[Event]
    frames: int
    seconds: float  # media time of the last frame analyzed (the hold included)
    cached: bool  # the poses came from the cache, not the network


class ClipRunner:
    """Owns the estimator, opened on the first clip that is not cached, and reused for the rest
    (its tracker reset between clips)."""

    def __init__(
        self,
        settings: RunnerSettings,
        model: Callable[[], ModelConfig],
        backend: Callable[[], tuple[Backend, BackendConfig]],
    ) -> None:
        """`model` and `backend` are called when the estimator is first needed (no clip cached)."""
        self.settings = settings
        self._model = model
        self._backend = backend
        self._stack = ExitStack()
        self._estimator: PoseEstimator | None = None
        self._cache = None if settings.cache is None else PoseCache(settings.cache)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stack.close()

    def _opened(self) -> PoseEstimator:
        if self._estimator is None:
            backend, config = self._backend()
            dirs = model_search_path(cli_dir=self.settings.model_dir)
            self._estimator = self._stack.enter_context(
                open_estimator(self._model(), backend, config, model_dirs=dirs, ids=IdSource())
            )
        else:
            self._estimator.reset()
        return self._estimator

    def run(self, clip: Path, labels: ClipLabels, settings: EventsFile) -> ClipRun:
        engine = EventEngine(clip_events_config(settings.events, labels), settings.cameras.estimate.zones)
        stream: Iterable[FramePoses] | None = None
        key = ""
        if self._cache is not None:
            key = cache_key(clip, {**self.settings.key(), "people": settings.people.model_dump_json()})
            stream = self._cache.load(clip, key)
        cached = stream is not None
        if stream is None:
            fps, _ = video_info(clip)
            stream = frame_poses(
                held_frames(video_frames(clip, None), self.settings.hold, fps),
                self._opened(),
                PhantomFilter(settings.people.phantoms),
                no_gate=self.settings.no_gate,
                in_progress=lambda: engine.watching,  # a fall in progress keeps the gate open
            )
            if self._cache is not None:
                stream = self._cache.store(clip, key, stream)
        events: list[Event] = []
        frames, last = 0, 0.0
        for seen in stream:
            events += frame_events(seen, engine)
            frames, last = frames + 1, seen.timestamp
        return ClipRun(events, frames, last, cached)


def clip_events_config(events: EventsConfig, labels: ClipLabels) -> EventsConfig:
    """The settings with the clip's labelled exercise turned on (counting is off by default)."""
    if labels.exercise is None or labels.exercise in events.reps.exercises:
        return events
    reps = events.reps.model_copy(update={"exercises": [*events.reps.exercises, labels.exercise]})
    return events.model_copy(update={"reps": reps})


def held_frames(
    frames: Iterable[tuple[int, float, ImageArray]], hold: float, fps: float
) -> Iterator[tuple[int, float, ImageArray]]:
    """The frames, then the last one again every frame interval (1/fps, else the last gap
    between frames) until `hold` seconds have passed: a person who stays as the clip ends."""
    last: tuple[int, float, ImageArray] | None = None
    gap = 0.0
    for frame in frames:
        if last is not None:
            gap = frame[1] - last[1]
        last = frame
        yield frame
    interval = 1.0 / fps if fps > 0 else gap
    if last is None or interval <= 0:
        return
    number, stamp, image = last
    for k in range(1, round(hold / interval) + 1):
        yield number + k, stamp + k * interval, image
