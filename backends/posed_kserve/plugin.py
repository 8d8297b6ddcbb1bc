"""The `kserve` entry point: models run on an Open Inference Protocol (KServe v2) server.

Triton, OpenVINO Model Server, MLServer and KServe all speak it. Only tensors cross
the network: posed's pre- and post-processing stay on the device, and so do the model
files, whose tensor layout and quantization posed reads (the server runs the same files).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from posed.backend import ROLE_MAIN, BackendConfig, BackendStatus, Role, TensorSpec
from posed.errors import (
    EXIT_CONFIG,
    BackendError,
    BackendUnavailableError,
    BackendUnreachableError,
    ModelError,
)
from posed.tflite_file import ModelInfo, is_edgetpu_model, read_model_info
from posed_kserve.config import KServeConfig, ServedModel
from posed_kserve.session import KServeOverlappingSession, KServeSession
from posed_kserve.transport import DATATYPES, INSTALL_HINT, Connection, connect, failure, tritonclient_module


class ServedModelMismatchError(ModelError):
    """The server's model is not the model file posed was given; a restart cannot fix that."""

    exit_code = EXIT_CONFIG


class MalformedMetadataError(BackendError):
    """The server's model metadata is not the protocol's (a broken or foreign server)."""


@dataclass(frozen=True, slots=True)
class ServedTensor:
    """One tensor of the server's model metadata, checked."""

    name: str
    datatype: str
    shape: tuple[int, ...]


class KServeBackend:
    name = "kserve"
    config_model: type[BackendConfig] = KServeConfig

    def __init__(self) -> None:
        # (server, model, version) found ready by this process. Such a model missing later was
        # unloaded on the server (an operator reloading it): an outage to wait out, while a
        # model never served is a configuration error (exit 78).
        self._served_before: set[tuple[str, str, str]] = set()

    def probe(self) -> BackendStatus:
        try:
            tritonclient_module("grpc")
            tritonclient_module("http")
            version = metadata.version("tritonclient")
        except (BackendUnavailableError, metadata.PackageNotFoundError) as exc:
            return BackendStatus(self.name, False, str(exc), fix=INSTALL_HINT)
        label = f"tritonclient {version}"
        return BackendStatus(
            self.name,
            True,
            f"client: {label} (gRPC and HTTP); the server is checked when a model opens",
            runtime=label,
            devices=("remote",),
            device_names={"remote": "an Open Inference Protocol server (Triton, OVMS, MLServer, KServe)"},
            notes=("`posed check -c FILE` checks the configured server: readiness and each model's tensors",),
        )

    def open_session(
        self, model_path: Path, config: BackendConfig, *, role: Role = ROLE_MAIN
    ) -> KServeSession:
        if not isinstance(config, KServeConfig):
            raise BackendError(f"the kserve backend needs a KServeConfig, got {type(config).__name__}")
        info = read_model_info(model_path)  # the local file is the contract; rejects bad files clearly
        if is_edgetpu_model(info):
            raise ModelError(f"{model_path} is compiled for the Coral Edge TPU; serve the CPU model instead")
        served = config.served(role, model_path)
        connection = connect(config)
        key = (connection.where, served.name, served.version)
        try:
            _check_ready(connection, served, served_before=key in self._served_before)
            self._served_before.add(key)
            _check_metadata(connection, served, info, role)
        except BaseException:
            connection.close()
            raise
        device = f"remote:{served.name}@{connection.where}"
        kind = KServeOverlappingSession if config.protocol == "grpc" else KServeSession
        return kind(connection, served, info, device)


def _check_ready(connection: Connection, served: ServedModel, *, served_before: bool) -> None:
    client, headers, timeout = connection.client, connection.headers, connection.config.connect_timeout
    grpc = connection.config.protocol == "grpc"
    extra: dict[str, Any] = {"client_timeout": timeout} if grpc else {}
    try:
        ready = connection.call(client.is_server_ready, headers=headers, **extra)
    except Exception as exc:
        raise failure(connection, "the readiness check", exc) from exc
    if not ready:
        raise failure(connection, "the readiness check", ConnectionError("the server says it is not ready"))
    try:
        model_ready = connection.call(
            client.is_model_ready, served.name, served.version, headers=headers, **extra
        )
    except Exception as exc:
        error = failure(connection, f"the readiness check of model {served.name}", exc)
        # Some servers (MLServer) answer an unknown model with an error, not `ready: false`.
        if "not found" not in str(error).lower():
            raise error from exc
        model_ready = False
    if not model_ready:
        version = f" version {served.version}" if served.version else ""
        if served_before:
            raise BackendUnreachableError(
                f"kserve server {connection.where}: model {served.name!r}{version} was served earlier "
                "and is not loaded now (unloaded for a reload?); waiting for it"
            )
        corrected = (
            " (posed runs its corrected copy of this Coral PoseNet file: serve that copy, or the file "
            "`posed models fetch` installs, which is already corrected)"
            if ".corrected-" in served.name
            else ""
        )
        raise ServedModelMismatchError(
            f"kserve server {connection.where} has no ready model {served.name!r}{version}: load it on the "
            f"server, or name the right one under backend.models{corrected}"
        )


def _check_metadata(connection: Connection, served: ServedModel, info: ModelInfo, role: str) -> None:
    grpc = connection.config.protocol == "grpc"
    extra: dict[str, Any] = (
        {"as_json": True, "client_timeout": connection.config.connect_timeout} if grpc else {}
    )
    try:
        meta = connection.call(
            connection.client.get_model_metadata,
            served.name,
            served.version,
            headers=connection.headers,
            **extra,
        )
    except Exception as exc:
        raise failure(connection, f"the metadata request of model {served.name}", exc) from exc
    where = f"kserve server {connection.where}: the metadata of model {served.name!r}"
    if not isinstance(meta, dict):
        raise MalformedMetadataError(f"{where} is {_short(meta)}, not an object with inputs and outputs")
    problems = [
        *_differences("input", info.inputs, _tensors(where, "inputs", meta.get("inputs"))),
        *_differences("output", info.outputs, _tensors(where, "outputs", meta.get("outputs"))),
    ]
    if problems:
        raise ServedModelMismatchError(
            f"kserve model {served.name!r} on {connection.where} is not {info.path.name} ({role}): "
            + "; ".join(problems)
            + ". Serve that file under that name, or set backend.models."
        )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _tensors(where: str, key: str, value: object) -> list[ServedTensor]:
    """The metadata's `inputs` or `outputs`, checked: a list of {name, datatype, shape}."""
    expected = "expected a list of tensors, each with a name, a datatype and a shape"
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedMetadataError(f"{where} is malformed: {key} is {_short(value)}; {expected}")
    tensors = []
    for item in value:
        fields = item if isinstance(item, dict) else {}
        name, datatype, shape = fields.get("name"), fields.get("datatype"), fields.get("shape")
        try:
            if not (isinstance(name, str) and isinstance(datatype, str) and isinstance(shape, list)):
                raise ValueError
            # gRPC's JSON form writes int64 dimensions as strings.
            dims = tuple(int(d) for d in shape if isinstance(d, int | str) and not isinstance(d, bool))
            if len(dims) != len(shape):
                raise ValueError
        except ValueError:
            raise MalformedMetadataError(
                f"{where} is malformed: {key} holds {_short(item)}; {expected}"
            ) from None
        tensors.append(ServedTensor(name, datatype, dims))
    return tensors


def _differences(kind: str, specs: tuple[TensorSpec, ...], served: list[ServedTensor]) -> list[str]:
    by_name = {t.name: t for t in served}
    problems = []
    for spec in specs:
        expected = f"{spec.name!r} {DATATYPES.get(spec.dtype, spec.dtype)} {list(spec.shape)}"
        tensor = by_name.get(spec.name)
        if tensor is None:
            names = ", ".join(repr(n) for n in by_name) or "none"
            problems.append(f"expected {kind} {expected}, the server has {kind}s {names}")
            continue
        shape = list(tensor.shape)
        fits = len(shape) == len(spec.shape) and all(
            s in (-1, want) for s, want in zip(shape, spec.shape, strict=False)
        )
        if tensor.datatype != DATATYPES.get(spec.dtype) or not fits:
            problems.append(f"expected {kind} {expected}, got {tensor.datatype} {shape}")
    extra = set(by_name) - {spec.name for spec in specs}
    if extra:
        problems.append(f"the server's model has {kind}s the file lacks: {', '.join(sorted(extra))}")
    return problems
