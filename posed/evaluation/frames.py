"""Each frame's poses and events on the offline path that `posed estimate --events` and
`posed evaluate` share: the estimator (tracked and smoothed, as in the daemon), the people
stage, then the analyzers on the frame's media time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from posed.estimator_contract import PoseEstimator
from posed.events.engine import EventEngine
from posed.events.event import Event
from posed.gate.config import MotionGateConfig
from posed.gate.loop import GatedEstimation
from posed.gate.stage import MotionGate
from posed.people.phantoms import PhantomFilter
from posed.types import Frame, ImageArray, Pose


@dataclass(frozen=True, slots=True)
class FramePoses:
    """One frame's poses, on the frame's media time, with the image size the analyzers need."""

    number: int
    timestamp: float
    width: int
    height: int
    poses: list[Pose]


def frame_poses(
    frames: Iterable[tuple[int, float, ImageArray]],
    estimator: PoseEstimator,
    people: PhantomFilter,
    *,
    no_gate: bool = False,
    in_progress: Callable[[], bool] | None = None,
) -> Iterator[FramePoses]:
    """The estimator (tracked and smoothed, as in the daemon) behind the motion gate, then the
    people stage (phantoms dropped), on each frame in order; `in_progress()` (the analyzers have
    a fall in progress) keeps the gate open. A frame the gate skips has no poses, as in the daemon."""
    gate = gated(estimator, no_gate=no_gate, in_progress=in_progress)
    for number, stamp, image in frames:
        (done,) = gate.push(file_frame(number, stamp, image))
        poses = people.update(stamp, image, done.poses)
        yield FramePoses(number, stamp, int(image.shape[1]), int(image.shape[0]), poses)


def frame_events(seen: FramePoses, engine: EventEngine) -> list[Event]:
    """The analyzers on one frame's poses: what `posed estimate --events` prints for it."""
    return engine.update(seen.timestamp, seen.poses, seen.width, seen.height)


def gated(
    estimator: PoseEstimator, *, no_gate: bool, in_progress: Callable[[], bool] | None = None
) -> GatedEstimation:
    """A video's frames through the motion gate (default settings) to `estimator`, one at a time."""
    gate = MotionGate(MotionGateConfig(enabled=not no_gate))
    if in_progress is None:
        return GatedEstimation(estimator, gate, overlap=False)
    return GatedEstimation(estimator, gate, overlap=False, in_progress=in_progress)


def file_frame(number: int, stamp: float, image: ImageArray) -> Frame:
    """A frame of a file, on the file's own clock."""
    return Frame(image, number, stamp, stamp, media_time=stamp)
