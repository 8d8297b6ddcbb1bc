"""One TFLite interpreter, owned by one session."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from posed.backend import Quantization, TensorSpec
from posed.errors import BackendError, ClosedError, ModelError
from posed.tflite_file import check_header


class TFLiteSession:
    def __init__(self, interpreter: Any, path: Path, device: str) -> None:
        self._interpreter: Any | None = interpreter
        self._path = path
        self._device = device
        in_details = interpreter.get_input_details()
        out_details = interpreter.get_output_details()
        self._inputs = tuple(_spec(d) for d in in_details)
        self._outputs = tuple(_spec(d) for d in out_details)
        self._input_index = [int(d["index"]) for d in in_details]
        self._output_index = [int(d["index"]) for d in out_details]

    @classmethod
    def open(
        cls,
        interpreter_class: Any,
        path: Path,
        *,
        num_threads: int | None,
        delegates: list[Any],
        device: str,
        use_xnnpack: bool = True,
    ) -> TFLiteSession:
        check_header(path)
        kwargs: dict[str, Any] = {"model_path": str(path), "num_threads": num_threads}
        if delegates:
            kwargs["experimental_delegates"] = delegates
        if not use_xnnpack:
            kwargs["experimental_op_resolver_type"] = _builtin_without_defaults()
        try:
            interpreter = interpreter_class(**kwargs)
            interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(
                f"TFLite cannot load {path}: {exc}. Is the file truncated? Re-fetch it."
            ) from exc
        return cls(interpreter, path, device)

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
            raise ClosedError(f"TFLite session for {self._path.name} is closed")
        if len(inputs) != len(self._input_index):
            raise BackendError(f"{self._path.name} takes {len(self._input_index)} inputs, got {len(inputs)}")
        for index, array in zip(self._input_index, inputs, strict=True):
            interpreter.set_tensor(index, array)
        interpreter.invoke()
        # tensor() returns views into the interpreter's arena: no copy per frame.
        # They stay valid until the next invoke(), which is the contract.
        return tuple(interpreter.tensor(i)() for i in self._output_index)

    def close(self) -> None:
        self._interpreter = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _builtin_without_defaults() -> Any:
    from ai_edge_litert.interpreter import OpResolverType

    return OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES


def _spec(detail: dict[str, Any]) -> TensorSpec:
    scale, zero = detail.get("quantization", (0.0, 0))
    quant = Quantization(float(scale), int(zero)) if scale else None
    return TensorSpec(
        name=str(detail["name"]),
        shape=tuple(int(d) for d in detail["shape"]),
        dtype=np.dtype(detail["dtype"]).name,
        quantization=quant,
    )
