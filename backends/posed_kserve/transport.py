"""tritonclient, the Open Inference Protocol's reference client, for gRPC and HTTP/REST.

One client per session. gRPC sends tensors as raw bytes (raw_input_contents); HTTP
uses the protocol's binary tensor extension, never JSON arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from posed.backend import TensorSpec
from posed.errors import BackendError, BackendUnavailableError, BackendUnreachableError
from posed_kserve.config import KServeConfig

INSTALL_HINT = "pip install 'posed[kserve]' (tritonclient[grpc,http])"
DATATYPES = {"float32": "FP32", "uint8": "UINT8", "int8": "INT8", "int32": "INT32", "float16": "FP16"}
# gRPC codes that mean "try again later", not "this request is wrong".
TRANSIENT_GRPC = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED", "RESOURCE_EXHAUSTED", "ABORTED", "UNKNOWN"}


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
        self.client.close()


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
        client = module.InferenceServerClient(
            config.url,
            connection_timeout=config.connect_timeout,
            network_timeout=config.timeout,
            ssl=config.tls,
            ssl_options=ssl_options or None,
        )
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


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    text = message() if callable(message) else str(exc)
    return " ".join(str(text).split())[:300] or type(exc).__name__
