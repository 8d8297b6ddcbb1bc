"""`posed models import`: register a user's own .tflite file as a named model in a store.

The layout is recognised from the file's tensors (posed.models.layout); a
file posed cannot run is refused with the reason. Coral's decoder op is
removed and Coral's clipping PoseNet quantization corrected on the way in,
so what is stored is what the pipelines run. The model is then usable by
name: resolve reads the store's registry.json.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from posed.errors import ModelError
from posed.models.layout import POSENET_DECODER_OP, Layout, detect_layout
from posed.models.registry import InstalledFile, ModelSpec, packaged_registry, read_store_registry
from posed.models.store import (
    edit_store_registry,
    install,
    now_iso,
    prepare_store,
    sha256_file,
    staging_dir,
    store_lock,
)
from posed.models.transforms import posenet_quantfix, strip_posenet_decoder
from posed.tflite_file import read_model_info

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
DETECTOR_FILE = "pose_detection.tflite"


@dataclass(frozen=True, slots=True)
class ImportResult:
    name: str
    store: Path
    layout: Layout
    files: dict[str, Path]
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Staged:
    path: Path
    layout: Layout
    notes: list[str]


def default_name(path: Path) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", path.stem.lower()).strip("-._") or "model"


def import_model(
    path: Path,
    store: Path,
    *,
    name: str | None = None,
    detector: Path | None = None,
    edgetpu: Path | None = None,
    force: bool = False,
) -> ImportResult:
    store = prepare_store(store)
    name = name or default_name(path)
    _check_name(name, store, force)
    with staging_dir(store) as stage:
        main = _stage(path, stage / "main.tflite")
        if main.layout.kind == "blazepose-detector":
            raise ModelError(
                f"{path} is a BlazePose person detector, not a model on its own: import the landmark "
                f"model and pass this file with --detector"
            )
        if main.layout.edgetpu:
            raise ModelError(
                f"{path} is compiled for the Edge TPU: import the CPU model it was compiled from and "
                "pass this file with --edgetpu (posed needs both; the Edge TPU runs the second)"
            )
        staged: dict[str, tuple[str, Path]] = {}  # role -> (file name, staged path)
        notes = list(main.notes)
        if main.layout.family == "blazepose":
            if edgetpu is not None:
                raise ModelError("--edgetpu goes with PoseNet models; BlazePose has no Edge TPU variant")
            staged["landmarks"] = (f"{name}.tflite", main.path)
            staged["detector"] = _detector(detector, store, stage, name)
        else:
            if detector is not None:
                raise ModelError("--detector goes with BlazePose landmark models, not PoseNet")
            staged["main"] = (f"{name}.tflite", main.path)
            if edgetpu is not None:
                tpu = _stage(edgetpu, stage / "edgetpu.tflite")
                _check_edgetpu_pair(edgetpu, tpu.layout, main.layout)
                staged["edgetpu"] = (f"{name}_edgetpu.tflite", tpu.path)
                notes.extend(f"Edge TPU file: {note}" for note in tpu.notes)
        files = _install(store, name, path, main.layout, staged)
    return ImportResult(name, store, main.layout, files, notes)


def _check_name(name: str, store: Path, force: bool) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise ModelError(
            f"model name {name!r} is not valid: use lowercase letters, digits, '.', '_' and '-' "
            "(at most 64), starting with a letter or digit"
        )
    if name in packaged_registry().models:
        raise ModelError(f"{name!r} is one of posed's own models; choose another --name")
    if name in read_store_registry(store).models and not force:
        raise ModelError(f"a model named {name!r} is already imported in {store}; pass --force to replace it")


def _stage(src: Path, dest: Path) -> _Staged:
    """Copy `src` into the stage in the form posed runs, and recognise its layout."""
    notes: list[str] = []
    info = read_model_info(src)
    if POSENET_DECODER_OP in info.custom_ops:
        strip_posenet_decoder(src, dest)
        notes.append(f"removed Coral's {POSENET_DECODER_OP} (posed decodes PoseNet itself)")
    else:
        shutil.copyfile(src, dest)
    layout = detect_layout(read_model_info(dest))
    if layout.kind == "posenet-coral" and not layout.edgetpu:
        fixed = dest.with_suffix(".fixed.tflite")
        posenet_quantfix(dest, fixed)
        if sha256_file(fixed) != sha256_file(dest):
            notes.append("corrected Coral's clipping output quantization (posed.posenet.quantfix)")
        fixed.replace(dest)
    return _Staged(dest, layout, notes)


def _detector(given: Path | None, store: Path, stage: Path, name: str) -> tuple[str, Path]:
    known = packaged_registry().files[DETECTOR_FILE]
    if given is None:
        installed = store / DETECTOR_FILE
        if installed.is_file() and sha256_file(installed) == known.sha256:
            return DETECTOR_FILE, installed
        raise ModelError(
            f"a BlazePose landmark model needs the person detector {DETECTOR_FILE} in {store}: "
            f"run `posed models fetch {DETECTOR_FILE} --model-dir {store}` first, or pass --detector FILE"
        )
    staged = _stage(given, stage / "detector.tflite")
    if staged.layout.kind != "blazepose-detector":
        raise ModelError(f"--detector {given} is not a BlazePose detector ({staged.layout.describe()})")
    if sha256_file(staged.path) == known.sha256:
        return DETECTOR_FILE, staged.path  # the standard detector: share it with the packaged models
    return f"{name}_detector.tflite", staged.path


def _check_edgetpu_pair(path: Path, tpu: Layout, cpu: Layout) -> None:
    if not tpu.edgetpu:
        raise ModelError(f"--edgetpu {path} is not compiled for the Edge TPU (no edgetpu-custom-op)")
    if (tpu.kind, tpu.input_size, tpu.output_stride) != (cpu.kind, cpu.input_size, cpu.output_stride):
        raise ModelError(
            f"--edgetpu {path} does not match the CPU model: {tpu.describe()} vs {cpu.describe()}"
        )


def _install(
    store: Path, name: str, source: Path, layout: Layout, staged: dict[str, tuple[str, Path]]
) -> dict[str, Path]:
    packaged_files = packaged_registry().files
    records: dict[str, InstalledFile] = {}
    moves: list[tuple[Path, Path]] = []
    for filename, path in staged.values():
        if filename in packaged_files and filename != DETECTOR_FILE:
            raise ModelError(f"{filename} is the name of one of posed's own files; choose another --name")
        target = store / filename
        if path == target:
            continue  # the detector already installed in this store
        records[filename] = InstalledFile(
            sha256=sha256_file(path),
            size=path.stat().st_size,
            source_sha256=sha256_file(source) if path.name == "main.tflite" else None,
            verified=filename == DETECTOR_FILE,
            origin=f"imported from {source.resolve()}",
            installed_at=now_iso(),
        )
        moves.append((path, target))
    spec = ModelSpec(
        family=layout.family,
        architecture=layout.describe(),
        input_size=layout.input_size,
        keypoints=layout.keypoints,
        licence=None,
        files={role: filename for role, (filename, _) in staged.items()},
        imported_from=str(source.resolve()),
        imported_at=now_iso(),
    )
    with store_lock(store):
        for path, target in moves:
            install(path, target)
        with edit_store_registry(store) as registry:
            old = registry.models.get(name)
            registry.files.update(records)
            registry.models[name] = spec
            if old is not None:
                _drop_orphans(store, registry.models, registry.files, set(old.files.values()))
    return {role: store / filename for role, (filename, _) in staged.items()}


def _drop_orphans(
    store: Path, models: dict[str, ModelSpec], files: dict[str, InstalledFile], candidates: set[str]
) -> None:
    """Remove files a replaced import left behind that no model uses any more."""
    used = {f for model in models.values() for f in model.files.values()}
    for filename in candidates - used:
        if filename in packaged_registry().files:
            continue
        (store / filename).unlink(missing_ok=True)
        files.pop(filename, None)
