"""One compiled OpenVINO model and its infer request, owned by one session."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from posed.backend import TensorSpec
from posed.errors import BackendError, ClosedError
from posed.tflite_file import ModelInfo


class OpenVINOSession:
    def __init__(self, compiled: Any, info: ModelInfo, device: str) -> None:
        self._compiled: Any | None = compiled
        self._request: Any | None = compiled.create_infer_request()
        self._info = info
        self._device = device
        self._ov_outputs = list(compiled.outputs)

    @property
    def inputs(self) -> tuple[TensorSpec, ...]:
        return self._info.inputs

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self._info.outputs

    @property
    def device(self) -> str:
        return self._device

    def run(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        request = self._request
        if request is None:
            raise ClosedError(f"OpenVINO session for {self._info.path.name} is closed")
        if len(inputs) != len(self._info.inputs):
            raise BackendError(
                f"{self._info.path.name} takes {len(self._info.inputs)} inputs, got {len(inputs)}"
            )
        for i, array in enumerate(inputs):
            request.set_input_tensor(i, _ov_tensor(array))
        request.infer()
        # Output tensors belong to the request and are reused by the next infer().
        return tuple(request.get_output_tensor(i).data for i in range(len(self._ov_outputs)))

    def close(self) -> None:
        self._request = None
        self._compiled = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _ov_tensor(array: npt.NDArray[np.generic]) -> Any:
    import openvino as ov

    # shared_memory avoids a copy; the caller keeps `array` alive across infer().
    return ov.Tensor(np.ascontiguousarray(array), shared_memory=True)


def model_path_for_errors(path: Path) -> str:
    return path.name
