"""One compiled OpenVINO model and its infer request, owned by one session."""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from posed.backend import MAX_IN_FLIGHT, TensorSpec, check_inputs
from posed.errors import BackendError, ClosedError
from posed.tflite_file import ModelInfo


class OpenVINOSession:
    """Runs one model on one device.

    Inputs are copied into the infer request's own input tensors and outputs are the
    request's own output tensors, so nothing is allocated per frame. Copying (rather
    than wrapping the caller's array with `shared_memory=True`) costs ~80 us for the
    largest input here (PoseNet 721x1281, 2.7 MB) against tens of ms of inference, and
    leaves the caller free to reuse its buffer at once.

    start()/wait() (posed.backend.OverlappingSession) alternate between two infer
    requests, so one request's outputs stay intact while the other runs. The second
    request, and its activation memory, is created on the first start().
    """

    def __init__(self, compiled: Any, info: ModelInfo, device: str, *, loaded_from_cache: bool) -> None:
        self._compiled: Any | None = compiled
        self._requests: list[Any] | None = [compiled.create_infer_request()]
        self._started: deque[int] = deque()  # request indices, oldest first
        self._next = 0
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

    @property
    def in_flight(self) -> int:
        return len(self._started)

    def run(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        requests = self._live_requests()
        if self._started:
            raise BackendError(
                f"{self._info.path.name}: run() with {len(self._started)} started run(s) not waited for"
            )
        request = requests[0]
        self._fill(request, inputs)
        try:
            request.infer()
        except RuntimeError as exc:
            raise self._failed(exc) from exc
        return self._outputs_of(request)

    def start(self, *inputs: npt.NDArray[np.generic]) -> None:
        requests = self._live_requests()
        if len(self._started) >= MAX_IN_FLIGHT:
            raise BackendError(
                f"{self._info.path.name}: {MAX_IN_FLIGHT} runs already started; wait() for one first"
            )
        index = self._next
        if index == len(requests):
            assert self._compiled is not None
            requests.append(self._compiled.create_infer_request())
        request = requests[index]
        self._fill(request, inputs)
        try:
            request.start_async()
        except RuntimeError as exc:
            raise self._failed(exc) from exc
        self._started.append(index)
        self._next = (index + 1) % MAX_IN_FLIGHT

    def wait(self) -> tuple[npt.NDArray[np.generic], ...]:
        requests = self._live_requests()
        if not self._started:
            raise BackendError(f"{self._info.path.name}: wait() without a started run")
        request = requests[self._started.popleft()]
        try:
            request.wait()
        except RuntimeError as exc:
            raise self._failed(exc) from exc
        return self._outputs_of(request)

    def _live_requests(self) -> list[Any]:
        if self._requests is None:
            raise ClosedError(f"the OpenVINO session for {self._info.path.name} is closed")
        return self._requests

    def _fill(self, request: Any, inputs: Sequence[npt.NDArray[np.generic]]) -> None:
        check_inputs(self._info.path.name, self._info.inputs, inputs)
        for port, array in zip(self._input_ports, inputs, strict=True):
            np.copyto(request.get_input_tensor(port).data, array, casting="no")

    def _outputs_of(self, request: Any) -> tuple[npt.NDArray[np.generic], ...]:
        return tuple(request.get_output_tensor(port).data for port in self._output_ports)

    def _failed(self, exc: RuntimeError) -> BackendError:
        return BackendError(
            f"OpenVINO inference of {self._info.path.name} on {self._device} failed: {openvino_reason(exc)}"
        )

    def close(self) -> None:
        requests, self._requests = self._requests, None
        # A request must not be freed mid-run: let started runs end, their results unwanted.
        while requests is not None and self._started:
            with contextlib.suppress(RuntimeError):
                requests[self._started.popleft()].wait()
        self._started.clear()
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
