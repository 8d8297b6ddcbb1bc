"""`images`: a folder of images or a glob, in sorted order."""

from __future__ import annotations

import glob
from pathlib import Path

import cv2

from posed.cameras.config import ImagesCamera
from posed.cameras.convert import ToRgb, as_u8
from posed.cameras.source import EndOfStream
from posed.errors import CameraError
from posed.types import ImageArray

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})


def list_images(path: str) -> list[Path]:
    """The images `path` names: a folder's .jpg/.jpeg/.png/.bmp files, or a glob's files; sorted."""
    folder = Path(path)
    if folder.is_dir():
        found = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    else:
        found = [Path(p) for p in glob.glob(path) if Path(p).is_file()]
    return sorted(found)


class ImagesSource:
    """Decodes one image per read; the list is taken again at open and at each loop."""

    def __init__(self, config: ImagesCamera) -> None:
        self._config = config
        self._files: list[Path] = []
        self._next = 0
        self._to_rgb = ToRgb(width=config.width, height=config.height)

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
        if self._next >= len(self._files):
            if not self._config.loop:
                raise EndOfStream(self._config.path)
            self.open()
        path = self._files[self._next]
        self._next += 1
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            reason = "it is gone" if not path.exists() else "not an image OpenCV can decode"
            raise CameraError(f"cannot read image {path}: {reason}")
        return self._to_rgb(as_u8(bgr))

    def close(self) -> None:
        self._files = []
        self._next = 0

    def _list(self) -> list[Path]:
        files = list_images(self._config.path)
        if not files:
            raise CameraError(
                f"no images at {self._config.path} (a folder of .jpg/.jpeg/.png/.bmp files, or a glob)"
            )
        return files
