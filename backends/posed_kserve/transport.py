"""tritonclient, the Open Inference Protocol's reference client, for gRPC and HTTP/REST.

One client per session. gRPC sends tensors as raw bytes (raw_input_contents); HTTP
uses the protocol's binary tensor extension unless `http_binary: false`.

tritonclient's HTTP client runs on gevent: its connection pool belongs to the thread
that made it, and a call from any other thread fails with "Cannot switch to a
different thread". The daemon opens sessions in its main thread and runs them in
each camera's worker thread, so an HTTP client lives in a thread of its own (one
per session, made here, ended by close()) and every call is handed to that thread.
gRPC's client is thread-safe and is called directly.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from posed.backend import TensorSpec
from posed.errors import (
    BackendError,
    BackendUnavailableError,
    BackendUnreachableError,
    BadAnswerError,
    InferenceFailedError,
)
from posed_kserve.config import KServeConfig

INSTALL_HINT = "pip install 'posed[kserve]' (tritonclient[grpc,http])"
DATATYPES = {"float32": "FP32", "uint8": "UINT8", "int8": "INT8", "int32": "INT32", "float16": "FP16"}
# gRPC codes that mean "try again later", not "this request is wrong".
TRANSIENT_GRPC = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED", "RESOURCE_EXHAUSTED", "ABORTED", "UNKNOWN"}
HANDOVER_MARGIN = 5.0  # seconds an HTTP call may wait for its thread beyond the client's own timeouts
T = TypeVar("T")


def tritonclient_module(protocol: str) -> Any:
    try:
        if protocol == "grpc":
            import tritonclient.grpc as module
        else:
            import tritonclient.http as module
    except ImportError as exc:
        raise BackendUnavailableError(f"the kserve backend needs tritonclient: {INSTALL_HINT}") from exc
    return module


@dataclass(frozen=True, slots=True)
class Connection:
    """An open client and how to call it."""

    client: Any
    module: Any
    config: KServeConfig
    headers: dict[str, str]
    owner: ThreadPoolExecutor | None = None  # HTTP: the one thread the client may be used from

    def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`method(*args, **kwargs)` on the client's own thread (HTTP) or here (gRPC)."""
        if self.owner is None:
            return method(*args, **kwargs)
        limit = self.config.connect_timeout + self.config.timeout + HANDOVER_MARGIN
        future = self.owner.submit(method, *args, **kwargs)
        try:
            return future.result(limit)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(f"no answer within {limit:.1f} s") from None

    @property
    def where(self) -> str:
        scheme = (
            ("grpcs" if self.config.tls else "grpc")
            if self.config.protocol == "grpc"
            else ("https" if self.config.tls else "http")
        )
        return f"{scheme}://{self.config.url}"

    def inputs(self, specs: tuple[TensorSpec, ...], arrays: tuple[npt.NDArray[np.generic], ...]) -> list[Any]:
        made = []
        for spec, array in zip(specs, arrays, strict=True):
            item = self.module.InferInput(spec.name, list(array.shape), DATATYPES[spec.dtype])
            if self.config.protocol == "grpc":
                item.set_data_from_numpy(array)
            else:
                item.set_data_from_numpy(array, binary_data=self.config.http_binary)
            made.append(item)
        return made

    def outputs(self, specs: tuple[TensorSpec, ...]) -> list[Any]:
        if self.config.protocol == "grpc":
            return [self.module.InferRequestedOutput(spec.name) for spec in specs]
        binary = self.config.http_binary
        return [self.module.InferRequestedOutput(spec.name, binary_data=binary) for spec in specs]

    def close(self) -> None:
        try:
            self.call(self.client.close)
        finally:
            if self.owner is not None:
                self.owner.shutdown(wait=False, cancel_futures=True)


def connect(config: KServeConfig) -> Connection:
    """A client for the configured server; no request is made yet."""
    module = tritonclient_module(config.protocol)
    if unreadable := config.unreadable_files():
        raise BackendError(f"kserve {unreadable[0]}")
    try:
        headers = config.headers()
    except (ValueError, OSError) as exc:
        raise BackendError(f"kserve credentials: {exc}") from exc
    if config.protocol == "grpc":
        keepalive = module.KeepAliveOptions(
            keepalive_time_ms=int(config.keepalive * 1000),
            keepalive_timeout_ms=int(min(config.keepalive, 20.0) * 1000),
            keepalive_permit_without_calls=True,
        )
        client = module.InferenceServerClient(
            config.url,
            ssl=config.tls,
            root_certificates=_text(config.ca_file),
            private_key=_text(config.key_file),
            certificate_chain=_text(config.cert_file),
            keepalive_options=keepalive,
        )
    else:
        ssl_options: dict[str, Any] = {}
        if config.ca_file is not None:
            ssl_options["ca_certs"] = str(config.ca_file)
        if config.cert_file is not None:
            ssl_options["certfile"], ssl_options["keyfile"] = str(config.cert_file), str(config.key_file)
        owner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kserve-http")
        try:
            client = owner.submit(
                module.InferenceServerClient,
                config.url,
                connection_timeout=config.connect_timeout,
                network_timeout=config.timeout,
                ssl=config.tls,
                ssl_options=ssl_options or None,
            ).result()
        except BaseException:
            owner.shutdown(wait=False)
            raise
        return Connection(client, module, config, headers, owner)
    return Connection(client, module, config, headers)


def _text(path: object) -> str | None:
    return None if path is None else str(path)


def failure(connection: Connection, what: str, exc: BaseException) -> BackendError:
    """The right error for a failed request: unreachable (retry later) or a plain BackendError."""
    detail = _reason(exc)
    message = f"kserve server {connection.where}: {what} failed: {detail}"
    status = str(getattr(exc, "status", lambda: None)() or "")
    code = status.rsplit(".", 1)[-1]
    if code in TRANSIENT_GRPC or isinstance(exc, OSError | TimeoutError) or code.startswith("5"):
        return BackendUnreachableError(message)
    if "timed out" in detail.lower() or "connection" in detail.lower():
        return BackendUnreachableError(message)
    return BackendError(message)


def inference_failure(connection: Connection, what: str, exc: BaseException) -> InferenceFailedError:
    """A failed inference of a model that was served when the session opened: always one to
    ride out. The server was unreachable, or it answered with an error (an exception in its
    model, the model unloaded for a reload): the next request may succeed."""
    error = failure(connection, what, exc)
    return error if isinstance(error, BackendUnreachableError) else BadAnswerError(str(error))


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    text = message() if callable(message) else str(exc)
    return " ".join(str(text).split())[:300] or type(exc).__name__
