"""Where model files come from. Each source is one small module; fetch tries them in order.

A source writes the file exactly as it obtained it into a path the caller
gives, and returns a description of where it came from. Checksums are the
caller's job, so every source is held to the same standard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from posed.errors import ModelError
from posed.models.download import DownloadPolicy
from posed.models.sources.base import Source, SourceMiss
from posed.models.sources.local import LocalDirSource
from posed.models.sources.npm import NpmSource
from posed.models.sources.pypi import PypiSource
from posed.models.sources.url import UrlSource

# What every source is and raises lives in .base, which the sources import; importable from here too.
__all__ = [
    "SOURCE_NAMES",
    "Source",
    "SourceMiss",
    "SourceOptions",
    "build_sources",
    "parse_source_list",
    "without",
]

SOURCE_NAMES = ("local", "url", "pypi", "npm")


@dataclass(frozen=True, slots=True)
class SourceOptions:
    order: tuple[str, ...] = SOURCE_NAMES
    local_dirs: tuple[Path, ...] = ()
    mirror: str | None = None
    policy: DownloadPolicy = field(default_factory=DownloadPolicy)


def build_sources(options: SourceOptions, scratch: Path) -> list[Source]:
    """The enabled sources in order. `scratch` holds downloaded packages for one fetch session."""
    built: list[Source] = []
    for name in options.order:
        if name == "local":
            if options.local_dirs:
                built.append(LocalDirSource(options.local_dirs))
        elif name == "url":
            built.append(UrlSource(options.mirror, options.policy))
        elif name == "pypi":
            built.append(PypiSource(scratch / "pypi", options.policy))
        elif name == "npm":
            built.append(NpmSource(scratch / "npm"))
        else:
            raise ModelError(f"unknown model source {name!r}; sources are {', '.join(SOURCE_NAMES)}")
    return built


def parse_source_list(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [n for n in names if n not in SOURCE_NAMES]
    if unknown or not names:
        raise ModelError(f"--sources takes a comma-separated list of {', '.join(SOURCE_NAMES)}; got {text!r}")
    return names


def without(order: Sequence[str], *disabled: str) -> tuple[str, ...]:
    return tuple(name for name in order if name not in disabled)
