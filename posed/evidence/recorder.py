"""The evidence recorder: snapshots and fall clips, made on one thread of their own.

The workers' event stage calls `observe` on every processed frame. On the worker's
thread it only decides: which events get a snapshot (their id goes into the event,
so the published event names its picture), and whether the frame is due for the
clip ring. Everything that costs (privacy, drawing, JPEG, disk, MP4) happens on the
recorder's thread, so a snapshot never delays the next inference.

Bounds: at most MAX_PENDING snapshots wait (an event past that gets no snapshot and
says so by having no `snapshot` field); one clip frame waits per camera (a newer one
replaces it); each camera's ring holds `(before + after) * fps` frames and at most
`clips.max_buffer_megabytes`; one clip per camera is recorded at a time.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol

import numpy as np

from posed.evidence.clip import ClipError, write_clip
from posed.evidence.config import Privacy, SnapshotKind, SnapshotsConfig
from posed.evidence.privacy import encode_jpeg, render
from posed.evidence.ring import EncodedFrame, JpegRing
from posed.evidence.store import EvidenceStore, StoreLimits, Suffix
from posed.types import Frame, ImageArray, Pose

log = logging.getLogger(__name__)

MAX_PENDING = 4  # snapshots waiting (each holds its raw frame), all cameras together
CLIP_MAX_WIDTH = 640  # clip frames are scaled down to this width
CLIP_QUALITY = 70
THUMB_WIDTH = 192  # the timeline's thumbnails: a few kB each, so a page of 100 loads fast on a Pi
THUMB_QUALITY = 70
CLIP_GRACE = 2.0  # seconds without a frame before a camera's clip is cut with the frames there are
EXPIRE_PERIOD = 60.0  # seconds between applications of the age bound


def default_directory(env: Mapping[str, str] | None = None) -> Path:
    """$STATE_DIRECTORY/snapshots under systemd, else $XDG_STATE_HOME/posed/snapshots."""
    env = os.environ if env is None else env
    if env.get("STATE_DIRECTORY"):
        return Path(env["STATE_DIRECTORY"].split(":")[0]) / "snapshots"
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "posed" / "snapshots"


def store_directory(config: SnapshotsConfig, env: Mapping[str, str] | None = None) -> Path:
    return config.directory if config.directory is not None else default_directory(env)


def snapshot_kind(event: Mapping[str, Any]) -> SnapshotKind | None:
    """The snapshot kind an event counts as, or None for an event that never gets one."""
    kind = event.get("type")
    state = event.get("state")
    if kind == "fall":
        return "fall" if state == "detected" else None
    if kind == "gesture":
        return "gesture"
    if kind == "zone":
        return "zone" if state in ("enter", "loitering") else None
    if kind == "set":
        return "rep"
    return None


def thumbnail(picture: ImageArray) -> ImageArray:
    """The picture at most THUMB_WIDTH wide (already private and drawn)."""
    import cv2

    height, width = picture.shape[:2]
    if width <= THUMB_WIDTH:
        return picture
    size = (THUMB_WIDTH, max(round(height * THUMB_WIDTH / width), 1))
    return np.asarray(cv2.resize(picture, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def ring_frames(config: SnapshotsConfig) -> int:
    clips = config.clips
    return math.ceil((clips.before_seconds + clips.after_seconds) * clips.fps) + 1


class SnapshotSink(Protocol):
    def publish_snapshot(self, camera: str, kind: str, jpeg: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class _Snapshot:
    entry_id: str
    camera: str
    kind: SnapshotKind
    frame: Frame
    poses: tuple[Pose, ...]
    event: Mapping[str, Any]
    privacy: Privacy


@dataclass(slots=True)
class _Clip:
    entry_id: str
    start: float  # on the camera's clock (Frame.tracking_time)
    end: float


@dataclass(slots=True)
class _Camera:
    privacy: Privacy
    ring: JpegRing | None
    # The camera's clock (Frame.tracking_time): media time for a file read faster than real
    # time, so its clips span the file's seconds, else the capture's monotonic time.
    next_frame_at: float = -math.inf  # when the next clip frame is due
    last_seen: float = 0.0  # time.monotonic() of the camera's last frame
    waiting: tuple[Frame, tuple[Pose, ...]] | None = None
    clip: _Clip | None = None


@dataclass(frozen=True, slots=True)
class _Cut:
    camera: str
    state: _Camera
    clip: _Clip


@dataclass(slots=True)
class RecorderCounters:
    snapshots: int = 0
    dropped: int = 0  # events past MAX_PENDING: no snapshot
    failed: int = 0  # snapshots or clips that could not be written
    clips: int = 0
    render_ms: deque[float] = field(default_factory=lambda: deque(maxlen=100))


class EvidenceRecorder:
    """Owns the store and the thread. A context manager; `configure` applies a (re)loaded config."""

    def __init__(self, sink: SnapshotSink, config: SnapshotsConfig, privacy: Mapping[str, Privacy]) -> None:
        self._sink = sink
        self.config = config
        self.store = EvidenceStore(
            store_directory(config),
            StoreLimits(
                max_count=config.max_count,
                max_bytes=round(config.max_megabytes * 1e6),
                max_age=config.max_age_days * 86400,
                min_free_bytes=round(config.min_free_megabytes * 1e6),
            ),
        )
        self._kinds = frozenset(config.kinds)
        self._cameras: dict[str, _Camera] = {}
        self._lock = threading.Condition()
        self._pending: deque[_Snapshot] = deque()
        self._stop = False
        self._next_expiry = 0.0  # at start, then every EXPIRE_PERIOD
        self._thread = threading.Thread(target=self._run, name="evidence", daemon=True)
        self.counters = RecorderCounters()
        self.set_cameras(privacy)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.store.open()
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Finish the snapshots waiting (a fall's picture matters), then stop."""
        with self._lock:
            self._stop = True
            self._lock.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("snapshots: the recorder did not finish within %.1f s; leaving it", timeout)
        self.store.close()

    def __enter__(self) -> EvidenceRecorder:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def set_cameras(self, privacy: Mapping[str, Privacy]) -> None:
        """The cameras and their privacy; a camera whose privacy changed starts an empty ring."""
        clips = self.config.clips
        with self._lock:
            fresh: dict[str, _Camera] = {}
            for name, mode in privacy.items():
                current = self._cameras.get(name)
                if current is not None and current.privacy == mode:
                    fresh[name] = current
                    continue
                ring = None
                if clips.enabled:
                    ring = JpegRing(ring_frames(self.config), round(clips.max_buffer_megabytes * 1e6))
                fresh[name] = _Camera(mode, ring)
            self._cameras = fresh

    # -- the workers' side -----------------------------------------------------------------

    def observe(
        self, camera: str, frame: Frame, poses: Sequence[Pose], events: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """The events, those with a snapshot carrying a `snapshot` field; returns at once."""
        state = self._cameras.get(camera)
        if state is None:
            return list(events)
        out: list[Mapping[str, Any]] = []
        with self._lock:
            state.last_seen = time.monotonic()
            stamp = frame.tracking_time
            period = 1.0 / self.config.clips.fps
            # Due, or the clock went back (a looping file started again).
            if state.ring is not None and not state.next_frame_at - period <= stamp < state.next_frame_at:
                state.next_frame_at = stamp + period
                state.waiting = (frame, tuple(poses))
                self._lock.notify_all()
            for event in events:
                kind = snapshot_kind(event)
                if kind is None or kind not in self._kinds:
                    out.append(event)
                    continue
                if len(self._pending) >= MAX_PENDING:
                    self.counters.dropped += 1
                    log.warning("snapshots: %d waiting; no snapshot for this %s event", MAX_PENDING, kind)
                    out.append(event)
                    continue
                entry_id = self.store.new_id(camera, kind, frame.wall)
                reference: dict[str, Any] = {
                    "id": entry_id,
                    "path": str(self.store.directory / f"{entry_id}.jpg"),
                }
                if kind == "fall" and state.ring is not None and state.clip is None:
                    clips = self.config.clips
                    state.clip = _Clip(entry_id, stamp - clips.before_seconds, stamp + clips.after_seconds)
                    reference["clip"] = str(self.store.directory / f"{entry_id}.mp4")
                published = {**event, "snapshot": reference}
                self._pending.append(
                    _Snapshot(entry_id, camera, kind, frame, tuple(poses), published, state.privacy)
                )
                self._lock.notify_all()
                out.append(published)
        return out

    # -- the recorder's thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                return
            try:
                if isinstance(job, _Snapshot):
                    self._snapshot(job)
                elif isinstance(job, _Cut):
                    self._cut(job)
                elif job == "expire":
                    self.store.expire()
                else:
                    self._clip_frame(*job)
            except Exception as exc:  # the next event must still get its picture
                self.counters.failed += 1
                log.error("snapshots: %s", exc, exc_info=exc)

    def _next_job(
        self,
    ) -> _Snapshot | _Cut | Literal["expire"] | tuple[str, _Camera, Frame, tuple[Pose, ...]] | None:
        """Snapshots first, then clip frames, then clips to cut, then the age bound (every
        EXPIRE_PERIOD, events or not); None once stopped and done."""
        with self._lock:
            while True:
                if self._pending:
                    return self._pending.popleft()
                for name, state in self._cameras.items():
                    if state.waiting is not None:
                        frame, poses = state.waiting
                        state.waiting = None
                        return name, state, frame, poses
                now = time.monotonic()
                for name, state in self._cameras.items():
                    # A camera without frames for CLIP_GRACE (unplugged, end of its file), or a
                    # stop: cut the clip now, with the frames there are.
                    if state.clip is not None and (self._stop or now > state.last_seen + CLIP_GRACE):
                        clip, state.clip = state.clip, None
                        return _Cut(name, state, clip)
                if self._stop:
                    return None
                if time.monotonic() >= self._next_expiry:
                    self._next_expiry = time.monotonic() + EXPIRE_PERIOD
                    return "expire"
                self._lock.wait(0.5)

    def _snapshot(self, job: _Snapshot) -> None:
        started = time.perf_counter()
        picture = render(job.frame.image, job.poses, job.privacy, max_width=self.config.max_width)
        jpeg = encode_jpeg(picture, self.config.quality)
        self.counters.render_ms.append((time.perf_counter() - started) * 1000)
        files: dict[Suffix, bytes] = {
            "jpg": jpeg,
            "thumb.jpg": encode_jpeg(thumbnail(picture), THUMB_QUALITY),
        }
        if self.store.put(job.entry_id, job.event, files):
            self.counters.snapshots += 1
        else:
            self.counters.failed += 1
        self._sink.publish_snapshot(job.camera, job.kind, jpeg)

    def _clip_frame(self, camera: str, state: _Camera, frame: Frame, poses: tuple[Pose, ...]) -> None:
        assert state.ring is not None
        stamp = frame.tracking_time
        with self._lock:
            clip = state.clip
            # The camera's clock went back (a looping file started again): cut what there is,
            # and start the ring afresh so that no old frame joins a later clip.
            restarted = state.ring.newest is not None and stamp < state.ring.newest
            if clip is not None and (restarted or stamp >= clip.end):
                state.clip = None
            else:
                clip = None
        if clip is not None and restarted:
            self._cut(_Cut(camera, state, clip))
        if restarted:
            state.ring.clear()
        picture = render(frame.image, poses, state.privacy, max_width=CLIP_MAX_WIDTH)
        state.ring.push(EncodedFrame(stamp, encode_jpeg(picture, CLIP_QUALITY)))
        if clip is not None and not restarted:
            self._cut(_Cut(camera, state, clip))

    def _cut(self, job: _Cut) -> None:
        ring, clip = job.state.ring, job.clip
        assert ring is not None
        frames = [f for f in ring.since(clip.start) if f.stamp <= clip.end]
        if not frames:
            log.warning("camera %s: no frames for the clip of %s", job.camera, clip.entry_id)
            return
        temp = self.store.temp_path(f"{clip.entry_id}.mp4")
        try:
            write_clip(frames, temp, self.config.clips.fps)
        except ClipError as exc:
            self.counters.failed += 1
            log.error("camera %s: %s", job.camera, exc)
            return
        if self.store.add_file(clip.entry_id, "mp4", temp):
            self.counters.clips += 1
            log.info("camera %s: fall clip %s.mp4 (%d frames)", job.camera, clip.entry_id, len(frames))
