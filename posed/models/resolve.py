"""Find a model's files: named models in the model directories, or explicit paths.

Named models are looked up in this order: --model-dir, $POSED_MODEL_DIR, the
config's model_dir, systemd's $STATE_DIRECTORY/models, then the per-user cache.
Nothing here downloads: a missing model is an error naming the fetch command.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from posed.config.schema import ModelConfig
from posed.errors import ModelError, ModelNotFoundError, ModelOptionError
from posed.models.registry import imported_model, packaged_registry
from posed.regular_files import MAX_MODEL_BYTES, file_problem
from posed.tflite_file import read_model_info

Family = Literal["blazepose", "posenet", "movenet"]


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    name: str
    family: Family
    files: Mapping[str, Path]  # role -> file: {"detector", "landmarks"} or {"main"}


def known_models() -> Mapping[str, Mapping[str, Any]]:
    """The packaged models by name, each with at least `family` and `files` (role -> file name)."""
    return {name: spec.model_dump() for name, spec in packaged_registry().models.items()}


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "posed" / "models"


def model_search_path(
    cli_dir: Path | None = None, config_dir: Path | None = None, env: Mapping[str, str] | None = None
) -> list[Path]:
    env = os.environ if env is None else env
    candidates: list[Path | None] = [
        cli_dir,
        Path(env["POSED_MODEL_DIR"]) if env.get("POSED_MODEL_DIR") else None,
        config_dir,
        Path(env["STATE_DIRECTORY"].split(":")[0]) / "models" if env.get("STATE_DIRECTORY") else None,
        user_cache_dir(),
    ]
    seen: list[Path] = []
    for candidate in candidates:
        if candidate is not None and candidate not in seen:
            seen.append(candidate)
    return seen


def resolve_model(
    model: ModelConfig, model_dirs: Sequence[Path], *, backend: str | None = None
) -> ResolvedModel:
    """The model's files; with `precision: int8`, those of its int8 variant for `backend`."""
    if model.precision == "int8":
        assert model.name is not None  # the schema ties int8 to a name
        return resolve_int8(model.name, model_dirs, backend, model_type=model.blazepose.model_type)
    if model.name is not None:
        return resolve_named(model.name, model_dirs, model_type=model.blazepose.model_type)
    assert model.path is not None
    return resolve_path(model.path, model.detector_path, model_dirs)


def resolve_named(name: str, model_dirs: Sequence[Path], *, model_type: str = "full") -> ResolvedModel:
    """Find a named model's files. Never downloads: a missing file names the fetch command.

    Packaged models are looked up file by file along `model_dirs`; models a user
    imported are defined by a store's registry.json and live beside it.
    """
    if name == "blazepose":
        name = f"blazepose-{model_type}"
    packaged = packaged_registry().models.get(name)
    if packaged is not None:
        found: dict[str, Path] = {}
        for role, filename in packaged.files.items():
            path = _first_existing(filename, model_dirs)
            if path is None:
                raise ModelNotFoundError(_missing_message(name, filename, model_dirs))
            found[role] = path
        return ResolvedModel(name=name, family=packaged.family, files=found)
    imported = imported_model(name, list(model_dirs))
    if imported is None:
        raise ModelNotFoundError(
            f"unknown model {name!r}; known models: {', '.join(packaged_registry().models)} "
            "(see `posed models list`; add your own with `posed models import FILE --name NAME`)"
        )
    spec, directory = imported
    paths = {role: directory / filename for role, filename in spec.files.items()}
    for path in paths.values():
        if not path.is_file():
            raise ModelNotFoundError(
                f"imported model {name!r} is registered in {directory} but {path.name} is gone; "
                f"import it again with `posed models import FILE --name {name} --model-dir {directory}`"
            )
    return ResolvedModel(name=name, family=spec.family, files=paths)


def resolve_int8(
    name: str, model_dirs: Sequence[Path], backend: str | None, *, model_type: str = "full"
) -> ResolvedModel:
    """A packaged BlazePose model's int8 variant made for `backend` by `posed models quantize`."""
    from posed.models.variants import PRECISION_KEY, find_variant, quantized_backend

    if name == "blazepose":
        name = f"blazepose-{model_type}"
    packaged = packaged_registry().models.get(name)
    if packaged is None or packaged.family != "blazepose":
        blazepose = [n for n, m in packaged_registry().models.items() if m.family == "blazepose"]
        what = "a PoseNet model, already uint8" if packaged is not None else "not a packaged model"
        raise ModelOptionError(
            PRECISION_KEY, f"int8 variants exist for {', '.join(blazepose)}; {name!r} is {what}"
        )
    files = find_variant(name, dict(packaged.files), quantized_backend(backend, name), model_dirs)
    return ResolvedModel(name=f"{name} int8", family="blazepose", files=files)


def _missing_message(name: str, filename: str, model_dirs: Sequence[Path]) -> str:
    searched = ", ".join(str(d) for d in model_dirs) or "(no directories)"
    store = f" --model-dir {model_dirs[0]}" if model_dirs else ""
    return (
        f"model {name!r} needs {filename}, which is in none of: {searched}. "
        f"posed never downloads at run time: run `posed models fetch {name}{store}` "
        "once (add --from DIR to copy from a local directory when offline), or pass --model-dir."
    )


def resolve_path(path: Path, detector_path: Path | None, model_dirs: Sequence[Path]) -> ResolvedModel:
    from posed.models.layout import detect_layout

    for key, given in (("model.path", path), ("model.detector_path", detector_path)):
        # A missing file is check_header's to report (it names the fetch command).
        if given is not None and given.exists() and (problem := file_problem(given, MAX_MODEL_BYTES)):
            raise ModelOptionError(key, f"cannot read {given}: {problem}")
    layout = detect_layout(read_model_info(path))  # says why when posed cannot use the file
    if layout.kind == "blazepose-detector":
        raise ModelError(
            f"{path} is the BlazePose person detector; give the landmark model as model.path "
            "(and this file as model.detector_path)"
        )
    if layout.family != "blazepose":
        return ResolvedModel(path.stem, layout.family, {"main": path})
    detector = detector_path or _first_existing("pose_detection.tflite", [path.parent, *model_dirs])
    if detector is None:
        raise ModelNotFoundError(
            f"{path} is a BlazePose landmark model; it also needs pose_detection.tflite "
            "beside it, in a model directory, or as model.detector_path"
        )
    return ResolvedModel(path.stem, "blazepose", {"detector": detector, "landmarks": path})


def _first_existing(filename: str, dirs: Iterable[Path]) -> Path | None:
    for directory in dirs:
        candidate = directory / filename
        if candidate.is_file():
            return candidate
    return None
