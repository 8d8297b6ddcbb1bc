"""Find a model's files: named models in the model directories, or explicit paths.

Named models are looked up in this order: --model-dir, $POSED_MODEL_DIR, the
config's model_dir, systemd's $STATE_DIRECTORY/models, then the per-user cache.
Nothing here downloads: a missing model is an error naming the fetch command.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from posed.config.schema import ModelConfig
from posed.errors import ModelError, ModelNotFoundError
from posed.tflite_file import read_model_info

Family = Literal["blazepose", "posenet"]


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    name: str
    family: Family
    files: Mapping[str, Path]  # role -> file: {"detector", "landmarks"} or {"main"}


@cache
def known_models() -> Mapping[str, Mapping[str, Any]]:
    data = files("posed.models").joinpath("known_models.json").read_text(encoding="utf-8")
    loaded: dict[str, Mapping[str, Any]] = json.loads(data)
    return loaded


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


def resolve_model(model: ModelConfig, model_dirs: Sequence[Path]) -> ResolvedModel:
    if model.name is not None:
        return resolve_named(model.name, model_dirs, model_type=model.blazepose.model_type)
    assert model.path is not None
    return resolve_path(model.path, model.detector_path, model_dirs)


def resolve_named(name: str, model_dirs: Sequence[Path], *, model_type: str = "full") -> ResolvedModel:
    catalog = known_models()
    if name == "blazepose":
        name = f"blazepose-{model_type}"
    entry = catalog.get(name)
    if entry is None:
        raise ModelNotFoundError(f"unknown model {name!r}; known models: {', '.join(catalog)}")
    found: dict[str, Path] = {}
    for role, filename in entry["files"].items():
        path = _first_existing(filename, model_dirs)
        if path is None:
            searched = ", ".join(str(d) for d in model_dirs) or "(no directories)"
            raise ModelNotFoundError(
                f"model {name!r} needs {filename}, which is in none of: {searched}. "
                f"Run `posed models fetch {name}` (or pass --model-dir)."
            )
        found[role] = path
    return ResolvedModel(name=name, family=entry["family"], files=found)


def resolve_path(path: Path, detector_path: Path | None, model_dirs: Sequence[Path]) -> ResolvedModel:
    info = read_model_info(path)
    out_shapes = [spec.shape for spec in info.outputs]
    if (1, 195) in out_shapes:
        detector = detector_path or _first_existing("pose_detection.tflite", [path.parent, *model_dirs])
        if detector is None:
            raise ModelNotFoundError(
                f"{path} is a BlazePose landmark model; it also needs pose_detection.tflite "
                "beside it, in a model directory, or as model.detector_path"
            )
        return ResolvedModel(path.stem, "blazepose", {"detector": detector, "landmarks": path})
    if len(info.outputs) in (3, 4) and all(len(s) == 4 for s in out_shapes):
        return ResolvedModel(path.stem, "posenet", {"main": path})
    raise ModelError(
        f"{path} is neither a BlazePose landmark model nor a PoseNet model: outputs "
        f"{[(s.name, s.shape) for s in info.outputs]}"
    )


def _first_existing(filename: str, dirs: Iterable[Path]) -> Path | None:
    for directory in dirs:
        candidate = directory / filename
        if candidate.is_file():
            return candidate
    return None
