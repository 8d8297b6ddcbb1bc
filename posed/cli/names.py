"""Checks of names and paths typed on the command line, before anything slow is loaded."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from posed.errors import ModelNotFoundError, PosedError
from posed.suggest import did_you_mean


def check_model_name(name: str, model_dirs: Sequence[Path]) -> None:
    """A --model that is neither a .tflite path, a known model nor an imported one is an error."""
    from posed.models.listing import list_models

    if name.endswith(".tflite") or name == "blazepose":
        return
    names = [row["name"] for row in list_models(model_dirs)]
    if name not in names:
        hint = did_you_mean(name, names, " (did you mean {!r}?)")
        raise ModelNotFoundError(
            f"unknown model {name!r}{hint}; known models: {', '.join(names)} "
            "(or a .tflite path; see `posed models list`)"
        )


def check_inputs_exist(paths: Sequence[Path], what: str = "input") -> None:
    """Every path exists and is no folder; one error listing all that are not. (A FIFO or a device
    passes here: reading it is refused later, per file, and the rest of a batch goes on.)"""
    missing = [str(p) for p in paths if not p.exists() or p.is_dir()]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise PosedError(f"{what}{plural} not found: {', '.join(missing)}")


def add_model_dir_argument(parser: argparse.ArgumentParser) -> None:
    """`--model-dir`, the same for every command that looks models up by name."""
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="Directory searched first for named models "
        "(default: none; then come $POSED_MODEL_DIR, the config's "
        "model_dir, $STATE_DIRECTORY/models, ~/.cache/posed/models).",
    )
