"""The phantom filter: a pose is reported only once it has shown it is a person.

Evidence a real person gives and a chair does not (measured on real footage, see
docs/events-people.md): pixels move inside their box. A tracked pose (by its id)
counts once `motion_frames` frames showed at least `moving_fraction` of its box
moving; from then on it counts for as long as the tracker keeps its id, so a
person who then stands, sits or lies still stays counted. Motion inside another
counted person's box is theirs, not evidence for a pose overlapping them, and a
frame where most of the image changed (lights, a camera cut) is no evidence.

The tracker can lose a person (a fall turns the body fast) and find them again
under a new id, lying still: a new id that appears where a counted person was lost
within `inherit_seconds` counts at once. Decisions rest only on evidence that a
real person accumulates, never on a score a phantom can have too.

A pose without an id (a still image: no time, no tracking) is passed on as it is.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from posed.people.config import PhantomConfig
from posed.people.motion import MAX_KEPT, Box, MotionMap
from posed.types import ImageArray, Pose

MAX_TRACKS = 1000  # ids remembered at once; the longest-unseen go first


@dataclass(slots=True)
class _Track:
    first_seen: float
    last_seen: float
    box: Box
    evidence: int = 0
    counted: bool = False
    # Where it was over the last motion_interval: the motion it made there is its own.
    recent: deque[tuple[float, Box]] = field(default_factory=lambda: deque(maxlen=MAX_KEPT))


class PhantomFilter:
    """Inputs: each frame in time order (timestamp, RGB image) and its tracked poses.
    Output: the poses that are people. One per camera (it keeps the camera's recent frames)."""

    def __init__(self, config: PhantomConfig) -> None:
        self._config = config
        self._motion = MotionMap(
            width=config.motion_width, pixel_threshold=config.pixel_threshold, interval=config.motion_interval
        )
        self._tracks: dict[int, _Track] = {}

    def update(self, timestamp: float, image: ImageArray, poses: Sequence[Pose]) -> list[Pose]:
        if not self._config.enabled:
            return list(poses)
        self._motion.update(timestamp, image)
        present = {pose.id for pose in poses if pose.id is not None}
        for pose in poses:
            if pose.id is not None and pose.id not in self._tracks:
                self._tracks[pose.id] = _Track(timestamp, timestamp, pose.box)
                self._inherit(pose.id, timestamp, present)
        for pose in poses:
            if pose.id is not None:
                self._seen(self._tracks[pose.id], timestamp, pose.box)
        counted_boxes = self._explained(timestamp)
        usable = self._motion.scene_fraction <= self._config.scene_motion_limit
        kept: list[Pose] = []
        for pose in poses:
            if pose.id is None:
                kept.append(pose)
                continue
            track = self._tracks[pose.id]
            if not track.counted and usable:
                moved = self._motion.moving_fraction(pose.box, counted_boxes)
                if moved is not None and moved >= self._config.moving_fraction:
                    track.evidence += 1
                    track.counted = track.evidence >= self._config.motion_frames
            if track.counted:
                kept.append(pose)
        self._forget(timestamp)
        return kept

    def _seen(self, track: _Track, now: float, box: Box) -> None:
        track.last_seen, track.box = now, box
        recent = track.recent
        recent.append((now, box))
        while len(recent) > 1 and now - recent[1][0] >= self._config.motion_interval:
            recent.popleft()

    def _explained(self, now: float) -> list[Box]:
        """Boxes of counted people, now and back to the compared frame (where a person
        walked from also changed): motion there is theirs."""
        horizon = self._config.motion_interval
        return [
            box
            for track in self._tracks.values()
            if track.counted and now - track.last_seen <= horizon
            for _, box in track.recent
        ]

    def counted(self, person: int) -> bool | None:
        """Whether a tracked id counts as a person (None: not tracked)."""
        track = self._tracks.get(person)
        return None if track is None else track.counted

    def _inherit(self, person: int, now: float, present: set[int]) -> None:
        """A new id where a counted person was just lost takes over their standing."""
        seconds = self._config.inherit_seconds
        if seconds <= 0:
            return
        new = self._tracks[person]
        for other_id, other in self._tracks.items():
            if (
                other_id != person
                and other.counted
                and other_id not in present
                and now - other.last_seen <= seconds
                and _touches(new.box, _grown(other.box, self._config.inherit_margin))
            ):
                new.counted = True
                return

    def _forget(self, now: float) -> None:
        """Drop ids unseen for longer than anything still needs them (bounded memory)."""
        keep = max(self._config.inherit_seconds, self._config.motion_interval)
        for person in [p for p, t in self._tracks.items() if now - t.last_seen > keep]:
            del self._tracks[person]
        while len(self._tracks) > MAX_TRACKS:
            oldest = min(self._tracks, key=lambda p: self._tracks[p].last_seen)
            del self._tracks[oldest]


def _grown(box: Box, margin: float) -> Box:
    x, y, w, h = box
    return (x - w * margin, y - h * margin, w * (1 + 2 * margin), h * (1 + 2 * margin))


def _touches(a: Box, b: Box) -> bool:
    """Whether two boxes overlap (touching edges count)."""
    return a[0] <= b[0] + b[2] and b[0] <= a[0] + a[2] and a[1] <= b[1] + b[3] and b[1] <= a[1] + a[3]
