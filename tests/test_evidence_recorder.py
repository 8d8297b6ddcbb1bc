"""The evidence recorder: which events get a snapshot, the clip of a fall, and its bounds.

Real rendering, JPEG, disk and PyAV; the sink is the test's (the MQTT side is covered
by tests/test_evidence_daemon.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from posed.evidence.config import ClipsConfig, SnapshotsConfig
from posed.evidence.recorder import MAX_PENDING, EvidenceRecorder, ring_frames
from posed.evidence.ring import EncodedFrame, JpegRing
from posed.keypoints import COCO_17
from posed.types import Frame, Pose

FALL = {"schema_version": 1, "type": "fall", "person": 1, "timestamp": 0.0, "state": "detected", "zone": None}


class Sink:
    def __init__(self, gate: threading.Event | None = None) -> None:
        self.sent: list[tuple[str, str, bytes]] = []
        self.gate = gate
        self.entered = threading.Event()

    def publish_snapshot(self, camera: str, kind: str, jpeg: bytes) -> None:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(30)
        self.sent.append((camera, kind, jpeg))


def settings(tmp_path: Path, **changes: Any) -> SnapshotsConfig:
    return SnapshotsConfig(enabled=True, directory=tmp_path, min_free_megabytes=0, **changes)


NOW = time.time()


def frame(number: int, wall: float) -> Frame:
    """Frame `number`, captured `wall` seconds after the test module started (or at `wall` if later)."""
    rng = np.random.default_rng(number)
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    wall = wall if wall > NOW else NOW + wall
    return Frame(image, number, monotonic=wall, wall=wall)


def pose() -> Pose:
    keypoints = np.column_stack([np.linspace(40, 120, 17), np.linspace(20, 100, 17), np.full(17, 0.9)])
    return Pose(0.9, keypoints.astype(np.float32), COCO_17, (40.0, 20.0, 80.0, 80.0), id=1)


def wait(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)


def test_events_of_the_configured_kinds_name_their_snapshot(tmp_path: Path) -> None:
    sink = Sink()
    with EvidenceRecorder(sink, settings(tmp_path), {"hall": "full"}) as recorder:
        events: list[Mapping[str, Any]] = [
            FALL,
            {**FALL, "state": "cleared", "reason": "upright"},  # a cleared fall: no picture
            {"type": "gesture", "person": 1, "gesture": "hand_raised"},
            {"type": "zone", "person": 1, "zone": "bed", "state": "enter"},  # not in the default kinds
        ]
        out = recorder.observe("hall", frame(1, 1000.0), [pose()], events)
        assert [("snapshot" in e) for e in out] == [True, False, True, False]
        assert [e for e in out if "snapshot" not in e] == [events[1], events[3]]
        assert recorder.observe("elsewhere", frame(2, 1000.0), [], [FALL]) == [FALL]  # unknown camera
        wait(lambda: len(sink.sent) == 2)
    fall = out[0]["snapshot"]
    stored = Path(fall["path"])
    assert stored.read_bytes() == sink.sent[0][2] and sink.sent[0][:2] == ("hall", "fall")
    picture = cv2.imdecode(np.frombuffer(stored.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape == (120, 160, 3)
    assert "clip" not in fall  # clips are off by default
    thumb = cv2.imdecode(
        np.frombuffer(stored.with_suffix(".thumb.jpg").read_bytes(), np.uint8), cv2.IMREAD_COLOR
    )
    assert thumb is not None and thumb.shape == (120, 160, 3)  # no wider than 192: as it was


def test_a_busy_recorder_never_holds_up_the_caller_and_says_which_events_have_no_picture(
    tmp_path: Path,
) -> None:
    gate = threading.Event()
    sink = Sink(gate)
    recorder = EvidenceRecorder(sink, settings(tmp_path), {"hall": "full"})
    with recorder:
        recorder.observe("hall", frame(0, 1000.0), [pose()], [FALL])
        sink.entered.wait(10)  # the recorder's thread is now stuck in the sink
        out = []
        for n in range(MAX_PENDING + 5):
            out += recorder.observe("hall", frame(n, 1000.0 + n), [pose()], [FALL])
        assert sum("snapshot" in e for e in out) == MAX_PENDING
        assert recorder.counters.dropped == 5
        gate.set()
    assert len(sink.sent) == MAX_PENDING + 1  # close() finished every snapshot that was promised
    assert recorder.store.count == MAX_PENDING + 1


def test_a_fall_gets_a_clip_from_before_to_after_it(tmp_path: Path) -> None:
    sink = Sink()
    clips = ClipsConfig(enabled=True, before_seconds=1.0, after_seconds=1.0, fps=5.0)
    with EvidenceRecorder(sink, settings(tmp_path, clips=clips), {"hall": "full"}) as recorder:
        start = time.time()
        fall: Mapping[str, Any] = {}
        for n in range(40):  # 4 s at 10 fps, the fall at 2 s
            wall = start + n * 0.1
            events = [FALL] if n == 20 else []
            out = recorder.observe("hall", frame(n, wall), [pose()], events)
            if events:
                fall = out[0]
            time.sleep(0.02)  # let the recorder's thread keep up, as a camera's pace would
        clip = Path(fall["snapshot"]["clip"])
        wait(clip.is_file)
    capture = cv2.VideoCapture(str(clip))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    assert 8 <= count <= 11, count  # 2 s at 5 fps (+ the fall's own frame)
    entry = recorder.store.entries()[0]
    assert entry.files.keys() == {"jpg", "thumb.jpg", "mp4"}


def test_the_ring_holds_at_most_its_frames_and_bytes() -> None:
    ring = JpegRing(max_frames=10, max_bytes=5_000)
    for n in range(1000):
        ring.push(EncodedFrame(float(n), b"j" * (100 + n % 900)))
        assert len(ring) <= 10 and ring.bytes <= 5_000
        assert ring.bytes == sum(len(f.jpeg) for f in ring.since(0.0))
    assert ring.since(995.0)[0].stamp == 995.0 and ring.newest == 999.0


def test_a_camera_ring_is_bounded_by_the_clip_length_and_the_configured_memory(tmp_path: Path) -> None:
    clips = ClipsConfig(enabled=True, before_seconds=2, after_seconds=2, fps=5, max_buffer_megabytes=0.5)
    config = settings(tmp_path, clips=clips)
    assert ring_frames(config) == 21
    with EvidenceRecorder(Sink(), config, {"hall": "full"}) as recorder:
        ring = recorder._cameras["hall"].ring
        assert ring is not None and ring.max_frames == 21 and ring.max_bytes == 500_000
        start = time.time()
        for n in range(100):
            recorder.observe("hall", frame(n, start + n * 0.2), [pose()], [])
            time.sleep(0.01)
        wait(lambda: len(ring) >= 21)
        assert len(ring) == 21 and ring.bytes <= 500_000


def test_old_events_expire_while_nothing_happens(tmp_path: Path, monkeypatch: Any) -> None:
    import posed.evidence.recorder as recorder_module

    monkeypatch.setattr(recorder_module, "EXPIRE_PERIOD", 0.2)
    config = settings(tmp_path, max_age_days=0.0001)  # 8.64 s
    with EvidenceRecorder(Sink(), config, {"hall": "full"}) as recorder:
        old = recorder.store.new_id("hall", "fall", time.time() - 8.0)
        assert recorder.store.put(old, FALL, {"jpg": b"jpeg"})
        assert recorder.store.count == 1
        wait(lambda: recorder.store.count == 0, timeout=10)  # no event, no frame: still expired
    assert not (tmp_path / f"{old}.jpg").exists()


def test_a_file_read_faster_than_real_time_gets_clips_on_its_own_clock_and_a_loop_cuts_them(
    tmp_path: Path,
) -> None:
    clips = ClipsConfig(enabled=True, before_seconds=1.0, after_seconds=5.0, fps=5.0)
    with EvidenceRecorder(Sink(), settings(tmp_path, clips=clips), {"file": "full"}) as recorder:
        fall: Mapping[str, Any] = {}
        for n in range(31):  # 3 s of a 10 fps file, read in a moment; the fall at 2 s
            media = frame(n, 0.0)
            media = Frame(media.image, n, media.monotonic, media.wall, media_time=n * 0.1)
            out = recorder.observe("file", media, [pose()], [FALL] if n == 20 else [])
            if n == 20:
                fall = out[0]
            time.sleep(0.01)
        ring = recorder._cameras["file"].ring
        assert ring is not None
        wait(lambda: ring.newest is not None and ring.newest > 2.9)
        assert not Path(fall["snapshot"]["clip"]).exists()  # 5 s after the fall have not passed
        # The file loops: its clock starts again at 0, the clip is cut with what there is.
        restart = frame(99, 0.0)
        recorder.observe(
            "file", Frame(restart.image, 99, restart.monotonic, restart.wall, media_time=0.0), [], []
        )
        wait(Path(fall["snapshot"]["clip"]).is_file)
        assert ring.newest == 0.0 and len(ring) == 1  # no frame of the first pass is left
    capture = cv2.VideoCapture(fall["snapshot"]["clip"])
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    assert 7 <= count <= 11, count  # 1 s before to 1 s after (where the pass ended) at 5 fps
