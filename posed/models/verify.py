"""`posed models verify`: re-hash every file in a store and say what is wrong.

A file is checked against the checksum its install pinned in the store's
registry.json, else against the packaged registry. Statuses:
ok, corrupt (checksum mismatch), missing (registered but gone), uncorrected
(the original Coral file where a corrected copy belongs), unverified (a known
name with no checksum to compare), unknown (not in any registry), partial
(an interrupted fetch's leftovers).

int8 variants (`posed models quantize`) are checked through their recipes: each
file the recipe lists must be there with the sha256 it records, and the float
file it was made from must still have the recorded sha256 (the store's copy, or
the checksum posed's registry publishes for it), else the variant is stale.
A variant file whose recipe is gone is unrecorded: posed cannot say how it was made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from posed.errors import ModelError
from posed.models.registry import StoreRegistry, packaged_registry, read_store_registry
from posed.models.store import STAGING_PREFIX, is_posed_internal, sha256_file
from posed.models.variants import RECIPE_SUFFIX, QuantizedBackend, read_recipe

Status = Literal[
    "ok", "corrupt", "missing", "uncorrected", "unverified", "unknown", "partial", "stale", "unrecorded"
]
FAILING: frozenset[Status] = frozenset({"corrupt", "missing", "stale", "unrecorded"})
QUANTIZED_ORIGIN = "quantized from "


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
    recipes = [p for p in present if p.name.endswith(RECIPE_SUFFIX) and p.is_file()]
    variant_reports = [report for recipe in recipes for report in _variant(store, recipe)]
    reports += variant_reports
    checked = {r.name for r in variant_reports}
    for path in present:
        if is_posed_internal(path) or path.name in checked:
            continue
        if _made_by_quantize(local, path.name):
            reports.append(
                FileReport(
                    path.name,
                    "unrecorded",
                    "made by `posed models quantize`, but its recipe is gone, so nothing says how or "
                    "from what; posed will not use it. Run `posed models quantize NAME --force`",
                )
            )
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
    for name in sorted(set(local.files) - names - checked):
        reports.append(FileReport(name, "missing", "registered in registry.json but not in the store"))
    return sorted(reports, key=lambda r: r.name)


def _made_by_quantize(local: StoreRegistry, name: str) -> bool:
    record = local.files.get(name)
    return record is not None and record.origin.startswith(QUANTIZED_ORIGIN)


def _variant(store: Path, recipe_path: Path) -> list[FileReport]:
    """The recipe and every file it lists."""
    try:
        recipe = read_recipe(recipe_path)
    except ModelError as exc:
        return [FileReport(recipe_path.name, "corrupt", str(exc))]
    fix = f"run `posed models quantize NAME --backend {recipe.backend} --force`"
    reports: list[FileReport] = []
    stale = _stale_source(store, recipe.source.filename, recipe.source.sha256, recipe.backend)
    for filename, expected in sorted(recipe.outputs.items()):
        path = store / filename
        if not path.is_file():
            reports.append(FileReport(filename, "missing", f"listed in {recipe_path.name}; {fix}"))
            continue
        digest = sha256_file(path)
        if digest != expected:
            reports.append(
                FileReport(filename, "corrupt", f"sha256 {digest}, {recipe_path.name} says {expected}; {fix}")
            )
        elif stale is not None:
            reports.append(FileReport(filename, "stale", f"{stale}; {fix}"))
        else:
            how = f"{recipe.tool} {recipe.tool_version}, {recipe.calibration.samples} calibration inputs"
            reports.append(
                FileReport(filename, "ok", f"int8 for {recipe.backend} from {recipe.source.filename} ({how})")
            )
    status: Status = "stale" if stale is not None else "ok"
    reports.append(
        FileReport(recipe_path.name, status, stale or f"recipe of {recipe.source.filename}'s int8 variant")
    )
    return reports


def _stale_source(store: Path, source: str, recorded: str, backend: QuantizedBackend) -> str | None:
    """Why the variant no longer matches its float source, or None when it does."""
    path = store / source
    digest: str | None
    if path.is_file():
        digest = sha256_file(path)
        where = f"{source} in this store"
    else:
        spec = packaged_registry().files.get(source)
        digest = spec.installed_checksum() if spec is not None else None
        where = f"posed's published {source}"
        if digest is None:
            return None  # nothing to compare with: the variant itself is intact
    if digest == recorded:
        return None
    return f"made for {backend} from a {source} with sha256 {recorded}, but {where} is {digest}"
