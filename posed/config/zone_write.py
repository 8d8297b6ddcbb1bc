"""Save one zone into the config file, as a person editing it would: comments and layout kept.

The steps, in this order, so that a refused zone leaves the file untouched:
1. the file must still be the one the page loaded (its SHA-256), else StaleConfigError;
2. a ruamel.yaml round-trip edit sets `cameras.{camera}.zones.{name}.points` (other keys of
   that zone, comments and the rest of the layout stay as they were);
3. the new text is validated as `posed check` and a reload validate it (schema and
   preflight), from a temporary file next to the config: ConfigError names what is wrong;
4. the old file is copied to `{name}.bak`, and the new text replaces the file atomically
   (a temporary file, fsync, rename), keeping the file's permissions.
The caller then asks the daemon to reload.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from posed.config.reader import decode_config
from posed.errors import ConfigError, ConfigIssue, PosedError

BACKUP_SUFFIX = ".bak"
POINT_DECIMALS = 4


class StaleConfigError(PosedError):
    """The file changed since the page read it; saving would overwrite someone's edit."""


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class SavedZone:
    version: str  # of the file as now written
    backup: Path


class ZoneWriter:
    """Owns writes to one config file; one save at a time (a lock), from any thread."""

    def __init__(self, path: Path, *, cli_model_dir: Path | None) -> None:
        self.path = path
        self._cli_model_dir = cli_model_dir
        self._lock = threading.Lock()

    def version(self) -> str:
        return version_of(self.path.read_bytes())

    def save(self, camera: str, name: str, points: Sequence[tuple[float, float]], version: str) -> SavedZone:
        """Validate and write the zone; StaleConfigError or ConfigError leave the file as it was."""
        with self._lock:
            old = self.path.read_bytes()
            if version_of(old) != version:
                raise StaleConfigError(
                    f"{self.path} changed since the page loaded it; reload the page and draw the zone again"
                )
            text = edited(decode_config(str(self.path), old), camera, name, points)
            self._validate(text)
            backup = self.path.with_name(self.path.name + BACKUP_SUFFIX)
            shutil.copy2(self.path, backup)
            _replace_atomically(self.path, text.encode("utf-8"))
            return SavedZone(version_of(text.encode("utf-8")), backup)

    def _validate(self, text: str) -> None:
        from posed.daemon.reload import load_for_run

        # Next to the config: relative paths in it resolve as they will from the file itself.
        temp = self.path.with_name(f".{self.path.name}.zone-check")
        try:
            temp.write_text(text, encoding="utf-8")
            load_for_run(temp, cli_model_dir=self._cli_model_dir)
        except ConfigError as exc:
            shown = str(self.path)
            raise ConfigError(
                [ConfigIssue(shown, i.line, i.key, i.message.replace(str(temp), shown)) for i in exc.issues]
            ) from None
        finally:
            temp.unlink(missing_ok=True)


def edited(text: str, camera: str, name: str, points: Sequence[tuple[float, float]]) -> str:
    """`text` with the zone's points set; the camera must exist in it."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    document = yaml.load(text)
    cameras = document.get("cameras") if isinstance(document, CommentedMap) else None
    if not isinstance(cameras, CommentedMap) or not isinstance(cameras.get(camera), CommentedMap):
        raise ConfigError([ConfigIssue("", None, f"cameras.{camera}", f"no camera {camera!r} in the file")])
    entry = cameras[camera]
    zones = entry.get("zones")
    if zones is None:
        zones = entry["zones"] = CommentedMap()
    if not isinstance(zones, CommentedMap):
        raise ConfigError([ConfigIssue("", None, f"cameras.{camera}.zones", "zones is not a mapping")])
    shape = CommentedSeq()
    for x, y in points:
        point = CommentedSeq([round(float(x), POINT_DECIMALS), round(float(y), POINT_DECIMALS)])
        point.fa.set_flow_style()
        shape.append(point)
    shape.fa.set_flow_style()
    zone = zones.get(name)
    if isinstance(zone, CommentedMap):
        zone["points"] = shape  # its other settings (anchor, inertia, ...) stay
    else:
        zones[name] = CommentedMap([("points", shape)])
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _replace_atomically(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.saving")
    mode = path.stat().st_mode & 0o7777
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
