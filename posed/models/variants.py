"""int8 variants of BlazePose's float models: their names, their recipes, and finding them.

`posed models quantize` makes them (posed.quantize); `model.precision: int8` runs them.
Each variant is made for one backend by that backend's own tool, from the float
file the store already holds:
  - openvino: NNCF post-training quantization, saved as OpenVINO IR (`.xml` + `.bin`);
  - tflite: ai-edge-quantizer, saved as a `.tflite` file.
Beside each variant lies its recipe, `<stem>.int8-<backend>.recipe.json`: the tool
and its version, the calibration media and frame count, the source file's sha256,
every output file's sha256 and the options. A variant without its recipe is not
used: posed could not say how it was made, or from what.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from posed.errors import ModelError, ModelOptionError
from posed.models.registry import Sha256
from posed.strict import StrictModel

Precision = Literal["float", "int8"]
QuantizedBackend = Literal["openvino", "tflite"]
QUANTIZED_BACKENDS: tuple[QuantizedBackend, ...] = ("openvino", "tflite")
PRECISION_KEY = "model.precision"
RECIPE_SUFFIX = ".recipe.json"
# The main file (what a backend opens) comes first.
_SUFFIXES: dict[QuantizedBackend, tuple[str, ...]] = {"openvino": (".xml", ".bin"), "tflite": (".tflite",)}


def variant_stem(source_filename: str, backend: QuantizedBackend) -> str:
    """`pose_landmark_full.tflite` -> `pose_landmark_full.int8-openvino`."""
    return f"{Path(source_filename).stem}.int8-{backend}"


def variant_filenames(source_filename: str, backend: QuantizedBackend) -> tuple[str, ...]:
    """The files of one variant, the one a backend opens first."""
    stem = variant_stem(source_filename, backend)
    return tuple(stem + suffix for suffix in _SUFFIXES[backend])


def recipe_filename(source_filename: str, backend: QuantizedBackend) -> str:
    return variant_stem(source_filename, backend) + RECIPE_SUFFIX


class SourceRecord(StrictModel):
    filename: str = Field(description="The float file the variant was made from.")
    sha256: Sha256 = Field(description="Its checksum when the variant was made.")


class CalibrationRecord(StrictModel):
    sources: tuple[str, ...] = Field(description="Videos, images or folders the frames came from.")
    frames: int = Field(ge=1, description="Frames posed's float estimator ran on.")
    samples: int = Field(ge=1, description="Model inputs the tool was calibrated with.")
    samples_sha256: Sha256 = Field(description="Checksum of those inputs, in order, as float32 bytes.")


class Recipe(StrictModel):
    """How one int8 variant was made; written last, so it never names a file that is not there."""

    format: Literal[1] = Field(1, description="Recipe format version.")
    backend: QuantizedBackend = Field(description="The backend the variant is for.")
    role: Literal["detector", "landmarks"] = Field(description="Which BlazePose model it is.")
    tool: str = Field(description="The quantizer: nncf or ai-edge-quantizer.")
    tool_version: str = Field(description="Its version.")
    runtime_versions: dict[str, str] = Field(description="Other libraries the result depends on.")
    posed_version: str = Field(description="The posed that made it.")
    source: SourceRecord = Field(description="The float file quantized.")
    outputs: dict[str, Sha256] = Field(description="Every file of the variant -> its sha256.")
    calibration: CalibrationRecord = Field(description="What it was calibrated on.")
    options: dict[str, str | int | float | bool | list[str] | None] = Field(
        description="The tool's options (preset, layers kept in float, ...)."
    )
    made_at: str = Field(description="When, ISO 8601 UTC.")
    seconds: float = Field(ge=0, description="How long the tool took.")


def recipe_json(recipe: Recipe) -> str:
    return recipe.model_dump_json(indent=2) + "\n"


def read_recipe(path: Path) -> Recipe:
    """The recipe at `path`; ModelError saying what is wrong when it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot read the recipe {path}: {exc.strerror}") from exc
    try:
        return Recipe.model_validate_json(text)
    except ValidationError as exc:
        raise ModelError(
            f"the recipe {path} is corrupt ({exc.errors()[0]['msg']}); make the variant again with "
            "`posed models quantize --force`"
        ) from exc


class VariantNotMadeError(ModelOptionError):
    """`model.precision: int8` with no int8 variant made for this model and backend."""

    def __init__(self, message: str) -> None:
        super().__init__(PRECISION_KEY, message)


def quantized_backend(backend: str | None, model: str) -> QuantizedBackend:
    """The backend as a quantized one, or the reason int8 cannot be used with it."""
    for name in QUANTIZED_BACKENDS:
        if backend == name:
            return name
    raise ModelOptionError(
        PRECISION_KEY,
        f"int8 variants are made for the openvino and tflite backends, not {backend or 'this one'}; "
        f"use `precision: float` with {model}",
    )


def find_variant(
    model: str, files: dict[str, str], backend: QuantizedBackend, dirs: Sequence[Path]
) -> dict[str, Path]:
    """Role -> the variant file the backend opens, for each role of `files` (role -> float file name).

    Each variant must lie in one of `dirs` together with all its files and its recipe.
    Never makes one: a missing variant names the command that does.
    """
    found: dict[str, Path] = {}
    for role, source in files.items():
        names = (*variant_filenames(source, backend), recipe_filename(source, backend))
        directory = next((d for d in dirs if all((d / n).is_file() for n in names)), None)
        if directory is None:
            searched = ", ".join(str(d) for d in dirs) or "(no directories)"
            store = f" --model-dir {dirs[0]}" if dirs else ""
            raise VariantNotMadeError(
                f"int8 needs {names[0]} (the {role} of {model}, quantized for {backend}) with its "
                f"recipe {names[-1]}, in none of: {searched}. Make it once with "
                f"`posed models quantize {model} --backend {backend}{store}` "
                "(pip install 'posed[quantize]' first), or use `precision: float`"
            )
        found[role] = directory / names[0]
    return found
