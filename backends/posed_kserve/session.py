"""One served model, reached through one client, owned by one session."""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from posed.backend import MAX_IN_FLIGHT, TensorSpec, check_inputs
from posed.errors import BackendError, BadAnswerError, ClosedError
from posed.tflite_file import ModelInfo
from posed_kserve.config import ServedModel
from posed_kserve.transport import Connection, inference_failure

Arrays = tuple[npt.NDArray[np.generic], ...]


class KServeSession:
    """run() sends the inputs as raw tensors and returns the served model's outputs in the file's order.

    The local file is the contract: its tensor names, shapes, dtypes and quantization
    are what posed pre- and post-processes with, and the server's metadata was checked
    against them when the session opened.
    """

    def __init__(self, connection: Connection, served: ServedModel, info: ModelInfo, device: str) -> None:
        self._connection: Connection | None = connection
        self._served = served
        self._info = info
        self._device = device
        self._outputs = connection.outputs(info.outputs)

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

    def run(self, *inputs: npt.NDArray[np.generic]) -> Arrays:
        connection = self._live()
        check_inputs(self._info.path.name, self._info.inputs, inputs)
        try:
            result = connection.call(
                connection.client.infer,
                self._served.name,
                connection.inputs(self._info.inputs, inputs),
                model_version=self._served.version,
                outputs=self._outputs,
                headers=connection.headers,
                **self._timeout_argument(),
            )
        except Exception as exc:  # tritonclient raises its own and transport exceptions
            raise inference_failure(connection, f"inference of {self._served.name}", exc) from exc
        return self._arrays(result)

    def _timeout_argument(self) -> dict[str, Any]:
        connection = self._live()
        # HTTP takes its timeout at client creation (network_timeout); gRPC per call.
        return {"client_timeout": connection.config.timeout} if connection.config.protocol == "grpc" else {}

    def _arrays(self, result: Any) -> Arrays:
        """The answer's outputs, exactly as the file declares them, or BadAnswerError.

        Their values are checked where posed decodes them (posed.backend.check_outputs).
        """
        arrays = []
        for spec in self._info.outputs:
            try:
                array = result.as_numpy(spec.name)
            except Exception as exc:  # a body that does not decode (truncated, wrong size)
                raise BadAnswerError(
                    f"kserve model {self._served.name}: output {spec.name!r} does not decode: {exc}"
                ) from exc
            if array is None or array.shape != spec.shape or array.dtype.name != spec.dtype:
                got = "nothing" if array is None else f"{array.dtype.name} {list(array.shape)}"
                raise BadAnswerError(
                    f"kserve model {self._served.name} returned {got} for output {spec.name!r}, "
                    f"expected {spec.dtype} {list(spec.shape)}"
                )
            arrays.append(array)
        return tuple(arrays)

    def _live(self) -> Connection:
        if self._connection is None:
            raise ClosedError(f"the kserve session for {self._info.path.name} is closed")
        return self._connection

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Pending:
    """One started request; gRPC's callback thread fills it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def __call__(self, result: Any, error: BaseException | None) -> None:
        self.result, self.error = result, error
        self.done.set()


class KServeOverlappingSession(KServeSession):
    """gRPC only: start() sends a request and returns; wait() takes the oldest answer.

    So one frame's network round trip overlaps the previous frame's decoding
    (posed.backend.OverlappingSession). tritonclient's gRPC client is thread-safe and
    calls back from its own thread; nothing here starts a thread.
    """

    def __init__(self, connection: Connection, served: ServedModel, info: ModelInfo, device: str) -> None:
        super().__init__(connection, served, info, device)
        self._pending: deque[_Pending] = deque()

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def run(self, *inputs: npt.NDArray[np.generic]) -> Arrays:
        if self._pending:
            raise BackendError(
                f"{self.path.name}: run() with {len(self._pending)} started run(s) not waited for"
            )
        return super().run(*inputs)

    def start(self, *inputs: npt.NDArray[np.generic]) -> None:
        connection = self._live()
        if len(self._pending) >= MAX_IN_FLIGHT:
            raise BackendError(
                f"{self.path.name}: {MAX_IN_FLIGHT} runs already started; wait() for one first"
            )
        check_inputs(self.path.name, self.inputs, inputs)
        pending = _Pending()
        try:
            # set_data_from_numpy serialises the arrays now, so the caller may reuse them at once.
            connection.call(
                connection.client.async_infer,
                self._served.name,
                connection.inputs(self.inputs, inputs),
                pending,
                model_version=self._served.version,
                outputs=self._outputs,
                headers=connection.headers,
                client_timeout=connection.config.timeout,
            )
        except Exception as exc:
            raise inference_failure(connection, f"inference of {self._served.name}", exc) from exc
        self._pending.append(pending)

    def wait(self) -> Arrays:
        connection = self._live()
        if not self._pending:
            raise BackendError(f"{self.path.name}: wait() without a started run")
        pending = self._pending.popleft()
        # The call's own deadline ends it; the margin covers the callback's scheduling.
        what = f"inference of {self._served.name}"
        if not pending.done.wait(connection.config.timeout + 5.0):
            raise inference_failure(connection, what, TimeoutError("no answer"))
        if pending.error is not None:
            raise inference_failure(connection, what, pending.error)
        return self._arrays(pending.result)

    def close(self) -> None:
        connection = self._connection
        # Let started requests end before the channel closes under them; their results are unwanted.
        while connection is not None and self._pending:
            self._pending.popleft().done.wait(connection.config.timeout + 5.0)
        super().close()
