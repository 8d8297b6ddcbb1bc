"""Calibration data: the inputs posed's own float BlazePose gives its two models on real frames.

Frames come from videos, images, or folders of them (`--calibration`; by default the
shared test media, pose_squats.mp4 and vtest.avi, else the sample clip `posed demo`
cached). Each source gets an equal share of the frames asked for, evenly spaced
through it. posed's float estimator runs on each frame in still-image mode, so the
detector runs on every frame, and every 224x224 detector input and every 256x256
landmark crop it builds is kept: the quantizer sees exactly the letterbox, rotation
and crop the int8 model will see at run time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import cv2
import numpy as np
import numpy.typing as npt

from posed.backend import ROLE_DETECTOR, ROLE_LANDMARKS, Backend, BackendConfig, InferenceSession, TensorSpec
from posed.benchmark.frames import BLAZEPOSE_MEDIA, IMAGE_SUFFIXES, POSENET_MEDIA
from posed.blazepose.estimator import BlazePoseEstimator
from posed.config.schema import BlazePoseOptions
from posed.errors import PosedError
from posed.samples import cached_sample
from posed.types import ImageArray

VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg"}
DEFAULT_FRAMES = 300  # NNCF's own default subset size


class CalibrationError(PosedError):
    """No usable calibration media, or too few people found in it."""


@dataclass(frozen=True, slots=True)
class CalibrationSet:
    """Model inputs by role ("detector", "landmarks"), each (1, H, W, 3) float32."""

    samples: dict[str, list[npt.NDArray[np.float32]]]
    sources: tuple[str, ...]
    frames: int

    def digest(self, role: str) -> str:
        """sha256 of one role's inputs in order, so a recipe pins exactly what was used."""
        digest = hashlib.sha256()
        for sample in self.samples[role]:
            digest.update(np.ascontiguousarray(sample, dtype=np.float32).tobytes())
        return digest.hexdigest()


def default_sources(shared: Path) -> list[Path]:
    """The shared test media that exist, else the cached sample clip; empty when neither is here."""
    found = [shared / media for media in (BLAZEPOSE_MEDIA, POSENET_MEDIA) if (shared / media).is_file()]
    if not found and (clip := cached_sample()) is not None:
        found = [clip]
    return found


def media_files(sources: Sequence[Path]) -> list[Path]:
    """Each source as files: a folder gives its images and videos in name order."""
    files: list[Path] = []
    problems: list[str] = []
    for source in sources:
        if source.is_dir():
            inside = sorted(p for p in source.iterdir() if _kind(p) is not None)
            if not inside:
                problems.append(f"{source} holds no image or video")
            files += inside
        elif source.is_file() and _kind(source) is not None:
            files.append(source)
        elif source.exists():
            problems.append(f"{source} is neither an image ({', '.join(sorted(IMAGE_SUFFIXES))}) nor a video")
        else:
            problems.append(f"{source}: no such file or folder")
    if problems:
        raise CalibrationError(f"--calibration: {'; '.join(problems)}")
    return files


def sample_frames(files: Sequence[Path], count: int) -> Iterator[ImageArray]:
    """About `count` RGB frames: an equal share per file, evenly spaced through each."""
    lengths = [_frame_count(f) for f in files]
    shares = _shares(lengths, count)
    for path, length, share in zip(files, lengths, shares, strict=True):
        if share == 0:
            continue
        wanted = set(np.linspace(0, length - 1, share).round().astype(int).tolist())
        yield from _decode(path, wanted)


def _shares(lengths: Sequence[int], count: int) -> list[int]:
    """Split `count` frames equally, giving what a short file cannot take to the others."""
    shares = [0] * len(lengths)
    left = count
    open_files = [i for i, n in enumerate(lengths) if n > 0]
    while left > 0 and open_files:
        each = max(1, left // len(open_files))
        for i in list(open_files):
            take = min(each, lengths[i] - shares[i], left)
            shares[i] += take
            left -= take
            if shares[i] >= lengths[i]:
                open_files.remove(i)
            if left == 0:
                break
    return shares


def _kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return "image" if suffix in IMAGE_SUFFIXES else "video" if suffix in VIDEO_SUFFIXES else None


def _frame_count(path: Path) -> int:
    if _kind(path) == "image":
        return 1
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise CalibrationError(f"cannot open the video {path}: unsupported format or corrupt file")
        counted = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if counted > 0:
            return counted
        # Some containers do not say: count by decoding.
        while capture.grab():
            counted = max(counted, 0) + 1
        return max(counted, 0)
    finally:
        capture.release()


def _decode(path: Path, wanted: set[int]) -> Iterator[ImageArray]:
    if _kind(path) == "image":
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CalibrationError(f"cannot read the image {path}")
        yield np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        return
    capture = cv2.VideoCapture(str(path))
    try:
        number, last = 0, max(wanted)
        while number <= last and capture.grab():
            if number in wanted:
                ok, bgr = capture.retrieve()
                if ok:
                    yield np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            number += 1
    finally:
        capture.release()


class RecordingSession:
    """An InferenceSession that keeps a copy of every input it runs.

    It does not own the session it wraps: whoever opened that closes it.
    """

    def __init__(self, session: InferenceSession) -> None:
        self._session = session
        self.recorded: list[npt.NDArray[np.float32]] = []

    @property
    def inputs(self) -> tuple[TensorSpec, ...]:
        return self._session.inputs

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self._session.outputs

    @property
    def device(self) -> str:
        return self._session.device

    def run(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        self.recorded.append(np.array(inputs[0], dtype=np.float32, copy=True))
        return self._session.run(*inputs)

    def close(self) -> None:
        """Nothing to release: the wrapped session belongs to its opener."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def collect(
    files: dict[str, Path],
    backend: Backend,
    backend_config: BackendConfig,
    media: Sequence[Path],
    *,
    frames: int = DEFAULT_FRAMES,
) -> CalibrationSet:
    """Run posed's float BlazePose (`files`: role -> float file) on the media; keep every model input."""
    sources = media_files(media)
    with ExitStack() as stack:
        detector = RecordingSession(
            stack.enter_context(backend.open_session(files["detector"], backend_config, role=ROLE_DETECTOR))
        )
        landmarks = RecordingSession(
            stack.enter_context(backend.open_session(files["landmarks"], backend_config, role=ROLE_LANDMARKS))
        )
        options = BlazePoseOptions(static_image_mode=True)
        estimator = BlazePoseEstimator("calibration", detector, landmarks, options)
        used = 0
        for image in sample_frames(sources, frames):
            estimator.estimate(image, None)
            used += 1
    if used == 0 or not landmarks.recorded:
        raise CalibrationError(
            f"no person found in {used} frame(s) of {', '.join(map(str, sources))}: calibrate on "
            "footage with people in it (--calibration VIDEO_OR_FOLDER)"
        )
    return CalibrationSet(
        samples={"detector": detector.recorded, "landmarks": landmarks.recorded},
        sources=tuple(str(s) for s in media),
        frames=used,
    )
