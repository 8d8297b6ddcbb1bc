"""`posed models list`: every known and imported model, and where its files are installed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from posed.models.registry import ModelSpec, packaged_registry, read_store_registry


def list_models(dirs: Sequence[Path]) -> list[dict[str, Any]]:
    registry = packaged_registry()
    rows: list[dict[str, Any]] = []
    for name, model in registry.models.items():
        located = {role: _locate(filename, dirs) for role, filename in model.files.items()}
        kinds = {s.type for f in model.files.values() for s in registry.files[f].sources}
        unpublished = [f for f in model.files.values() if registry.files[f].sha256 is None]
        sources = ",".join(k for k in ("url", "pypi", "npm") if k in kinds)
        if unpublished:
            sources += " (no published sha256: --allow-unverified)"
        rows.append(_row(name, model, located, sources, imported=False))
    seen = set(registry.models)
    for directory in dirs:
        for name, model in read_store_registry(directory).models.items():
            if name in seen:
                continue  # an earlier directory defines it, as resolve sees it
            seen.add(name)
            located = {
                role: directory / f if (directory / f).is_file() else None for role, f in model.files.items()
            }
            rows.append(_row(name, model, located, f"imported from {model.imported_from}", imported=True))
    return rows


def _locate(filename: str, dirs: Sequence[Path]) -> Path | None:
    return next((d / filename for d in dirs if (d / filename).is_file()), None)


def _row(
    name: str, model: ModelSpec, located: dict[str, Path | None], sources: str, *, imported: bool
) -> dict[str, Any]:
    missing = [model.files[role] for role, path in located.items() if path is None]
    where = sorted({str(p.parent) for p in located.values() if p is not None})
    if not missing:
        status = f"yes ({', '.join(where)})"
    elif where:
        status = f"partly: missing {', '.join(missing)}"
    else:
        status = "no"
    return {
        "name": name,
        "family": model.family,
        "architecture": model.architecture,
        "input_size": list(model.input_size),
        "keypoints": model.keypoints,
        "licence": model.licence,
        "imported": imported,
        "installed": not missing,
        "status": status,
        "files": {role: str(path) if path else None for role, path in located.items()},
        "sources": sources,
    }
