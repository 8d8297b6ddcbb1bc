"""Settings built from command-line flags, checked as strictly as the config file's.

The commands that take model and backend options as flags (`estimate`, `bench`)
build the config's own pydantic models from them. A value the config would
refuse is a usage error (exit 2) that names the flag and says what would be
valid, in the words `posed check` uses, instead of a pydantic traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from posed.config.messages import message
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
# Every backend takes its place to run from --device (posed.cli.estimate.backend_settings).
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
