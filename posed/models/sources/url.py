"""The official download URLs in the registry, or the same files on a mirror.

A mirror (`--mirror URL`, $POSED_MODEL_MIRROR) is a plain web directory holding
the official files under their upstream names: https://mirror/dir/<name>.
"""

from __future__ import annotations

from pathlib import Path

from posed.models import registry
from posed.models.download import DownloadError, DownloadPolicy, download
from posed.models.registry import FileSpec
from posed.models.sources.base import SourceMiss


class UrlSource:
    name = "url"

    def __init__(self, mirror: str | None, policy: DownloadPolicy) -> None:
        self._mirror = mirror.rstrip("/") if mirror else None
        self._policy = policy

    def offers(self, filename: str, spec: FileSpec) -> bool:
        return bool(self._urls(spec))

    def obtain(self, filename: str, spec: FileSpec, dest: Path) -> str:
        problems: list[str] = []
        for url in self._urls(spec):
            try:
                download(url, dest, label=filename, policy=self._policy)
            except DownloadError as exc:
                problems.append(str(exc))
                continue
            return url
        raise SourceMiss("; ".join(problems) or "no URL in the registry")

    def _urls(self, spec: FileSpec) -> list[str]:
        urls = [s.url for s in spec.sources if isinstance(s, registry.UrlSource)]
        if self._mirror is None:
            return urls
        names = [url.split("?", 1)[0].rsplit("/", 1)[-1] for url in urls]
        return [f"{self._mirror}/{name}" for name in names]
