"""Make, check and install the int8 variants of one BlazePose model for one backend.

For each role (detector, landmarks) the float file is found along the model
search path. A variant already in the store is kept when its recipe records the
same source sha256 and options and its files still hash as recorded; otherwise
posed's float estimator is run over the calibration media once (posed.quantize.
calibration), the backend's tool quantizes the file into a staging directory in
the store, the result is opened with the backend and run on calibration inputs
(its outputs must have the float model's shapes and be finite), and only then are
the files renamed into place, the recipe last, and pinned in the store's registry.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posed import __version__
from posed.backend import Backend, BackendConfig
from posed.errors import ModelError
from posed.models.registry import InstalledFile, packaged_registry
from posed.models.resolve import resolve_named
from posed.models.store import (
    edit_store_registry,
    install,
    now_iso,
    prepare_store,
    sha256_file,
    staging_dir,
    store_lock,
)
from posed.models.variants import (
    CalibrationRecord,
    QuantizedBackend,
    Recipe,
    SourceRecord,
    read_recipe,
    recipe_filename,
    recipe_json,
    variant_filenames,
)
from posed.quantize.calibration import CalibrationSet, collect
from posed.quantize.tflite_fold import tensor_names
from posed.quantize.tools import Int8Options, quantize, require_tool

log = logging.getLogger(__name__)
ROLES = ("detector", "landmarks")
CHECK_SAMPLES = 4  # calibration inputs the finished variant is run on before it is installed


@dataclass(frozen=True, slots=True)
class MadeVariant:
    role: str
    path: Path  # the file the backend opens
    made: bool  # False: a matching variant was already in the store
    recipe: Recipe


def quantize_model(
    name: str,
    backend_name: QuantizedBackend,
    *,
    backend: Backend,
    backend_config: BackendConfig,
    store: Path,
    search_path: Sequence[Path],
    media: Sequence[Path],
    frames: int,
    options: Int8Options,
    force: bool = False,
    progress: Callable[[str], None] = log.info,
) -> list[MadeVariant]:
    """The int8 variants of `name` (a packaged BlazePose model) for `backend_name`, made if needed."""
    spec = packaged_registry().models.get(name)
    if spec is None or spec.family != "blazepose":
        blazepose = [n for n, m in packaged_registry().models.items() if m.family == "blazepose"]
        raise ModelError(f"posed quantizes BlazePose's models ({', '.join(blazepose)}), not {name!r}")
    store = prepare_store(store)
    sources = resolve_named(name, [store, *search_path]).files  # says how to fetch a missing one
    _check_keep_float(options.keep_float, sources.values())
    recorded = options.recorded(backend_name)
    results: dict[str, MadeVariant] = {}
    for role in ROLES:
        kept = None if force else _kept(store, sources[role], backend_name, recorded, role)
        if kept is not None:
            results[role] = kept
    missing = [role for role in ROLES if role not in results]
    if missing:
        require_tool(backend_name)
        progress(f"calibrating: posed's float {name} on {frames} frame(s) of {', '.join(map(str, media))}")
        calibration = collect(dict(sources), backend, backend_config, media, frames=frames)
        for role in missing:
            count = len(calibration.samples[role])
            progress(f"quantizing {sources[role].name} for {backend_name} on {count} inputs")
            results[role] = _make(
                role,
                sources[role],
                backend_name,
                backend=backend,
                backend_config=backend_config,
                store=store,
                calibration=calibration,
                options=options,
            )
    return [results[role] for role in ROLES]


def _check_keep_float(patterns: Sequence[str], sources: Iterable[Path]) -> None:
    """Each --keep-float pattern names a layer of the detector or the landmark model: a typo is an error."""

    names = [name for source in sources for name in tensor_names(source)]
    unmatched = [p for p in patterns if not any(re.search(p, name) for name in names)]
    if unmatched:
        raise ModelError(f"--keep-float: no layer of the float files matches {', '.join(unmatched)}")


def _kept(
    store: Path, source: Path, backend_name: QuantizedBackend, recorded: Mapping[str, object], role: str
) -> MadeVariant | None:
    """The variant already in the store, when it was made from this source with these options."""
    recipe_path = store / recipe_filename(source.name, backend_name)
    if not recipe_path.is_file():
        return None
    try:
        recipe = read_recipe(recipe_path)
    except ModelError as exc:
        log.warning("%s; making it again", exc)
        return None
    if recipe.source.sha256 != sha256_file(source) or recipe.options != recorded:
        return None
    for filename, digest in recipe.outputs.items():
        path = store / filename
        if not path.is_file() or sha256_file(path) != digest:
            return None
    main = variant_filenames(source.name, backend_name)[0]
    return MadeVariant(role, store / main, False, recipe)


def _make(
    role: str,
    source: Path,
    backend_name: QuantizedBackend,
    *,
    backend: Backend,
    backend_config: BackendConfig,
    store: Path,
    calibration: CalibrationSet,
    options: Int8Options,
) -> MadeVariant:
    samples = calibration.samples[role]
    source_digest = sha256_file(source)
    with staging_dir(store) as stage:
        run = quantize(backend_name, source, samples, stage, options, backend=backend)
        _check(run.outputs[0], source, backend, backend_config, role=role, samples=samples[:CHECK_SAMPLES])
        outputs = {path.name: sha256_file(path) for path in run.outputs}
        recipe = Recipe(
            backend=backend_name,
            role="detector" if role == "detector" else "landmarks",
            tool=run.tool,
            tool_version=run.tool_version,
            runtime_versions=run.runtime_versions,
            posed_version=__version__,
            source=SourceRecord(filename=source.name, sha256=source_digest),
            outputs=outputs,
            calibration=CalibrationRecord(
                sources=calibration.sources,
                frames=calibration.frames,
                samples=len(samples),
                samples_sha256=calibration.digest(role),
            ),
            options=run.options,
            made_at=now_iso(),
            seconds=round(run.seconds, 1),
        )
        recipe_path = stage / recipe_filename(source.name, backend_name)
        recipe_path.write_text(recipe_json(recipe), encoding="utf-8")
        origin = f"quantized from {source.name} by {run.tool} {run.tool_version} (posed models quantize)"
        with store_lock(store):
            # The recipe goes in last: a recipe never names a file that is not there yet.
            for path in (*run.outputs, recipe_path):
                install(path, store / path.name)
            with edit_store_registry(store) as registry:
                for filename, digest in outputs.items():
                    registry.files[filename] = InstalledFile(
                        sha256=digest,
                        size=(store / filename).stat().st_size,
                        source_sha256=source_digest,
                        verified=False,
                        origin=origin,
                        installed_at=recipe.made_at,
                    )
    return MadeVariant(role, store / run.outputs[0].name, True, recipe)


def _check(
    variant: Path,
    source: Path,
    backend: Backend,
    backend_config: BackendConfig,
    *,
    role: str,
    samples: Sequence[np.ndarray[tuple[int, ...], np.dtype[np.float32]]],
) -> None:
    """The variant loads in the backend, and gives finite outputs of the float model's shapes."""
    with (
        backend.open_session(source, backend_config, role=role) as reference,
        backend.open_session(variant, backend_config, role=role) as session,
    ):
        expected = sorted(spec.shape for spec in reference.outputs)
        got = sorted(spec.shape for spec in session.outputs)
        if got != expected:
            raise ModelError(f"{variant.name}: output shapes {got}, the float model's are {expected}")
        for sample in samples:
            outputs = session.run(sample)
            if not all(np.isfinite(np.asarray(out, dtype=np.float32)).all() for out in outputs):
                raise ModelError(
                    f"{variant.name} gives non-finite outputs on calibration input; not installed"
                )
