"""Frame-to-frame pose tracking: which of this frame's poses is which remembered person.

Modelled on tfjs pose-detection's Tracker: tracks older than `max_age` are
dropped first, then poses are linked greedily, most confident first, each to
the free track it is most similar to if that reaches `min_similarity`; the
others start new tracks with new ids. Finally only the `max_tracks` most
recently seen tracks are kept.

One addition to tfjs: with `predict_motion`, a track is compared at where
its recent velocity puts it now, not where it was last seen. tfjs's defaults
suit MoveNet at 30 fps; at the 5-10 fps of a home camera, or after a few
missed frames, a walking person has moved by about their own width, and the
unshifted similarity drops to zero (measured on vtest.avi, see docs/people.md).

Track state lives in arrays, so similarity is one NumPy expression per frame.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from posed.tracking.config import TrackerOptions
from posed.tracking.ids import IdSource
from posed.tracking.similarity import Array, box_similarity, keypoint_similarity

VELOCITY_BLEND = 0.5  # weight of the newest displacement in a track's velocity


class PoseTracker:
    """Gives each pose of a frame its person id. Keypoints are normalised to the image (0..1)."""

    def __init__(self, options: TrackerOptions, ids: IdSource) -> None:
        self.options = options
        self._ids = ids
        self._falloff = np.asarray(options.keypoint_falloff, dtype=np.float64)
        self._threshold = options.similarity_threshold
        self._latest: float | None = None
        keypoints = len(options.keypoint_falloff)
        self._track_ids = np.zeros(0, dtype=np.int64)
        self._last_seen = np.zeros(0, dtype=np.float64)
        self._keypoints = np.zeros((0, keypoints, 3), dtype=np.float64)
        self._boxes = np.zeros((0, 4), dtype=np.float64)
        self._velocity = np.zeros((0, 2), dtype=np.float64)  # box centre, normalised units per second
        self._moving = np.zeros(0, dtype=bool)  # has a velocity: linked at least once

    @property
    def track_ids(self) -> list[int]:
        """Ids of the people remembered now, most recently seen first."""
        return [int(v) for v in self._track_ids]

    def reset(self) -> None:
        """Forget every track; ids already handed out are still never handed out again."""
        self._latest = None
        self._select(np.zeros(self._track_ids.shape[0], dtype=bool))

    def fresh_ids(self, count: int) -> list[int]:
        """New ids for poses that are not tracked (a still image)."""
        return [self._ids.take() for _ in range(count)]

    def update(
        self,
        keypoints: npt.NDArray[np.floating],
        scores: npt.NDArray[np.floating],
        timestamp: float,
        boxes: npt.NDArray[np.floating] | None = None,
    ) -> list[int]:
        """Ids for poses (P, K, 3: normalised x, y, score) with pose scores (P,), seen at `timestamp` s.

        `boxes` (P, 4: normalised xmin, ymin, xmax, ymax) are the model's own boxes where it
        outputs them (MoveNet MultiPose); otherwise each pose's box is the one around its keypoints.
        """
        if self._latest is not None and timestamp < self._latest:
            # Time went backwards (a recording started over): ages would be negative
            # and stale tracks would look fresh forever.
            self.reset()
        self._latest = timestamp
        self._select(timestamp - self._last_seen <= self.options.max_age)
        points = np.asarray(keypoints, dtype=np.float64)
        boxes = _boxes(points) if boxes is None else np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        elapsed = timestamp - self._last_seen
        shift = self._velocity * elapsed[:, None] if self.options.predict_motion else 0.0 * self._velocity
        assigned = self._link(self._similarity(points, boxes, shift), np.asarray(scores, dtype=np.float64))
        count = points.shape[0]
        ids = np.empty(count, dtype=np.int64)
        linked = assigned >= 0
        rows = assigned[linked]
        ids[linked] = self._track_ids[rows]
        self._track_velocity(rows, boxes[linked], elapsed[rows])
        self._last_seen[rows] = timestamp
        self._keypoints[rows] = points[linked]
        self._boxes[rows] = boxes[linked]
        new = np.flatnonzero(~linked)
        ids[new] = self.fresh_ids(new.size)
        self._append(ids[new], timestamp, points[new], boxes[new])
        self._select(np.argsort(-self._last_seen, kind="stable")[: self.options.max_tracks])
        return [int(v) for v in ids]

    def _link(self, similarity: Array, scores: Array) -> npt.NDArray[np.int64]:
        """Track row of each pose, or -1: greedy, most confident pose first, as tfjs does."""
        assigned = np.full(similarity.shape[0], -1, dtype=np.int64)
        free = np.ones(similarity.shape[1], dtype=bool)
        # Stable: equal scores keep the decoder's order.
        for pose in np.argsort(-scores, kind="stable").tolist():
            candidates = np.where(free & (similarity[pose] >= self._threshold), similarity[pose], -1.0)
            if candidates.size == 0 or candidates.max() < 0.0:
                continue
            track = int(np.argmax(candidates))  # the first of equals, as tfjs's strict '>' keeps it
            free[track] = False
            assigned[pose] = track
        return assigned

    def _similarity(self, points: Array, boxes: Array, shift: Array) -> Array:
        if self.options.type == "bounding_box":
            return box_similarity(boxes, self._boxes + np.tile(shift, 2))
        predicted = self._keypoints.copy()
        predicted[:, :, :2] += shift[:, None, :]
        return keypoint_similarity(
            points,
            predicted,
            self._falloff,
            confidence_threshold=self.options.keypoint_confidence_threshold,
            min_keypoints=self.options.min_number_of_keypoints,
        )

    def _track_velocity(self, rows: npt.NDArray[np.int64], boxes: Array, elapsed: Array) -> None:
        """Blend each linked track's newest box-centre displacement into its velocity."""
        moved = elapsed > 0
        rows, boxes, elapsed = rows[moved], boxes[moved], elapsed[moved]
        observed = (_centres(boxes) - _centres(self._boxes[rows])) / elapsed[:, None]
        blend = np.where(self._moving[rows], VELOCITY_BLEND, 1.0)[:, None]
        self._velocity[rows] = blend * observed + (1.0 - blend) * self._velocity[rows]
        self._moving[rows] = True

    def _append(self, ids: npt.NDArray[np.int64], timestamp: float, points: Array, boxes: Array) -> None:
        count = ids.shape[0]
        self._track_ids = np.concatenate([self._track_ids, ids])
        self._last_seen = np.concatenate([self._last_seen, np.full(count, timestamp)])
        self._keypoints = np.concatenate([self._keypoints, points])
        self._boxes = np.concatenate([self._boxes, boxes])
        self._velocity = np.concatenate([self._velocity, np.zeros((count, 2))])
        self._moving = np.concatenate([self._moving, np.zeros(count, dtype=bool)])

    def _select(self, which: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> None:
        self._track_ids = self._track_ids[which]
        self._last_seen = self._last_seen[which]
        self._keypoints = self._keypoints[which]
        self._boxes = self._boxes[which]
        self._velocity = self._velocity[which]
        self._moving = self._moving[which]


def _boxes(points: Array) -> Array:
    """xmin, ymin, xmax, ymax around every keypoint of each pose, as the published `box` is."""
    if points.shape[0] == 0:
        return np.zeros((0, 4))
    clipped = np.clip(points[:, :, :2], 0.0, 1.0)
    return np.concatenate([clipped.min(axis=1), clipped.max(axis=1)], axis=1)


def _centres(boxes: Array) -> Array:
    centres: Array = 0.5 * (boxes[:, :2] + boxes[:, 2:])
    return centres
