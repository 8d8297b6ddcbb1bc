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

A backend may also accept `input_shape=` in open_session() (ResizableBackend):
it then resizes input 0 at load time, for fully convolutional models such as
PoseNet, and the session's specs describe the resized tensors.

Sessions are not thread-safe: one owner calls run() and closes the session.
A session may also offer start()/wait() (OverlappingSession), which lets posed
decode one frame while the next is inferred.
`posed.testing.backend_conformance` checks a backend against this contract.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, cast, runtime_checkable

import numpy as np
import numpy.typing as npt
from pydantic import Field

from posed.errors import BackendError, BadAnswerError, ModelError
from posed.strict import StrictModel

# Which model a session serves, so a backend can put each on its own device.
Role = str
ROLE_MAIN: Role = "main"
ROLE_DETECTOR: Role = "detector"
ROLE_LANDMARKS: Role = "landmarks"


class BackendConfig(StrictModel):
    """Base of every backend's config section; `type` selects the plugin."""

    type: str = Field(
        max_length=64,
        description="Entry-point name of the backend plugin (see `posed backends`), at most 64 characters.",
    )


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
    devices: tuple[str, ...] = ()  # ids as the config names them: "cpu", "usb:0", "CPU", "GPU.0"
    runtime: str | None = None  # the library doing the work and its version, e.g. "ai-edge-litert 2.3.0"
    device_names: Mapping[str, str] = field(default_factory=dict)  # device id -> what it is
    notes: tuple[str, ...] = ()  # further facts, e.g. why an accelerator is not usable and the fix


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


# Runs an overlapping session may have started and not yet waited for.
MAX_IN_FLIGHT = 2


@runtime_checkable
class OverlappingSession(InferenceSession, Protocol):
    """Optional: a session that runs the model while its caller works on the last outputs.

    start() copies the inputs and begins a run, returning at once; wait() blocks
    until the oldest started run ends and returns its outputs, valid until the
    next start() or run(). At most MAX_IN_FLIGHT runs are started and not waited
    for; run() needs none in flight. Exceeding either raises BackendError.
    """

    @property
    def in_flight(self) -> int: ...

    def start(self, *inputs: npt.NDArray[np.generic]) -> None: ...

    def wait(self) -> tuple[npt.NDArray[np.generic], ...]: ...


class Backend(Protocol):
    name: str
    config_model: type[BackendConfig]

    def probe(self) -> BackendStatus: ...

    def open_session(
        self, model_path: Path, config: BackendConfig, *, role: Role = ROLE_MAIN
    ) -> InferenceSession: ...


class ResizableBackend(Backend, Protocol):
    """Optional: a backend that can resize a model's input when it loads it.

    `input_shape` is the full shape of input 0, e.g. (1, 353, 481, 3); None keeps the
    file's own. A model that cannot take that shape raises ModelError.
    """

    def open_session(
        self,
        model_path: Path,
        config: BackendConfig,
        *,
        role: Role = ROLE_MAIN,
        input_shape: tuple[int, ...] | None = None,
    ) -> InferenceSession: ...


def can_resize(backend: Backend) -> bool:
    """True when the backend's open_session() takes `input_shape` (ResizableBackend)."""
    import inspect

    try:
        parameters = inspect.signature(backend.open_session).parameters
    except (TypeError, ValueError):
        return False
    return "input_shape" in parameters


def open_resized_session(
    backend: Backend,
    model_path: Path,
    config: BackendConfig,
    input_shape: tuple[int, ...] | None,
    *,
    role: Role = ROLE_MAIN,
) -> InferenceSession:
    """open_session(), resizing input 0 to `input_shape` unless that is None.

    A backend without ResizableBackend's `input_shape` gets a ModelError that says so,
    never a session at the file's own size.
    """
    if input_shape is None:
        return backend.open_session(model_path, config, role=role)
    if not can_resize(backend):
        raise ModelError(
            f"the {backend.name} backend cannot resize a model's input, so {model_path.name} runs only at "
            "its own input size: remove model.posenet.input_resolution, or use a model file made for "
            f"{'x'.join(str(d) for d in input_shape[1:3])}"
        )
    return cast(ResizableBackend, backend).open_session(
        model_path, config, role=role, input_shape=input_shape
    )


class HasTensorSpecs(Protocol):
    """A session, or the `ModelInfo` read from a file: anything that describes its tensors."""

    @property
    def inputs(self) -> tuple[TensorSpec, ...]: ...

    @property
    def outputs(self) -> tuple[TensorSpec, ...]: ...


def expect_input(
    source: HasTensorSpecs,
    shape: Sequence[int | None],
    dtypes: str | Collection[str],
    model_kind: str,
    *,
    index: int = 0,
) -> TensorSpec:
    """Check that input `index` has `shape` (None matches any size) and one of `dtypes`.

    Returns the input's spec. Raises ModelError naming the expected and the actual
    tensor, so a wrong file given as `model.path` fails at load with a clear message
    instead of producing nonsense poses.
    """
    wanted = (dtypes,) if isinstance(dtypes, str) else tuple(dtypes)
    expected = f"{_shape_text(shape)} {'|'.join(wanted)}"
    where = _source_name(source)
    if len(source.inputs) <= index:
        raise ModelError(
            f"{where} is not a {model_kind} model: expected input {index} {expected}, but the model "
            f"has {len(source.inputs)} input(s). Check model.path, or use a named model."
        )
    spec = source.inputs[index]
    shape_ok = len(spec.shape) == len(shape) and all(
        want is None or want == got for want, got in zip(shape, spec.shape, strict=True)
    )
    if not shape_ok or spec.dtype not in wanted:
        raise ModelError(
            f"{where} is not a {model_kind} model: expected input {index} {expected}, got "
            f"{spec.name!r} {_shape_text(spec.shape)} {spec.dtype}. Check model.path, or use a named model."
        )
    return spec


def check_inputs(
    model_name: str, specs: Sequence[TensorSpec], arrays: Sequence[npt.NDArray[np.generic]]
) -> None:
    """For backends' run(): raise BackendError unless `arrays` match `specs` exactly.

    No silent casts or reshapes: a float image given to a uint8 model is a caller bug.
    """
    if len(arrays) != len(specs):
        raise BackendError(f"{model_name} takes {len(specs)} input(s), got {len(arrays)}")
    for i, (spec, array) in enumerate(zip(specs, arrays, strict=True)):
        if array.shape != spec.shape or array.dtype.name != spec.dtype:
            raise BackendError(
                f"{model_name} input {i} ({spec.name!r}) must be {spec.dtype} {list(spec.shape)}, "
                f"got {array.dtype.name} {list(array.shape)}"
            )


# No pose network writes a value beyond this (pixels, logits and metres are all far smaller), and
# decoding squares and sums these values in float32, which overflows near 1.8e19: a bound at 1e9
# keeps every step of the decoding finite.
MAX_OUTPUT_MAGNITUDE = 1e9


def check_outputs(model_name: str, arrays: Sequence[npt.NDArray[np.generic]]) -> None:
    """Before decoding: raise BadAnswerError when a float output holds NaN, an infinity or a value
    beyond +-MAX_OUTPUT_MAGNITUDE, or any output is empty. Any backend can answer so (a remote
    server, a broken accelerator); it is one failed inference, never a crash of the decoding.

    min() and max() propagate NaN, so two passes check every value without a temporary array.
    """
    for i, array in enumerate(arrays):
        if array.size == 0:
            raise BadAnswerError(f"{model_name} output {i} is empty")
        if array.dtype.kind != "f":
            continue  # integer (quantized) outputs are bounded by their type
        low, high = float(array.min()), float(array.max())
        if not (low >= -MAX_OUTPUT_MAGNITUDE and high <= MAX_OUTPUT_MAGNITUDE):
            raise BadAnswerError(
                f"{model_name} output {i} holds values no network produces (from {low:g} to {high:g})"
            )


def expect_outputs(
    source: HasTensorSpecs,
    shapes: Sequence[Sequence[int | None]],
    model_kind: str,
) -> tuple[TensorSpec, ...]:
    """Check the number of outputs and their shapes (None matches any size), in order."""
    actual = source.outputs
    ok = len(actual) == len(shapes) and all(
        len(spec.shape) == len(want)
        and all(w is None or w == g for w, g in zip(want, spec.shape, strict=True))
        for spec, want in zip(actual, shapes, strict=True)
    )
    if not ok:
        raise ModelError(
            f"{_source_name(source)} is not a {model_kind} model: expected outputs "
            f"{', '.join(_shape_text(s) for s in shapes)}, got "
            f"{', '.join(f'{o.name!r} {_shape_text(o.shape)}' for o in actual) or 'none'}. "
            "Check model.path, or use a named model."
        )
    return actual


def _shape_text(shape: Sequence[int | None]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _source_name(source: object) -> str:
    path = getattr(source, "path", None)
    return str(path) if path is not None else "the model"
