"""Each frame's poses and events on the offline path that `posed estimate --events` and
`posed evaluate` share: the estimator (tracked and smoothed, as in the daemon), the people
stage, then the analyzers on the frame's media time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from posed.estimator import PoseEstimator
from posed.events.engine import EventEngine
from posed.events.event import Event
from posed.people.phantoms import PhantomFilter
from posed.types import ImageArray, Pose


@dataclass(frozen=True, slots=True)
class FramePoses:
    """One frame's poses, on the frame's media time, with the image size the analyzers need."""

    number: int
    timestamp: float
    width: int
    height: int
    poses: list[Pose]


def frame_poses(
    frames: Iterable[tuple[int, float, ImageArray]], estimator: PoseEstimator, people: PhantomFilter
) -> Iterator[FramePoses]:
    """The estimator (tracked and smoothed, as in the daemon), then the people stage (phantoms
    dropped), on each frame, in order."""
    for number, stamp, image in frames:
        poses = people.update(stamp, image, estimator.estimate(image, stamp))
        yield FramePoses(number, stamp, int(image.shape[1]), int(image.shape[0]), poses)


def frame_events(seen: FramePoses, engine: EventEngine) -> list[Event]:
    """The analyzers on one frame's poses: what `posed estimate --events` prints for it."""
    return engine.update(seen.timestamp, seen.poses, seen.width, seen.height)
