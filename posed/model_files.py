"""A model resolved to its files (ResolvedModel), and the per-user folder models are cached in.

The estimators take a ResolvedModel; posed.models finds one (posed.models.resolve) and
fetches files into the cache. Both import this module, so neither imports the other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Family = Literal["blazepose", "posenet", "movenet"]


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    name: str
    family: Family
    files: Mapping[str, Path]  # role -> file: {"detector", "landmarks"} or {"main"}


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "posed" / "models"
