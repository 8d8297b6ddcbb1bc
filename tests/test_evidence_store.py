"""The on-disk store of snapshots and clips keeps its bounds: count, bytes, age, free disk."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import pytest

import posed.evidence.store as store_module
from posed.evidence.store import EvidenceStore, StoreLimits

WIDE = StoreLimits(max_count=10_000, max_bytes=10**12, max_age=1e9, min_free_bytes=0)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def files_on_disk(directory: Path) -> tuple[int, int]:
    """(events, bytes of their pictures and clips) as the disk says."""
    events = len(list(directory.glob("*.json")))
    size = sum(p.stat().st_size for p in directory.iterdir() if p.suffix in (".jpg", ".mp4"))
    return events, size


def put(store: EvidenceStore, clock: Clock, size: int, camera: str = "hall", kind: str = "fall") -> str:
    entry_id = store.new_id(camera, kind, clock.now)
    assert store.put(entry_id, {"type": kind, "person": 1}, {"jpg": os.urandom(size)})
    return entry_id


def test_a_thousand_events_never_exceed_the_count_and_byte_bounds(tmp_path: Path) -> None:
    clock = Clock()
    limits = StoreLimits(max_count=50, max_bytes=200_000, max_age=1e9, min_free_bytes=0)
    with EvidenceStore(tmp_path, limits, clock=clock) as store:
        kept: list[str] = []
        for n in range(1000):
            clock.now += 1.0
            kept.append(put(store, clock, 1000 + (n * 37) % 9000))
            assert store.count <= 50 and store.size <= 200_000, n
            if n % 20 == 0 or n == 999:  # and the disk agrees with the index
                assert files_on_disk(tmp_path) == (store.count, store.size), n
        # The newest are the ones kept, oldest first out.
        assert [e.id for e in store.entries(limit=1000)] == kept[::-1][: store.count]
        assert store.count >= 20  # the byte bound, not a bug, is what limits it


def test_events_older_than_max_age_go(tmp_path: Path) -> None:
    clock = Clock()
    limits = StoreLimits(max_count=100, max_bytes=10**9, max_age=3600, min_free_bytes=0)
    with EvidenceStore(tmp_path, limits, clock=clock) as store:
        first = put(store, clock, 100)
        clock.now += 1800
        second = put(store, clock, 100)
        clock.now += 1801
        store.expire()
        assert [e.id for e in store.entries()] == [second]
        assert not (tmp_path / f"{first}.jpg").exists() and not (tmp_path / f"{first}.json").exists()


def test_the_oldest_go_to_keep_the_disk_free_and_a_new_event_is_refused_when_that_is_not_enough(
    tmp_path: Path,
) -> None:
    clock = Clock()
    disk = {"free": 10_000}

    def free(_: Path) -> int:
        return disk["free"] - sum(p.stat().st_size for p in tmp_path.glob("*.jpg"))

    limits = StoreLimits(max_count=100, max_bytes=10**9, max_age=1e9, min_free_bytes=5_000)
    with EvidenceStore(tmp_path, limits, clock=clock, free=free) as store:
        ids = [put(store, clock, 2_000) for _ in range(2)]
        assert store.count == 2
        put(store, clock, 2_000)  # 4,000 used + 2,000 would leave 4,000 < 5,000: the oldest goes
        assert ids[0] not in [e.id for e in store.entries()] and store.count == 2
        big = store.new_id("hall", "fall", clock.now)
        assert not store.put(big, {"type": "fall"}, {"jpg": b"x" * 6_000})  # room for nothing
        assert store.refused == 1 and not (tmp_path / f"{big}.jpg").exists()
        assert free(tmp_path) >= 5_000


def test_a_restart_finds_the_kept_events_and_drops_half_written_ones(tmp_path: Path) -> None:
    clock = Clock()
    with EvidenceStore(tmp_path, WIDE, clock=clock) as store:
        whole = put(store, clock, 500)
        lost = put(store, clock, 500)
    (tmp_path / f"{lost}.jpg").unlink()  # its picture is gone: the event is dropped
    (tmp_path / ".tmp-interrupted.jpg").write_bytes(b"partial")  # a write a crash interrupted
    (tmp_path / "notes.txt").write_text("not ours")  # left alone
    with EvidenceStore(tmp_path, WIDE, clock=clock) as again:
        assert [e.id for e in again.entries()] == [whole]
        assert again.size == 500
    assert not (tmp_path / ".tmp-interrupted.jpg").exists()
    assert not (tmp_path / f"{lost}.json").exists()
    assert (tmp_path / "notes.txt").exists()
    meta = json.loads((tmp_path / f"{whole}.json").read_text())
    assert meta["camera"] == "hall" and meta["event"] == {"type": "fall", "person": 1}


def test_a_restart_applies_smaller_bounds(tmp_path: Path) -> None:
    clock = Clock()
    with EvidenceStore(tmp_path, WIDE, clock=clock) as store:
        ids = [put(store, clock, 100) for _ in range(10)]
    smaller = StoreLimits(max_count=3, max_bytes=10**9, max_age=1e9, min_free_bytes=0)
    with EvidenceStore(tmp_path, smaller, clock=clock) as store:
        assert [e.id for e in store.entries()] == ids[::-1][:3]
    assert files_on_disk(tmp_path) == (3, 300)


def test_only_ids_the_store_holds_have_paths(tmp_path: Path) -> None:
    clock = Clock()
    with EvidenceStore(tmp_path, WIDE, clock=clock) as store:
        entry_id = put(store, clock, 100)
        assert store.path(entry_id, "jpg") == tmp_path / f"{entry_id}.jpg"
        assert store.path(entry_id, "mp4") is None
        assert store.path("../../etc/passwd", "jpg") is None
        with pytest.raises(ValueError):
            store.put("../evil", {}, {"jpg": b"x"})


def test_a_clip_joins_its_event_and_counts_against_the_bounds(tmp_path: Path) -> None:
    clock = Clock()
    limits = StoreLimits(max_count=10, max_bytes=3_000, max_age=1e9, min_free_bytes=0)
    with EvidenceStore(tmp_path, limits, clock=clock) as store:
        first = put(store, clock, 1_000)
        second = put(store, clock, 1_000)
        clip = store.temp_path("clip.mp4")
        clip.write_bytes(b"m" * 1_500)
        assert store.add_file(second, "mp4", clip)
        assert [e.id for e in store.entries()] == [second] and store.size == 2_500  # the first made room
        assert store.path(second, "mp4") is not None and not clip.exists()
        orphan = store.temp_path("orphan.mp4")
        orphan.write_bytes(b"m")
        assert not store.add_file(first, "mp4", orphan) and not orphan.exists()


def test_the_index_takes_little_memory_per_event(tmp_path: Path) -> None:
    """The in-memory index per kept event (docs/snapshots.md has bench/evidence_overhead.py's figure)."""
    clock = Clock()
    limits = StoreLimits(max_count=300, max_bytes=10**9, max_age=1e9, min_free_bytes=0)
    reference = {"id": "x" * 40, "path": "/var/lib/posed/snapshots/" + "x" * 44}
    event = {"schema_version": 1, "type": "fall", "person": 3, "timestamp": 1.8e9, "state": "detected",
             "zone": None, "snapshot": reference}  # fmt: skip

    def put_some(store: EvidenceStore, count: int) -> None:
        for _ in range(count):
            clock.now += 1
            store.put(store.new_id("hall", "fall", clock.now), event, {"jpg": b"j" * 10})

    def held() -> int:
        """Bytes allocated by the store's own code and still held (not pathlib's global caches)."""
        mine = tracemalloc.Filter(True, store_module.__file__)
        return sum(
            stat.size for stat in tracemalloc.take_snapshot().filter_traces([mine]).statistics("filename")
        )

    with EvidenceStore(tmp_path, limits, clock=clock) as store:
        tracemalloc.start()
        put_some(store, 100)
        before = held()
        put_some(store, 200)
        used = held() - before
        tracemalloc.stop()
    assert used / 200 < 3_000, used  # under 3 kB per event
