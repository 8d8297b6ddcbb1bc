"""The worker side of the preview: what each processed frame leaves for the page.

The daemon's workers call `observe` after publishing each frame. Without a viewer
of that camera it returns at once (one set lookup), so the page costs nothing while
nobody looks. With a viewer the frame and its poses replace the previous ones in a
one-entry slot per camera: nothing queues, nothing is copied or encoded on the
worker's thread, and a slow viewer only ever sees fewer frames.

This is not `posed.cameras.slot.FrameSlot`: that one hands each frame to exactly one
taker and carries frames only, while here every viewer may read the same newest
frame, with its poses, any number of times.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from posed.evidence.config import Privacy
from posed.types import Frame, Pose

EVENTS_KEPT = 50  # per camera, for the page's side list


@dataclass(frozen=True, slots=True)
class Processed:
    """One processed frame as the page draws it."""

    seq: int  # increases with every observed frame, across cameras
    frame: Frame
    poses: tuple[Pose, ...]


@dataclass(frozen=True, slots=True)
class CameraView:
    """What the page shows of a camera besides its frames: its configured zones, and how much
    of its picture it may show."""

    zones: Mapping[str, tuple[tuple[float, float], ...]]  # name -> normalized (x, y) points
    privacy: Privacy = "full"


class EvidenceView(Protocol):
    """The stored snapshots and clips the page's timeline reads (posed.evidence.store)."""

    def entries(
        self, camera: str | None = None, kind: str | None = None, limit: int = 50
    ) -> Sequence[Any]: ...

    def path(self, entry_id: str, suffix: Any) -> Path | None: ...


class PreviewTap:
    """Latest processed frame per watched camera, recent events, and the stats the page shows.

    Shared by the workers (writers) and the preview server's thread (reader). It
    outlives server restarts, so a SIGHUP that restarts the page leaves the workers alone.
    """

    def __init__(self, events_kept: int = EVENTS_KEPT) -> None:
        self._lock = threading.Lock()
        self._viewers: dict[str, int] = {}
        # Replaced as a whole, never mutated: `observe` reads it without the lock.
        self._watched: frozenset[str] = frozenset()
        self._latest: dict[str, Processed] = {}
        self._seq = 0
        self._events_kept = events_kept
        self._events: dict[str, deque[Mapping[str, Any]]] = {}
        self._occupancy: dict[str, Mapping[str, int]] = {}
        self._cameras: Mapping[str, CameraView] = {}
        self._stats: Mapping[str, Any] = {}
        self._evidence: EvidenceView | None = None

    # -- the workers' side -----------------------------------------------------------------

    def observe(self, camera: str, frame: Frame, poses: Sequence[Pose]) -> None:
        """A processed frame; kept only while someone watches `camera`."""
        if camera not in self._watched:
            return
        with self._lock:
            self._seq += 1
            self._latest[camera] = Processed(self._seq, frame, tuple(poses))

    def observe_events(
        self,
        camera: str,
        events: Sequence[Mapping[str, Any]],
        occupancy: Mapping[str, int] | None = None,
    ) -> None:
        """The events analyzers raised on a frame (JSON-ready), and each zone's people count.

        Kept whether or not anyone watches (they are rare), so the side list is not
        empty when a viewer arrives.
        """
        if not events and occupancy is None:
            return
        with self._lock:
            if events:
                kept = self._events.setdefault(camera, deque(maxlen=self._events_kept))
                kept.extend(events)
            if occupancy is not None:
                self._occupancy[camera] = dict(occupancy)

    # -- the daemon's side -----------------------------------------------------------------

    def set_cameras(self, cameras: Mapping[str, CameraView]) -> None:
        with self._lock:
            self._cameras = dict(cameras)
            for gone in set(self._events) - set(cameras):
                del self._events[gone]
            for gone in set(self._occupancy) - set(cameras):
                del self._occupancy[gone]

    def set_evidence(self, evidence: EvidenceView | None) -> None:
        """The store of snapshots and clips the timeline shows (None: snapshots are off)."""
        self._evidence = evidence

    @property
    def evidence(self) -> EvidenceView | None:
        return self._evidence

    def set_stats(self, stats: Mapping[str, Any]) -> None:
        """The JSON document the page and `/api/stats` show (what `stats` publishes)."""
        self._stats = stats

    # -- the server's side -----------------------------------------------------------------

    @contextmanager
    def watch(self, camera: str) -> Iterator[None]:
        """Frames of `camera` are kept while at least one viewer is inside this block."""
        with self._lock:
            self._viewers[camera] = self._viewers.get(camera, 0) + 1
            self._watched = frozenset(self._viewers)
        try:
            yield
        finally:
            with self._lock:
                left = self._viewers[camera] - 1
                if left:
                    self._viewers[camera] = left
                else:
                    del self._viewers[camera]
                    self._latest.pop(camera, None)  # no frame held for nobody
                self._watched = frozenset(self._viewers)

    @property
    def watched(self) -> frozenset[str]:
        return self._watched

    def latest(self, camera: str, after: int) -> Processed | None:
        """The newest processed frame of `camera` if it is newer than sequence number `after`."""
        with self._lock:
            item = self._latest.get(camera)
        return item if item is not None and item.seq > after else None

    def events(self, camera: str) -> list[Mapping[str, Any]]:
        with self._lock:
            return list(self._events.get(camera, ()))

    def occupancy(self, camera: str) -> Mapping[str, int]:
        with self._lock:
            return self._occupancy.get(camera, {})

    def cameras(self) -> Mapping[str, CameraView]:
        with self._lock:
            return self._cameras

    def stats(self) -> Mapping[str, Any]:
        return self._stats
