"""The on-disk store of event snapshots and clips: bounded by count, bytes, age and free space.

One directory, flat: per event `{id}.json` (what happened), `{id}.jpg` (the snapshot),
`{id}.thumb.jpg` (its thumbnail for the page's timeline) and, for a fall with clips on,
`{id}.mp4`. An id is `{epoch ms}-{camera}-{kind}-{n}`,
so names sort by time. Every file is written to a temporary name and renamed, the
metadata last: a crash leaves either a whole event or a temporary file, which the
next start deletes. The oldest events go first, whichever bound is hit; a new event
that would leave less than `min_free_bytes` free on the disk is not kept at all.

The index (one small record per event) lives in memory, bounded by `max_count`.
One owner writes (the evidence recorder's thread); the preview server reads. A lock
guards the index; reads of a file the writer is deleting fail as a missing file.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

log = logging.getLogger(__name__)

Suffix = Literal["jpg", "thumb.jpg", "mp4"]
ID_PATTERN = re.compile(r"^(\d{13})-([A-Za-z0-9_-]{1,64})-(fall|gesture|zone|rep)-([0-9a-f]{1,12})$")
TEMP_PREFIX = ".tmp-"


def free_bytes(directory: Path) -> int:
    return shutil.disk_usage(directory).free


@dataclass(frozen=True, slots=True)
class StoreLimits:
    max_count: int
    max_bytes: int
    max_age: float  # seconds
    min_free_bytes: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored event: what happened and the sizes of its files."""

    id: str
    camera: str
    kind: str
    wall: float  # the event's time, seconds since the epoch
    event: Mapping[str, Any]  # the event as published (JSON)
    files: Mapping[str, int]  # suffix -> bytes

    @property
    def size(self) -> int:
        return sum(self.files.values())


class EvidenceStore:
    """A context manager: `open()` scans the directory and applies the bounds."""

    def __init__(
        self,
        directory: Path,
        limits: StoreLimits,
        *,
        clock: Callable[[], float] = time.time,
        free: Callable[[Path], int] = free_bytes,
    ) -> None:
        self.directory = directory
        self.limits = limits
        self._clock = clock
        self._free = free
        self._lock = threading.Lock()
        self._index: OrderedDict[str, Entry] = OrderedDict()  # oldest first
        self._bytes = 0
        self._seq = 0
        self.refused = 0  # events not kept for lack of disk space

    # -- lifecycle -------------------------------------------------------------------------

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        found: list[Entry] = []
        for path in self.directory.iterdir():
            if path.name.startswith(TEMP_PREFIX):
                path.unlink(missing_ok=True)  # a write a crash interrupted
            elif path.suffix == ".json" and ID_PATTERN.match(path.stem):
                entry = self._read_entry(path)
                if entry is not None:
                    found.append(entry)
        with self._lock:
            for entry in sorted(found, key=lambda e: e.id):
                self._index[entry.id] = entry
                self._bytes += entry.size
            self._enforce()

    def close(self) -> None:
        """Nothing stays open between writes; here for the `with` block's symmetry."""

    def __enter__(self) -> EvidenceStore:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- writing (the recorder's thread) ----------------------------------------------------

    def new_id(self, camera: str, kind: str, wall: float) -> str:
        with self._lock:
            self._seq += 1
            return f"{round(wall * 1000):013d}-{camera}-{kind}-{self._seq:x}"

    def put(self, entry_id: str, event: Mapping[str, Any], files: Mapping[Suffix, bytes]) -> bool:
        """Keep an event and its files; False (nothing written) when the disk has no room for it."""
        match = ID_PATTERN.match(entry_id)
        if match is None:
            raise ValueError(f"not a store id: {entry_id!r}")
        size = sum(len(data) for data in files.values())
        if not self._make_room(size):
            return False
        for suffix, data in files.items():
            self._write(f"{entry_id}.{suffix}", data)
        entry = Entry(
            entry_id,
            match.group(2),
            match.group(3),
            int(match.group(1)) / 1000,
            dict(event),
            {suffix: len(data) for suffix, data in files.items()},
        )
        self._write(f"{entry_id}.json", _metadata(entry))
        with self._lock:
            self._index[entry_id] = entry
            self._bytes += entry.size
            self._enforce()
        return True

    def add_file(self, entry_id: str, suffix: Suffix, source: Path) -> bool:
        """Move a finished file (a clip) into an event that is still kept; False if it is gone or
        the disk has no room (the file is deleted then)."""
        size = source.stat().st_size
        with self._lock:
            known = entry_id in self._index
        if not known or not self._make_room(size):
            source.unlink(missing_ok=True)
            return False
        os.replace(source, self.directory / f"{entry_id}.{suffix}")
        with self._lock:
            current = self._index.get(entry_id)
            if current is None:  # pruned meanwhile
                (self.directory / f"{entry_id}.{suffix}").unlink(missing_ok=True)
                return False
            entry = Entry(
                current.id, current.camera, current.kind, current.wall, current.event,
                {**current.files, suffix: size},
            )  # fmt: skip
            self._index[entry_id] = entry
            self._bytes += size - current.files.get(suffix, 0)
        self._write(f"{entry_id}.json", _metadata(entry))
        with self._lock:
            self._enforce()
        return True

    def temp_path(self, name: str) -> Path:
        """A temporary file in the store (deleted at the next start if left behind)."""
        return self.directory / f"{TEMP_PREFIX}{name}"

    def expire(self) -> None:
        """Apply the age bound now (the recorder calls this now and then)."""
        with self._lock:
            self._enforce()

    # -- reading (any thread) ---------------------------------------------------------------

    def entries(self, camera: str | None = None, kind: str | None = None, limit: int = 50) -> list[Entry]:
        """The newest events first, optionally of one camera and kind."""
        with self._lock:
            newest = reversed(self._index.values())
            chosen = [e for e in newest if camera in (None, e.camera) and kind in (None, e.kind)]
        return chosen[:limit]

    def path(self, entry_id: str, suffix: Suffix) -> Path | None:
        """The file of a kept event, or None (unknown id, no such file)."""
        with self._lock:
            entry = self._index.get(entry_id)
        if entry is None or suffix not in entry.files:
            return None
        return self.directory / f"{entry_id}.{suffix}"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._index)

    @property
    def size(self) -> int:
        """The bytes of every kept file (metadata excluded: a few hundred bytes per event)."""
        with self._lock:
            return self._bytes

    # -- inside --------------------------------------------------------------------------------

    def _make_room(self, size: int) -> bool:
        """Delete the oldest events until `size` more bytes leave min_free_bytes free on the disk."""
        while self._free(self.directory) - size < self.limits.min_free_bytes:
            with self._lock:
                if not self._index:
                    break
                self._delete_oldest()
        if self._free(self.directory) - size < self.limits.min_free_bytes:
            self.refused += 1
            log.warning(
                "snapshots: %.1f MB free on %s, %.0f MB must stay free: event not kept",
                self._free(self.directory) / 1e6,
                self.directory,
                self.limits.min_free_bytes / 1e6,
            )
            return False
        return True

    def _enforce(self) -> None:
        """Delete the oldest events while a bound is exceeded; the caller holds the lock."""
        limits = self.limits
        oldest_allowed = self._clock() - limits.max_age
        while self._index and (
            len(self._index) > limits.max_count
            or self._bytes > limits.max_bytes
            or next(iter(self._index.values())).wall < oldest_allowed
        ):
            self._delete_oldest()

    def _delete_oldest(self) -> None:
        entry_id, entry = self._index.popitem(last=False)
        self._bytes -= entry.size
        (self.directory / f"{entry_id}.json").unlink(missing_ok=True)  # first: no half event on a crash
        for suffix in entry.files:
            (self.directory / f"{entry_id}.{suffix}").unlink(missing_ok=True)

    def _write(self, name: str, data: bytes) -> None:
        temp = self.temp_path(name)
        with temp.open("wb") as out:
            out.write(data)
        os.replace(temp, self.directory / name)

    def _read_entry(self, path: Path) -> Entry | None:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            files = {str(k): int(v) for k, v in document["files"].items()}
            entry = Entry(
                path.stem, str(document["camera"]), str(document["kind"]), float(document["wall"]),
                dict(document["event"]), files,
            )  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("snapshots: ignoring %s, which cannot be read: %s", path, exc)
            return None
        missing = [s for s in files if not (self.directory / f"{path.stem}.{s}").is_file()]
        if missing:
            log.warning("snapshots: %s lost its %s file; removing it", path.stem, ", ".join(missing))
            path.unlink(missing_ok=True)
            for suffix in files:
                (self.directory / f"{path.stem}.{suffix}").unlink(missing_ok=True)
            return None
        return entry


def _metadata(entry: Entry) -> bytes:
    document = {
        "id": entry.id,
        "camera": entry.camera,
        "kind": entry.kind,
        "wall": entry.wall,
        "event": entry.event,
        "files": dict(entry.files),
    }
    return json.dumps(document, separators=(",", ":")).encode()
