"""Settings built from command-line flags, checked as strictly as the config file's.

The commands that take model and backend options as flags (`estimate`, `evaluate`, `bench`)
build the config's own pydantic models from them. A value the config would
refuse is a usage error (exit 2) that names the flag and says what would be
valid, in the words `posed check` uses, instead of a pydantic traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from posed.backend import Backend, BackendConfig, backend_settings
from posed.config.messages import message
from posed.config.schema import ModelConfig
from posed.errors import EXIT_USAGE, PosedError

T = TypeVar("T")

# Config key (the last part of an error's location that names a field) -> the flag that sets it.
MODEL_FLAGS: Mapping[str, str] = {
    "max_pose_detections": "--max-poses",
    "score_threshold": "--score-threshold",
    "nms_radius": "--nms-radius",
    "decoding": "--decoding",
    "input_resolution": "--input-resolution",
    "num_poses": "--num-poses",
    "detector": "--person-detector",
    "precision": "--precision",
    "multipose_max_dimension": "--multipose-max-dimension",
    "name": "--model",
    "path": "--model",
}
# Every backend takes its place to run from --device (its device_settings, posed.backend).
BACKEND_FLAGS: Mapping[str, str] = {
    "device": "--device",
    "delegate": "--device",
    "edgetpu_device": "--device",
    "url": "--device",
}


class FlagError(PosedError):
    """A flag's value is one the config would refuse."""

    exit_code = EXIT_USAGE


def checked(build: Callable[[], T], model: type[BaseModel], flags: Mapping[str, str]) -> T:
    """`build()`, whose pydantic errors (against `model`) become one FlagError naming the flags."""
    try:
        return build()
    except ValidationError as exc:
        raise FlagError(describe(exc, model, flags)) from None


def describe(exc: ValidationError, model: type[BaseModel], flags: Mapping[str, str]) -> str:
    """One line per flag at fault: for a value several types could take, the first type's reason."""
    said: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        flag = next((flags[part] for part in reversed(loc) if isinstance(part, str) and part in flags), None)
        key = flag or ".".join(str(part) for part in loc)
        text = message(error, model, loc)
        said.setdefault(key, f"{key}: {text}" if key else text)
    return "; ".join(said.values())


def model_config(args: argparse.Namespace, *, static: bool) -> ModelConfig:
    """The model section the flags describe; a value the config would refuse is a FlagError."""
    posenet: dict[str, Any] = {
        key: value
        for key, value in {
            "max_pose_detections": args.max_poses,
            "score_threshold": args.score_threshold,
            "nms_radius": args.nms_radius,
            "decoding": args.decoding,
            "input_resolution": args.input_resolution,
        }.items()
        if value is not None
    }
    several: dict[str, Any] = {
        key: value
        for key, value in {"num_poses": args.num_poses, "detector": args.person_detector}.items()
        if value is not None
    }
    blazepose = {"static_image_mode": static, "enable_smoothing": not args.no_smoothing, **several}
    source: dict[str, Any] = (
        {"path": Path(args.model)} if args.model.endswith(".tflite") else {"name": args.model}
    )
    movenet: dict[str, Any] = {"enable_smoothing": not args.no_smoothing}
    if args.multipose_max_dimension is not None:
        movenet["multipose_max_dimension"] = args.multipose_max_dimension
    document = {
        **source,
        "precision": args.precision,
        "blazepose": blazepose,
        "posenet": posenet,
        "movenet": movenet,
    }
    return checked(lambda: ModelConfig.model_validate(document), ModelConfig, MODEL_FLAGS)


def backend_config(backend: Backend, device: str | None) -> BackendConfig:
    """The backend section `--backend`/`--device` describe; a device it refuses is a FlagError."""
    settings = backend_settings(backend, device)
    # The keys the backend's own device mapping set are --device's too (a third-party plugin's).
    flags = {**BACKEND_FLAGS, **{key: "--device" for key in settings if key != "type"}}
    return checked(lambda: backend.config_model.model_validate(settings), backend.config_model, flags)
