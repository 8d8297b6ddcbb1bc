"""An opt-in cache of a clip's poses, so that changing the analyzers does not re-run the network.

Poses depend on the clip's bytes, the estimator's settings (model, backend, device,
precision, smoothing, the hold) and posed's estimator and tracking code; the key
hashes all of them, so a stale entry is never read. The analyzers' code is not in
the key: iterating on them is what the cache is for. Figures meant for others should
come from a run without the cache (it is a shortcut, not a source of truth).

Entries are gzip'd JSON lines, written to a temporary file and renamed, so an
interrupted run leaves no half entry. World landmarks are not kept (no analyzer reads them).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np

import posed
from posed.cli.estimate_events import FramePoses
from posed.types import Pose

FORMAT = 1
# The code that turns frames into poses (and the people stage that drops phantoms): a change
# here changes the poses.
_POSE_CODE = ("blazepose", "posenet", "tracking", "people", "estimator.py", "backend.py", "types.py")
_CHUNK = 1 << 20


def _code_digest() -> str:
    root = Path(posed.__file__).parent
    digest = hashlib.sha256()
    for entry in _POSE_CODE:
        path = root / entry
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def cache_key(clip: Path, settings: Mapping[str, str | float | bool | None]) -> str:
    """A hex key for the clip's poses under these settings and this posed."""
    digest = hashlib.sha256()
    with clip.open("rb") as stream:
        while block := stream.read(_CHUNK):
            digest.update(block)
    digest.update(
        json.dumps({**settings, "format": FORMAT, "posed": posed.__version__}, sort_keys=True).encode()
    )
    digest.update(_code_digest().encode())
    return digest.hexdigest()[:32]


class PoseCache:
    """A folder of cached poses, one file per clip and key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, clip: Path, key: str) -> Path:
        return self.folder / f"{clip.stem}-{key}.jsonl.gz"

    def load(self, clip: Path, key: str) -> list[FramePoses] | None:
        path = self._path(clip, key)
        if not path.is_file():
            return None
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            return [_frame(json.loads(line)) for line in stream]

    def store(self, clip: Path, key: str, frames: Iterable[FramePoses]) -> Iterator[FramePoses]:
        """Pass `frames` through, writing them; the entry appears only once all were written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(clip, key)
        partial = path.with_name(f"{path.name}.{os.getpid()}.part")
        try:
            with gzip.open(partial, "wt", encoding="utf-8") as stream:
                for seen in frames:
                    stream.write(json.dumps(_document(seen)) + "\n")
                    yield seen
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)


def _document(seen: FramePoses) -> dict[str, object]:
    return {
        "n": seen.number,
        "t": seen.timestamp,
        "w": seen.width,
        "h": seen.height,
        "poses": [
            {
                "id": pose.id,
                "score": pose.score,
                "box": list(pose.box),
                "names": list(pose.names),
                "k": pose.keypoints.astype(np.float64).tolist(),
                "z": None if pose.z is None else pose.z.astype(np.float64).tolist(),
            }
            for pose in seen.poses
        ],
    }


def _frame(document: dict[str, object]) -> FramePoses:
    poses = []
    for p in document["poses"]:  # type: ignore[attr-defined]
        box = p["box"]
        poses.append(
            Pose(
                score=float(p["score"]),
                keypoints=np.asarray(p["k"], dtype=np.float32),
                names=tuple(p["names"]),
                box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
                z=None if p["z"] is None else np.asarray(p["z"], dtype=np.float32),
                id=p["id"],
            )
        )
    return FramePoses(
        int(document["n"]),  # type: ignore[call-overload]
        float(document["t"]),  # type: ignore[arg-type]
        int(document["w"]),  # type: ignore[call-overload]
        int(document["h"]),  # type: ignore[call-overload]
        poses,
    )
