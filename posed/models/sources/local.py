"""A local directory (`--from DIR`): a USB stick, a copy of another device's store, ../shared/models."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from posed.models.registry import FileSpec
from posed.models.sources.base import SourceMiss


class LocalDirSource:
    name = "local"

    def __init__(self, directories: tuple[Path, ...]) -> None:
        self._directories = directories

    def offers(self, filename: str, spec: FileSpec) -> bool:
        return next(self._candidates(filename, spec), None) is not None

    def obtain(self, filename: str, spec: FileSpec, dest: Path) -> str:
        # The first match wins; a directory may hold the installed name or an upstream one.
        for path in self._candidates(filename, spec):
            try:
                shutil.copyfile(path, dest)
            except OSError as exc:
                raise SourceMiss(f"{path}: cannot read: {exc.strerror}") from exc
            return str(path)
        searched = ", ".join(str(d) for d in self._directories)
        raise SourceMiss(f"not in {searched}")

    def _candidates(self, filename: str, spec: FileSpec) -> Iterator[Path]:
        names = [filename, *(n for n in spec.upstream_names() if n != filename)]
        for directory in self._directories:
            for name in names:
                path = directory / name
                if path.is_file():
                    yield path
