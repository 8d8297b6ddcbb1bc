"""One TFLite interpreter, owned by one session."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from posed.backend import Quantization, TensorSpec, check_inputs
from posed.errors import ClosedError, ModelError
from posed.native_log import native_messages
from posed.tflite_file import EDGETPU_CUSTOM_OP, check_header, corrupt_model_error

_runtime_log = logging.getLogger("posed.litert")


class TFLiteSession:
    """Inputs are copied into the interpreter's own tensors; outputs are copied once into
    buffers this session owns and hands back on every run (valid until the next run).

    Why not hand out the interpreter's `tensor()` views directly: LiteRT refuses to
    invoke() while any view into its arena is alive, so a caller that kept the previous
    frame's outputs would make the next run fail. The copy is a memcpy into a fixed
    buffer (tens of microseconds for BlazePose's 1 MB of outputs), never an allocation.
    """

    def __init__(self, interpreter: Any, path: Path, device: str) -> None:
        self._interpreter: Any | None = interpreter
        self._path = path
        self._device = device
        in_details = interpreter.get_input_details()
        out_details = interpreter.get_output_details()
        self._inputs = tuple(_spec(d) for d in in_details)
        self._outputs = tuple(_spec(d) for d in out_details)
        self._input_index = tuple(int(d["index"]) for d in in_details)
        self._output_index = tuple(int(d["index"]) for d in out_details)
        self._output_buffers = tuple(np.empty(s.shape, dtype=np.dtype(s.dtype)) for s in self._outputs)

    @classmethod
    def open(
        cls,
        interpreter_class: Any,
        path: Path,
        *,
        num_threads: int | None,
        delegates: Sequence[Any] = (),
        device: str,
        op_resolver: Any | None = None,
        input_shape: tuple[int, ...] | None = None,
    ) -> TFLiteSession:
        check_header(path)
        kwargs: dict[str, Any] = {"model_path": str(path), "num_threads": num_threads}
        if delegates:
            kwargs["experimental_delegates"] = list(delegates)
        if op_resolver is not None:
            kwargs["experimental_op_resolver_type"] = op_resolver
        try:
            with native_messages(_runtime_log):  # LiteRT's "INFO: Created ... delegate" goes to logging
                interpreter = interpreter_class(**kwargs)
                if input_shape is not None:
                    _resize_input(interpreter, path, input_shape)
                interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            if input_shape is not None and "resize" in str(exc).lower():
                raise _resize_error(path, input_shape, exc) from exc
            detail = " ".join(str(exc).split()) or type(exc).__name__
            if EDGETPU_CUSTOM_OP in detail:
                raise ModelError(
                    f"{path} is compiled for the Coral Edge TPU and runs only with `delegate: edgetpu`; "
                    "for the CPU use the model without the _edgetpu suffix"
                ) from exc
            if "custom op" in detail:
                raise ModelError(f"{path} needs an operator this interpreter lacks: {detail}") from exc
            raise corrupt_model_error(path, f"the TFLite interpreter rejects it ({detail})") from exc
        return cls(interpreter, path, device)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def inputs(self) -> tuple[TensorSpec, ...]:
        return self._inputs

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self._outputs

    @property
    def device(self) -> str:
        return self._device

    def run(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        interpreter = self._interpreter
        if interpreter is None:
            raise ClosedError(f"the TFLite session for {self._path.name} is closed")
        check_inputs(self._path.name, self._inputs, inputs)
        for index, array in zip(self._input_index, inputs, strict=True):
            np.copyto(interpreter.tensor(index)(), array, casting="no")
        interpreter.invoke()
        for index, buffer in zip(self._output_index, self._output_buffers, strict=True):
            np.copyto(buffer, interpreter.tensor(index)(), casting="no")
        return self._output_buffers

    def close(self) -> None:
        # Dropping the only reference frees the interpreter (and its delegate) now:
        # a Coral must be released before another session can open it.
        self._interpreter = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _resize_input(interpreter: Any, path: Path, shape: tuple[int, ...]) -> None:
    detail = interpreter.get_input_details()[0]
    if tuple(int(d) for d in detail["shape"]) == shape:
        return
    if len(detail["shape"]) != len(shape):
        raise ModelError(
            f"{path.name}'s input has shape {list(detail['shape'])}; it cannot be resized to {list(shape)}"
        )
    # strict=False: the files declare a fixed shape_signature, yet their convolutions take any size.
    interpreter.resize_tensor_input(int(detail["index"]), list(shape), strict=False)


def _resize_error(path: Path, shape: tuple[int, ...], exc: Exception) -> ModelError:
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return ModelError(f"{path.name} cannot run at input shape {list(shape)}: {detail}")


def _spec(detail: dict[str, Any]) -> TensorSpec:
    scale, zero = detail.get("quantization", (0.0, 0))
    quant = Quantization(float(scale), int(zero)) if scale else None
    return TensorSpec(
        name=str(detail["name"]),
        shape=tuple(int(d) for d in detail["shape"]),
        dtype=np.dtype(detail["dtype"]).name,
        quantization=quant,
    )
