"""One compiled OpenVINO model and its infer request, owned by one session."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from posed.backend import TensorSpec, check_inputs
from posed.errors import BackendError, ClosedError
from posed.tflite_file import ModelInfo


class OpenVINOSession:
    """Runs one model on one device.

    Inputs are copied into the infer request's own input tensors and outputs are the
    request's own output tensors, so nothing is allocated per frame. Copying (rather
    than wrapping the caller's array with `shared_memory=True`) costs ~80 us for the
    largest input here (PoseNet 721x1281, 2.7 MB) against tens of ms of inference, and
    leaves the caller free to reuse its buffer at once: an async request pool (one
    request per in-flight frame) can be added later without changing that contract.
    """

    def __init__(self, compiled: Any, info: ModelInfo, device: str, *, loaded_from_cache: bool) -> None:
        self._compiled: Any | None = compiled
        self._request: Any | None = compiled.create_infer_request()
        self._info = info
        self._device = device
        self.loaded_from_cache = loaded_from_cache
        # OpenVINO may order a model's ports differently from the file; the file's order
        # is the contract, so map by tensor name.
        self._input_ports = _port_order(info.inputs, compiled.inputs, "input", info.path)
        self._output_ports = _port_order(info.outputs, compiled.outputs, "output", info.path)

    @property
    def path(self) -> Path:
        return self._info.path

    @property
    def inputs(self) -> tuple[TensorSpec, ...]:
        return self._info.inputs

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self._info.outputs

    @property
    def device(self) -> str:
        return self._device

    def compiled_property(self, name: str) -> Any:
        """A property of the compiled model, e.g. EXECUTION_DEVICES or INFERENCE_PRECISION_HINT."""
        if self._compiled is None:
            raise ClosedError(f"the OpenVINO session for {self._info.path.name} is closed")
        return self._compiled.get_property(name)

    def run(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        request = self._request
        if request is None:
            raise ClosedError(f"the OpenVINO session for {self._info.path.name} is closed")
        check_inputs(self._info.path.name, self._info.inputs, inputs)
        for port, array in zip(self._input_ports, inputs, strict=True):
            np.copyto(request.get_input_tensor(port).data, array, casting="no")
        try:
            request.infer()
        except RuntimeError as exc:
            raise BackendError(
                f"OpenVINO inference of {self._info.path.name} on {self._device} failed: "
                f"{openvino_reason(exc)}"
            ) from exc
        return tuple(request.get_output_tensor(port).data for port in self._output_ports)

    def close(self) -> None:
        self._request = None
        self._compiled = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _port_order(specs: Sequence[TensorSpec], ports: Sequence[Any], kind: str, path: Path) -> tuple[int, ...]:
    """For each tensor of the file, in order, the index of OpenVINO's port carrying it."""
    by_name: dict[str, int] = {}
    for index, port in enumerate(ports):
        for name in port.get_names():
            by_name.setdefault(name, index)
    if len(ports) != len(specs):
        raise BackendError(
            f"OpenVINO sees {len(ports)} {kind}(s) in {path.name}, the file declares {len(specs)}"
        )
    order = tuple(by_name.get(spec.name, i) for i, spec in enumerate(specs))
    if sorted(order) != list(range(len(specs))):
        raise BackendError(f"cannot match OpenVINO's {kind}s of {path.name} to the file's tensor names")
    return order


def openvino_reason(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    # OpenVINO prefixes the reason with "Exception from src/...:" location lines.
    reasons = [line for line in lines if not line.startswith(("Exception from", "Check '"))]
    return (reasons or lines or [type(exc).__name__])[-1]
