"""The model registry: what posed knows about each model file and where to get it.

The registry is data (`known_models.json`, shipped with posed). Each store
directory may also hold a `registry.json` of its own, with the models a user
imported and a record of every file installed there (its checksum, where it
came from, whether that checksum was published or pinned on first download).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationError, model_validator

from posed.errors import ModelError
from posed.strict import StrictModel

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Family = Literal["blazepose", "posenet", "movenet"]
KeypointSet = Literal["blazepose-33", "coco-17"]
TransformName = Literal["posenet_quantfix", "strip_posenet_decoder"]
STORE_REGISTRY = "registry.json"


class UrlSource(StrictModel):
    type: Literal["url"] = Field(description="An official download URL.")
    url: str = Field(description="The URL; plain https, no authentication.")


class PackageSource(StrictModel):
    type: Literal["pypi", "npm"] = Field(
        description="A package fetched with its ordinary client: `pip download` or `npm pack`."
    )
    package: str = Field(description="Pinned requirement: `mediapipe==0.10.14` or `@scope/name@version`.")
    member: str = Field(description="Path of the file inside the wheel or the npm tarball.")
    inner_member: str | None = Field(
        None,
        description="When `member` is itself a zip archive: the file's path inside it.",
    )


SourceSpec = Annotated[UrlSource | PackageSource, Field(discriminator="type")]


class FileSpec(StrictModel):
    description: str = Field("", description="What the file is, for `posed models list`.")
    architecture: str | None = Field(None, description="Network architecture.")
    input_size: tuple[int, int] | None = Field(None, description="Input height and width in pixels.")
    dtype: str | None = Field(None, description="Input tensor type.")
    output_stride: int | None = Field(None, description="PoseNet: model pixels per output cell.")
    sha256: Sha256 | None = Field(
        description="Checksum of the file as its sources deliver it; null when none is published."
    )
    size: int | None = Field(None, ge=1, description="Size in bytes as delivered; null when unknown.")
    licence: str | None = Field(None, description="SPDX licence of the file.")
    transforms: tuple[TransformName, ...] = Field(
        (), description="Corrections applied, in order, before the file is installed."
    )
    installed_sha256: Sha256 | None = Field(
        None, description="Checksum after the transforms, when known; else pinned at first install."
    )
    sources: tuple[SourceSpec, ...] = Field((), description="Where the file can be obtained, in order.")

    def upstream_names(self) -> tuple[str, ...]:
        """Base names the file has at its sources (a local directory may hold it under these)."""
        names: list[str] = []
        for source in self.sources:
            if isinstance(source, UrlSource):
                raw = source.url.split("?", 1)[0]
            else:
                raw = source.inner_member or source.member
            name = raw.rstrip("/").rsplit("/", 1)[-1]
            if name and name not in names:
                names.append(name)
        return tuple(names)

    def installed_checksum(self) -> str | None:
        """The checksum an installed copy must have, when the registry alone can say."""
        if self.installed_sha256 is not None:
            return self.installed_sha256
        return None if self.transforms else self.sha256


class ModelSpec(StrictModel):
    family: Family = Field(description="Which pipeline runs the model.")
    architecture: str = Field(description="Network architecture, for people.")
    input_size: tuple[int, int] = Field(description="Main model input height and width in pixels.")
    keypoints: KeypointSet = Field(description="The keypoint set the model outputs.")
    licence: str | None = Field(None, description="SPDX licence; null when unknown (imported models).")
    files: dict[str, str] = Field(
        description="Role -> file name: detector/landmarks (BlazePose), main and edgetpu (PoseNet)."
    )
    imported_from: str | None = Field(None, description="Imported models: the file the user gave.")
    imported_at: str | None = Field(None, description="Imported models: when, ISO 8601 UTC.")


class Registry(StrictModel):
    format: Literal[1] = Field(description="Registry format version.")
    models: dict[str, ModelSpec] = Field(description="Known models by name.")
    files: dict[str, FileSpec] = Field(description="Known files by the name they are stored under.")

    @model_validator(mode="after")
    def _files_are_described(self) -> Registry:
        for name, model in self.models.items():
            missing = [f for f in model.files.values() if f not in self.files]
            if missing:
                raise ValueError(f"model {name!r} uses files with no entry: {missing}")
        return self


class InstalledFile(StrictModel):
    sha256: Sha256 = Field(description="Checksum of the installed file.")
    size: int = Field(ge=0, description="Size of the installed file in bytes.")
    source_sha256: Sha256 | None = Field(None, description="Checksum of the file as it was obtained.")
    verified: bool = Field(
        description="True when the obtained file matched a published checksum; false when pinned "
        "at first download (--allow-unverified) or imported by the user."
    )
    origin: str = Field(description="Where the file came from.")
    installed_at: str = Field(description="When, ISO 8601 UTC.")


class StoreRegistry(StrictModel):
    format: Literal[1] = Field(1, description="Registry format version.")
    models: dict[str, ModelSpec] = Field(default_factory=dict, description="Models the user imported.")
    files: dict[str, InstalledFile] = Field(
        default_factory=dict, description="Every file installed in this store by posed."
    )


@cache
def packaged_registry() -> Registry:
    text = files("posed.models").joinpath("known_models.json").read_text(encoding="utf-8")
    try:
        return Registry.model_validate_json(text)
    except ValidationError as exc:  # a packaging bug, not a user error; still say where
        raise ModelError(f"posed's known_models.json is invalid: {exc}") from exc


def read_store_registry(directory: Path) -> StoreRegistry:
    """The registry of one store directory; empty when it has none."""
    path = directory / STORE_REGISTRY
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return StoreRegistry()
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return StoreRegistry.model_validate_json(text)
    except ValidationError as exc:
        raise ModelError(
            f"{path} is corrupt ({exc.error_count()} problem(s), first: {exc.errors()[0]['msg']}); "
            "move it away and re-import or re-fetch the models it listed"
        ) from exc


def store_registry_json(registry: StoreRegistry) -> str:
    data = registry.model_dump(mode="json", exclude_defaults=False)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def imported_model(name: str, directories: list[Path]) -> tuple[ModelSpec, Path] | None:
    """The first store directory whose registry defines `name`, with the model."""
    for directory in directories:
        model = read_store_registry(directory).models.get(name)
        if model is not None:
            return model, directory
    return None


def known_file(filename: str) -> FileSpec | None:
    spec: Mapping[str, FileSpec] = packaged_registry().files
    return spec.get(filename)
