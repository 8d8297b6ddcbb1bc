"""The backend plugin contract.

A backend loads a `.tflite` file and runs it on tensors; that is all. Pose
pre- and post-processing lives in posed and is shared by every backend.
Backends are found through the `posed.backends` entry-point group; posed's own
backends register there exactly as a third party's would.

A plugin's entry point names a class (or any zero-argument callable) that
returns an object with this shape:

    name: str
    config_model: type[BackendConfig]       # validates the YAML `backend:` section
    probe() -> BackendStatus                # cheap; never raises
    open_session(path, config, role=...) -> InferenceSession
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

import numpy as np
import numpy.typing as npt
from pydantic import Field

from posed.strict import StrictModel

# Which model a session serves, so a backend can put each on its own device.
Role = str
ROLE_MAIN: Role = "main"
ROLE_DETECTOR: Role = "detector"
ROLE_LANDMARKS: Role = "landmarks"


class BackendConfig(StrictModel):
    """Base of every backend's config section; `type` selects the plugin."""

    type: str = Field(description="Entry-point name of the backend plugin (see `posed backends`).")


@dataclass(frozen=True, slots=True)
class Quantization:
    """Affine quantization of a tensor: real = scale * (q - zero_point)."""

    scale: float
    zero_point: int


@dataclass(frozen=True, slots=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name: "float32", "uint8", "int8"
    quantization: Quantization | None = None


@dataclass(frozen=True, slots=True)
class BackendStatus:
    """What `posed backends` prints for one plugin."""

    name: str
    runnable: bool
    detail: str  # the runtime in use and its version, or why it cannot run
    fix: str | None = None  # what to install or change when not runnable
    devices: tuple[str, ...] = ()


@runtime_checkable
class InferenceSession(Protocol):
    """One loaded model. The single owner closes it; use it as a context manager."""

    @property
    def inputs(self) -> tuple[TensorSpec, ...]: ...

    @property
    def outputs(self) -> tuple[TensorSpec, ...]: ...

    @property
    def device(self) -> str:
        """The device really in use, after any configured fallback."""
        ...

    def run(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        """Raw outputs in the order of `outputs`. They may be reused buffers,
        valid until the next call to run()."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Backend(Protocol):
    name: str
    config_model: type[BackendConfig]

    def probe(self) -> BackendStatus: ...

    def open_session(
        self, model_path: Path, config: BackendConfig, *, role: Role = ROLE_MAIN
    ) -> InferenceSession: ...
