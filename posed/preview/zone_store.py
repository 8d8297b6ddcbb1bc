"""What the page's zone editor needs of the config file it saves zones into.

posed.config.zone_write implements it (ZoneWriter); the editor (posed.preview.zone_edit) knows
only this contract, so the preview needs nothing from posed.config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from posed.errors import PosedError


class StaleConfigError(PosedError):
    """The file changed since the page read it; saving would overwrite someone's edit."""


@dataclass(frozen=True, slots=True)
class SavedZone:
    version: str  # of the file as now written
    backup: Path


class ZoneStore(Protocol):
    @property
    def path(self) -> Path: ...

    def version(self) -> str: ...

    def save(self, camera: str, name: str, points: Sequence[tuple[float, float]], version: str) -> SavedZone:
        """Validate and write the zone; StaleConfigError or ConfigError leave the file as it was."""
        ...
