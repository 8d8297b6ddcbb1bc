"""`posed models fetch`: obtain a model's files from the first source that has them, verified.

For every file: skip it when the store already holds a good copy; otherwise
ask each enabled source in turn, check size and sha256 of what it delivered,
apply the registry's corrections, and rename the result into the store. A
file whose sha256 nobody publishes is refused unless the user allows it; its
checksum is then pinned in the store's registry.json and held to from then on.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from posed.errors import ModelError, ModelNotFoundError
from posed.models.registry import FileSpec, InstalledFile, packaged_registry, read_store_registry
from posed.models.sources import Source, SourceMiss, SourceOptions, build_sources
from posed.models.store import (
    edit_store_registry,
    install,
    now_iso,
    prepare_store,
    sha256_file,
    staging_dir,
    store_lock,
)
from posed.models.transforms import apply_transforms

log = logging.getLogger(__name__)


class FetchFailedError(ModelError):
    """Every enabled source was tried and none delivered the file (offline, or a server away)."""

    WITHOUT_NETWORK = (
        "Without the network: --from DIR (a folder holding the files, e.g. copied from a machine that "
        "has them), or --mirror URL (your own web directory of the files under their upstream names)"
    )


@dataclass(frozen=True, slots=True)
class FetchResult:
    filename: str
    path: Path
    installed: bool  # False: a good copy was already there
    origin: str
    verified: bool  # the obtained file matched a published checksum


def accepted_checksums(filename: str, spec: FileSpec, pinned: InstalledFile | None) -> set[str]:
    """Checksums an installed copy of `filename` may have."""
    accepted = {c for c in (spec.installed_checksum(),) if c is not None}
    if pinned is not None:
        accepted.add(pinned.sha256)
    return accepted


class Fetcher:
    """One fetch session: owns a scratch directory where package sources keep what they download."""

    def __init__(self, store: Path, options: SourceOptions, *, allow_unverified: bool = False) -> None:
        self.store = prepare_store(store)
        self._options = options
        self._allow_unverified = allow_unverified
        self._scratch = tempfile.TemporaryDirectory(prefix="posed-fetch-")
        self._sources: list[Source] = build_sources(options, Path(self._scratch.name))

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._scratch.cleanup()

    def fetch_model(self, name: str, *, force: bool = False) -> list[FetchResult]:
        model = packaged_registry().models.get(name)
        if model is None:
            known = ", ".join(packaged_registry().models)
            raise ModelNotFoundError(f"unknown model {name!r}; posed can fetch: {known}")
        return [self.fetch_file(filename, force=force) for filename in dict.fromkeys(model.files.values())]

    def fetch_file(self, filename: str, *, force: bool = False) -> FetchResult:
        spec = packaged_registry().files[filename]
        target = self.store / filename
        pinned = read_store_registry(self.store).files.get(filename)
        accepted = accepted_checksums(filename, spec, pinned)
        if target.is_file() and not force:
            digest = sha256_file(target)
            if digest in accepted:
                verified = pinned.verified if pinned is not None else True
                return FetchResult(filename, target, False, "already installed", verified)
            what = "unverifiable (no checksum known)" if not accepted else "corrupt (checksum mismatch)"
            log.warning("%s in %s is %s; fetching it again", filename, self.store, what)
        expected_source = spec.sha256 or (pinned.source_sha256 if pinned is not None else None)
        if expected_source is None and not self._allow_unverified:
            raise ModelError(
                f"{filename} has no published sha256, so posed cannot verify a download of it. "
                "Pass --allow-unverified to install it anyway: its checksum is then pinned in "
                f"{self.store}/registry.json and every later fetch and `posed models verify` must match it"
            )
        problems: list[str] = []
        with staging_dir(self.store) as stage:
            for source in self._sources:
                if not source.offers(filename, spec):
                    continue
                raw = stage / f"{source.name}.download"
                try:
                    origin = source.obtain(filename, spec, raw)
                except SourceMiss as exc:
                    problems.append(f"{source.name}: {exc}")
                    raw.unlink(missing_ok=True)
                    continue
                result = self._accept(filename, raw, origin, expected_source, accepted)
                if isinstance(result, str):
                    problems.append(f"{source.name}: {origin}: {result}")
                    raw.unlink(missing_ok=True)
                    continue
                return result
        tried = "; ".join(problems) if problems else "no enabled source offers it"
        raise FetchFailedError(f"could not fetch {filename}: {tried}")

    def _accept(
        self, filename: str, raw: Path, origin: str, expected_source: str | None, accepted: set[str]
    ) -> FetchResult | str:
        """Install `raw` if it checks out; else the reason it was rejected."""
        spec = packaged_registry().files[filename]
        size = raw.stat().st_size
        digest = sha256_file(raw)
        if digest in accepted and digest != expected_source:
            final, verified = raw, True  # already corrected (a copy of another store): install as is
        elif expected_source is not None and digest != expected_source:
            if spec.size is not None and size != spec.size:
                return f"wrong size {size} (expected {spec.size}): truncated or not this file"
            return f"checksum mismatch: sha256 {digest}, expected {expected_source}"
        else:
            verified = spec.sha256 is not None
            final = apply_transforms(spec.transforms, raw, raw.parent)
        installed_digest = sha256_file(final) if final is not raw else digest
        if spec.installed_sha256 is not None and installed_digest != spec.installed_sha256:
            log.info("%s: corrected copy differs from the registry's; pinning %s", filename, installed_digest)
        if not verified:
            log.warning("installing %s unverified from %s; pinned sha256 %s", filename, origin, digest)
        record = InstalledFile(
            sha256=installed_digest,
            size=final.stat().st_size,
            source_sha256=digest,
            verified=verified,
            origin=origin,
            installed_at=now_iso(),
        )
        target = self.store / filename
        with store_lock(self.store):
            install(final, target)
            with edit_store_registry(self.store) as registry:
                registry.files[filename] = record
        return FetchResult(filename, target, True, origin, verified)
