"""What a model source is (Source) and what it raises when it cannot deliver (SourceMiss)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from posed.errors import ModelError
from posed.models.registry import FileSpec


class SourceMiss(ModelError):
    """This source does not offer the file, or failed to deliver it; the next source is tried."""


class Source(Protocol):
    name: str

    def offers(self, filename: str, spec: FileSpec) -> bool:
        """Whether it is worth asking this source for the file at all."""
        ...

    def obtain(self, filename: str, spec: FileSpec, dest: Path) -> str:
        """Write the file into `dest`; return where it came from. SourceMiss when it cannot."""
        ...
