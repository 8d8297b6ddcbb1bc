"""The sample clip `posed demo` and `posed bench` play when the user gives none.

`pose_squats.mp4` from tensorflow/tfjs-models' pose-detection test data
(Apache-2.0; a woman doing squats, 720x1280, 5 fps, 13 s, a person visible
from the first frame). It is downloaded once into ~/.cache/posed/samples
(follows $XDG_CACHE_HOME) with the model store's downloader (resume, retries,
https_proxy), checked against a pinned sha256, and renamed into place, so the
cache never holds half a file or the wrong one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from posed.errors import PosedError
from posed.models.download import DownloadError, DownloadPolicy, download
from posed.models.store import install, sha256_file, staging_dir


@dataclass(frozen=True, slots=True)
class SampleClip:
    filename: str
    url: str  # pinned to a commit: the bytes behind it cannot change
    sha256: str
    size: int
    licence: str


SQUATS = SampleClip(
    filename="pose_squats.mp4",
    url="https://raw.githubusercontent.com/tensorflow/tfjs-models/"
    "f7e86d612969c0412a4a044c8d82d181bbc1ae5b/pose-detection/test_data/pose_squats.mp4",
    sha256="ea9151e447b301985d5d65666551ef863b369a2e0f3a71ddd58abef2e722f96a",
    size=508341,
    licence="Apache-2.0 (tensorflow/tfjs-models)",
)


class SampleUnavailableError(PosedError):
    """The clip is not cached and cannot be downloaded now; `offline` when no server answered."""

    def __init__(self, message: str, *, offline: bool) -> None:
        super().__init__(message)
        self.offline = offline


def samples_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "posed" / "samples"


def cached_sample(clip: SampleClip = SQUATS) -> Path | None:
    """The cached clip if it is there and intact (size and sha256), else None."""
    path = samples_dir() / clip.filename
    if path.is_file() and path.stat().st_size == clip.size and sha256_file(path) == clip.sha256:
        return path
    return None


def ensure_sample(
    clip: SampleClip = SQUATS, *, mirror: str | None = None, policy: DownloadPolicy | None = None
) -> Path:
    """The cached clip, downloaded first if needed; SampleUnavailableError when it cannot be.

    `mirror` is a web directory holding the file under its own name, as for models.
    """
    found = cached_sample(clip)
    if found is not None:
        return found
    folder = samples_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SampleUnavailableError(
            f"cannot create the cache folder {folder}: {exc.strerror}", offline=False
        ) from exc
    url = f"{mirror.rstrip('/')}/{clip.filename}" if mirror else clip.url
    with staging_dir(folder) as stage:
        partial = stage / clip.filename
        try:
            download(url, partial, label=clip.filename, policy=policy or DownloadPolicy())
        except DownloadError as exc:
            raise SampleUnavailableError(
                f"the sample clip {clip.filename} is not cached in {folder} and cannot be downloaded: {exc}",
                offline=_looks_offline(exc),
            ) from exc
        digest = sha256_file(partial)
        if digest != clip.sha256:
            raise SampleUnavailableError(
                f"the download of {clip.filename} from {url} is not the expected file "
                f"(sha256 {digest}, expected {clip.sha256}); nothing was kept",
                offline=False,
            )
        install(partial, folder / clip.filename)
    return folder / clip.filename


def _looks_offline(exc: DownloadError) -> bool:
    """No server answered at all (name resolution, refused or unreachable), as opposed to an HTTP error."""
    text = str(exc)
    return "HTTP" not in text or "resolve" in text


def sample_frame(clip_path: Path, frame: int = 20) -> Path:
    """One frame of the clip as a PNG beside it, for trying `posed estimate` on an image."""
    import cv2  # noqa: PLC0415 (OpenCV loads on first frame)

    target = clip_path.with_name(f"{clip_path.stem}-frame{frame}.png")
    if target.is_file():
        return target
    capture = cv2.VideoCapture(str(clip_path))
    try:
        capture.set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, bgr = capture.read()
    finally:
        capture.release()
    if not ok:
        raise PosedError(f"cannot read frame {frame} of {clip_path}")
    staged = target.with_name(f".{target.name}.partial.png")
    cv2.imwrite(str(staged), bgr)
    os.replace(staged, target)
    return target
