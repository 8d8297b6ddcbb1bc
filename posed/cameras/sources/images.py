"""`images`: a folder of images or a glob, in sorted order.

A folder is what a user fills by hand, so one bad file must not stop it: a file
that is empty, is no image, or is larger than `max_pixels` is skipped with one
warning (once per file, not once per loop) and the next image is read. The size
comes from the file's header (the `imagesize` package reads a few bytes) before
OpenCV decodes anything, because a 1.2 MB PNG of 20000 x 20000 pixels decodes
to 1.2 GB.
"""

from __future__ import annotations

import errno
import functools
import glob
import io
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

import cv2
import imagesize
import numpy as np
import numpy.typing as npt

from posed.cameras.config import ImagesCamera
from posed.cameras.convert import PREVIEW_WIDTH, ToRgb, as_u8, target_size
from posed.cameras.source import Deferred, EndOfStream
from posed.errors import CameraError
from posed.regular_files import file_problem
from posed.types import ImageArray

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})
JPEG_SUFFIXES = frozenset({".jpg", ".jpeg"})
T = TypeVar("T")


def reduced_grey_flag(width: int) -> int:
    """The largest JPEG reduction (1/2, 1/4, 1/8) that keeps the preview at least PREVIEW_WIDTH wide."""
    for factor, flag in (
        (8, cv2.IMREAD_REDUCED_GRAYSCALE_8),
        (4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
        (2, cv2.IMREAD_REDUCED_GRAYSCALE_2),
    ):
        if width // factor >= PREVIEW_WIDTH:
            return flag
    return cv2.IMREAD_GRAYSCALE


def oriented_size(header: tuple[int, int], preview: ImageArray) -> tuple[int, int]:
    """The (width, height) the full decode will have: the header's, turned as OpenCV turns the
    image for its EXIF orientation (the preview shows whether it did)."""
    width, height = header
    if width != height and (preview.shape[1] > preview.shape[0]) != (width > height):
        return height, width
    return width, height


def decode_jpeg(data: npt.NDArray[np.uint8], path: Path, width: int | None, height: int | None) -> ImageArray:
    """The full RGB image of JPEG bytes already read (the reduced decode of them succeeded)."""
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if bgr is None:
        raise CameraError(f"{path}: the full JPEG decode failed where its reduced decode worked")
    return ToRgb(width=width, height=height)(as_u8(bgr))


def rgb_preview(image: ImageArray) -> ImageArray:
    """A small grey copy of an RGB image already decoded (a PNG or BMP has no reduced decode)."""
    height = max(1, round(image.shape[0] * PREVIEW_WIDTH / image.shape[1]))
    small = cv2.resize(image, (PREVIEW_WIDTH, height), interpolation=cv2.INTER_LINEAR)
    return as_u8(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))


def size_of(image: ImageArray) -> tuple[int, int]:
    return int(image.shape[1]), int(image.shape[0])


def list_images(path: str) -> list[Path]:
    """The images `path` names: a folder's .jpg/.jpeg/.png/.bmp files, or a glob's files; sorted."""
    folder = Path(path)
    if folder.is_dir():
        found = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    else:
        found = [Path(p) for p in glob.glob(path) if Path(p).is_file()]
    return sorted(found)


# Failures of the machine, not of a file: out of descriptors or memory. The file is not to blame,
# so it is not skipped; the camera reports the failure and reopens with back-off.
_MACHINE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})


def read_image_file(path: Path, max_pixels: int, *, limit_name: str = "max_pixels") -> bytes | str:
    """The file's bytes, or why it must not be decoded (its own fault): its header first.

    The file is opened here, once, and not by imagesize or OpenCV: both report any
    failure to open a file as a bad image (imagesize as "-1 x -1", OpenCV as None), so a
    good file would be called "not an image" when the process runs out of descriptors.
    No image within `max_pixels` takes more than 4 bytes a pixel (a BMP takes 3), so a
    larger file is refused before it is read.
    CameraError when the machine, not the file, is at fault (_MACHINE_ERRNOS).
    A FIFO or a device is refused before it is opened: opening a FIFO blocks.
    """
    if path.exists() and (refused := file_problem(path, None)) is not None:
        return f"cannot read it: {refused}"
    try:
        with path.open("rb") as file:
            problem = image_problem(file, max_pixels, limit_name=limit_name)
            if problem is not None:
                return problem
            limit = 4 * max_pixels + (1 << 20)
            if os.fstat(file.fileno()).st_size > limit:
                return f"it is larger than {limit:,} bytes, more than an image of {limit_name} takes"
            file.seek(0)
            return file.read()
    except OSError as exc:
        if exc.errno in _MACHINE_ERRNOS:
            raise CameraError(f"cannot open {path} now: {exc.strerror or exc}") from exc
        if isinstance(exc, FileNotFoundError):
            return "it is gone"
        return f"cannot read it: {exc.strerror or exc}"


def image_problem(path: Path | BinaryIO, max_pixels: int, *, limit_name: str = "max_pixels") -> str | None:
    """Why an image (a path, or an open file) must not be decoded, from its header alone; None
    when it may be."""
    try:
        width, height = imagesize.get(str(path) if isinstance(path, Path) else path)
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}"
    except Exception as exc:  # imagesize raises ValueError and others on malformed headers
        return f"its header is malformed ({type(exc).__name__})"
    if width <= 0 or height <= 0:
        return "it is empty or not a JPEG, PNG or BMP image"
    if width * height > max_pixels:
        return f"{width}x{height} is {width * height:,} pixels, more than {limit_name} ({max_pixels:,})" + (
            "; raise the camera's max_pixels to read it" if limit_name == "max_pixels" else ""
        )
    return None


class ImagesSource:
    """Decodes one image per read; the list is taken again at open and at each loop."""

    def __init__(self, config: ImagesCamera) -> None:
        self._config = config
        self._files: list[Path] = []
        self._next = 0
        self._to_rgb = ToRgb(width=config.width, height=config.height)
        self._skipped: set[Path] = set()  # warned about once; skipped until the file changes

    @property
    def description(self) -> str:
        return f"images {self._config.path}"

    @property
    def interval(self) -> float | None:
        return 1.0 / (self._config.fps or 1.0) if self._config.realtime else None

    @property
    def lossless(self) -> bool:
        return not self._config.realtime

    def open(self) -> None:
        self._files = self._list()
        self._next = 0

    def read(self) -> ImageArray:
        return self._next_image(self._decode)

    def read_deferred(self) -> Deferred:
        """A JPEG is decoded at 1/2 to 1/8 scale in grey for the preview (libjpeg scales while
        decoding, a fraction of a full decode); its full decode waits until the frame is used."""
        return self._next_image(self._defer)

    def _next_image(self, decode: Callable[[Path], T | None]) -> T:
        tried = 0
        while True:
            if self._next >= len(self._files):
                if not self._config.loop:
                    raise EndOfStream(self._config.path)
                self.open()
            if tried >= len(self._files):
                raise CameraError(f"no readable image at {self._config.path}: every file was skipped")
            path = self._files[self._next]
            self._next += 1
            tried += 1
            image = decode(path)
            if image is not None:
                return image

    def close(self) -> None:
        self._files = []
        self._next = 0

    def _decode(self, path: Path) -> ImageArray | None:
        data = read_image_file(path, self._config.max_pixels)
        bgr = None if isinstance(data, str) else cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            problem = data if isinstance(data, str) else "OpenCV cannot decode it"
            self._skip(path, problem)
            return None
        self._skipped.discard(path)
        return self._to_rgb(as_u8(bgr))

    def _defer(self, path: Path) -> Deferred | None:
        if path.suffix.lower() not in JPEG_SUFFIXES:
            image = self._decode(path)
            return None if image is None else Deferred(rgb_preview(image), lambda: image, size_of(image))
        read = read_image_file(path, self._config.max_pixels)
        data = None if isinstance(read, str) else np.frombuffer(read, np.uint8)
        preview = None
        header = (0, 0)
        if data is not None and not isinstance(read, str):
            header = imagesize.get(io.BytesIO(read))
            preview = cv2.imdecode(data, reduced_grey_flag(header[0]))
        if data is None or preview is None:
            self._skip(path, read if isinstance(read, str) else "OpenCV cannot decode it")
            return None
        self._skipped.discard(path)
        preview = as_u8(preview)
        size = oriented_size(header, preview)
        config = self._config
        size = target_size((size[1], size[0]), config.width, config.height) or size
        return Deferred(
            preview, functools.partial(decode_jpeg, data, path, config.width, config.height), size
        )

    def _skip(self, path: Path, problem: str) -> None:
        if path not in self._skipped:
            self._skipped.add(path)
            log.warning("%s: skipping %s: %s", self.description, path, problem)

    def _list(self) -> list[Path]:
        try:
            files = list_images(self._config.path)
        except OSError as exc:  # the folder went away, or no descriptor is left to read it
            raise CameraError(f"cannot list {self._config.path}: {exc.strerror or exc}") from exc
        if not files:
            raise CameraError(
                f"no images at {self._config.path} (a folder of .jpg/.jpeg/.png/.bmp files, or a glob)"
            )
        return files
