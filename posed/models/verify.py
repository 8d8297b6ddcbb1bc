"""`posed models verify`: re-hash every file in a store and say what is wrong.

A file is checked against the checksum its install pinned in the store's
registry.json, else against the packaged registry. Statuses:
ok, corrupt (checksum mismatch), missing (registered but gone), uncorrected
(the original Coral file where a corrected copy belongs), unverified (a known
name with no checksum to compare), unknown (not in any registry), partial
(an interrupted fetch's leftovers).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from posed.models.registry import packaged_registry, read_store_registry
from posed.models.store import STAGING_PREFIX, is_posed_internal, sha256_file

Status = Literal["ok", "corrupt", "missing", "uncorrected", "unverified", "unknown", "partial"]
FAILING: frozenset[Status] = frozenset({"corrupt", "missing"})


@dataclass(frozen=True, slots=True)
class FileReport:
    name: str
    status: Status
    detail: str

    @property
    def failed(self) -> bool:
        return self.status in FAILING


def verify_store(store: Path) -> list[FileReport]:
    packaged = packaged_registry().files
    local = read_store_registry(store)
    reports: list[FileReport] = []
    present = sorted(p for p in store.iterdir()) if store.is_dir() else []
    for path in present:
        if is_posed_internal(path):
            continue
        if path.name.startswith(STAGING_PREFIX):
            reports.append(FileReport(path.name, "partial", "left by an interrupted fetch; safe to delete"))
            continue
        if not path.is_file():
            continue
        pinned = local.files.get(path.name)
        spec = packaged.get(path.name)
        if pinned is None and spec is None:
            reports.append(FileReport(path.name, "unknown", "in no registry (use `posed models import`)"))
            continue
        digest = sha256_file(path)
        expected = pinned.sha256 if pinned is not None else spec.installed_checksum() if spec else None
        if expected is not None and digest == expected:
            how = "verified"
            if pinned is not None and not pinned.verified:
                imported = pinned.origin.startswith("imported")
                how = "checksum recorded at import" if imported else "checksum pinned at first download"
            reports.append(FileReport(path.name, "ok", how))
        elif spec is not None and spec.transforms and digest == spec.sha256:
            reports.append(
                FileReport(
                    path.name,
                    "uncorrected",
                    f"the original file without posed's correction ({', '.join(spec.transforms)}); "
                    f"run `posed models fetch --force {path.name}` (add --from DIR offline)",
                )
            )
        elif expected is None:
            reports.append(FileReport(path.name, "unverified", "no checksum is published or pinned"))
        else:
            fix = f"posed models fetch --force {path.name}" if spec else "posed models import FILE --force"
            reports.append(
                FileReport(path.name, "corrupt", f"sha256 {digest}, expected {expected}; run `{fix}`")
            )
    names = {p.name for p in present}
    for name in sorted(set(local.files) - names):
        reports.append(FileReport(name, "missing", "registered in registry.json but not in the store"))
    return reports
