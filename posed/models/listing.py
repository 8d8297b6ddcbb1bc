"""`posed models list`: every known and imported model, where its files are installed, and for
BlazePose which int8 variants `posed models quantize` has made (and where)."""

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
        sources = ",".join(k for k in ("url", "pypi", "npm") if k in kinds) or "--from DIR only"
        if unpublished:
            sources += " (no published sha256: --allow-unverified)"
        row = _row(name, model, located, sources, imported=False)
        if model.family == "blazepose":
            row["int8"] = _int8_variants(name, dict(model.files), dirs)
        rows.append(row)
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


def _int8_variants(name: str, files: dict[str, str], dirs: Sequence[Path]) -> dict[str, str | None]:
    """Backend -> the directory holding the model's int8 variant (with its recipe), or None."""
    from posed.errors import ModelError
    from posed.models.variants import QUANTIZED_BACKENDS, find_variant

    found: dict[str, str | None] = {}
    for backend in QUANTIZED_BACKENDS:
        try:
            paths = find_variant(name, files, backend, dirs)
        except ModelError:
            found[backend] = None
            continue
        found[backend] = ", ".join(sorted({str(p.parent) for p in paths.values()}))
    return found


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
