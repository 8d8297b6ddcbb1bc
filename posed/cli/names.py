"""Checks of names and paths typed on the command line, before anything slow is loaded."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path

from posed.errors import ModelNotFoundError, PosedError


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' for the closest of `choices`, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_model_name(name: str, model_dirs: Sequence[Path]) -> None:
    """A --model that is neither a .tflite path, a known model nor an imported one is an error."""
    from posed.models.listing import list_models

    if name.endswith(".tflite") or name == "blazepose":
        return
    names = [row["name"] for row in list_models(model_dirs)]
    if name not in names:
        raise ModelNotFoundError(
            f"unknown model {name!r}{did_you_mean(name, names)}; known models: {', '.join(names)} "
            "(or a .tflite path; see `posed models list`)"
        )


def check_inputs_exist(paths: Sequence[Path], what: str = "input") -> None:
    """Every path is an existing file; one error listing all that are not."""
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise PosedError(f"{what}{plural} not found: {', '.join(missing)}")
