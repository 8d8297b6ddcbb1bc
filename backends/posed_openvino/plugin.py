"""The `openvino` entry point. It reads the same .tflite files as the TFLite backend,
and OpenVINO IR (`.xml` beside its `.bin`): the int8 variants `posed models quantize` makes."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from posed.backend import ROLE_MAIN, BackendConfig, BackendStatus, Role, TensorSpec
from posed.errors import BackendError, BackendUnavailableError, ModelError
from posed.tflite_file import ModelInfo, corrupt_model_error, is_edgetpu_model, read_model_info
from posed_openvino.config import OpenVINOConfig
from posed_openvino.core import INSTALL_HINT, openvino_module, shared_core
from posed_openvino.devices import availability_notes, check_device
from posed_openvino.session import OpenVINOSession, openvino_reason

log = logging.getLogger(__name__)


class OpenVINOBackend:
    name = "openvino"
    config_model: type[BackendConfig] = OpenVINOConfig

    def read_graph(self, model_path: Path) -> object:
        """The model as an openvino.Model, read by the process's Core (for NNCF)."""
        return shared_core().read_model(str(model_path))

    def device_settings(self, device: str) -> dict[str, object]:
        """`--device` is an OpenVINO device name (CPU, GPU, AUTO ...)."""
        return {"device": device}

    def probe(self) -> BackendStatus:
        try:
            ov = openvino_module()
            core = shared_core()
            devices = tuple(core.available_devices)
        except (BackendUnavailableError, RuntimeError) as exc:
            return BackendStatus(self.name, False, str(exc), fix=INSTALL_HINT)
        label = f"openvino {ov.get_version().split('-')[0]}"
        names = {device: _full_name(core, device) for device in devices}
        return BackendStatus(
            self.name,
            bool(devices),
            f"runtime: {label}" if devices else f"{label} sees no device",
            fix=None if devices else "install the device drivers (see the notes)",
            devices=devices,
            runtime=label,
            device_names=names,
            notes=availability_notes(devices),
        )

    def open_session(
        self,
        model_path: Path,
        config: BackendConfig,
        *,
        role: Role = ROLE_MAIN,
        input_shape: tuple[int, ...] | None = None,
    ) -> OpenVINOSession:
        if not isinstance(config, OpenVINOConfig):
            raise BackendError(f"the openvino backend needs an OpenVINOConfig, got {type(config).__name__}")
        core = shared_core()
        if model_path.suffix == IR_SUFFIX:
            info = ir_model_info(core, model_path)
        else:
            info = read_model_info(model_path)  # rejects missing, non-TFLite and truncated files clearly
        if is_edgetpu_model(info):
            raise ModelError(
                f"{model_path} is compiled for the Coral Edge TPU; OpenVINO needs the model without "
                "the _edgetpu suffix"
            )
        device = config.device_for(role)
        check_device(device, list(core.available_devices))
        properties = compile_properties(config, device)
        source: Any = str(model_path)
        if input_shape is not None and input_shape != info.inputs[0].shape:
            source = _reshaped(core, model_path, info, input_shape)
        try:
            compiled = core.compile_model(source, device, properties)
        except RuntimeError as exc:
            raise _compile_error(core, model_path, device, exc) from exc
        if source is not str(model_path):
            info = resized_info(info, compiled)
        loaded = _bool_property(compiled, "LOADED_FROM_CACHE")
        real = _execution_device(compiled, device)
        log.info(
            "OpenVINO: %s (%s) on %s%s",
            model_path.name,
            role,
            real,
            " from the model cache" if loaded else "",
        )
        return OpenVINOSession(compiled, info, real, loaded_from_cache=loaded)


IR_SUFFIX = ".xml"
_IR_DTYPES = {"f32": "float32", "f16": "float16", "u8": "uint8", "i8": "int8", "i32": "int32", "i64": "int64"}


def ir_model_info(core: Any, path: Path) -> ModelInfo:
    """The tensors of an OpenVINO IR file, as read_model_info gives them for a .tflite file.

    IR made from a .tflite file keeps the file's tensor names, and its float inputs and
    outputs carry no quantization.
    """
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    try:
        model = core.read_model(str(path))
    except RuntimeError as exc:
        raise corrupt_model_error(path, f"OpenVINO cannot read it ({openvino_reason(exc)})") from exc

    def specs(ports: Any) -> tuple[TensorSpec, ...]:
        found = []
        for port in ports:
            element = port.get_element_type().get_type_name()
            shape = tuple(int(d) for d in port.get_partial_shape().to_shape())
            found.append(TensorSpec(port.get_any_name(), shape, _IR_DTYPES.get(element, element)))
        return tuple(found)

    return ModelInfo(path=path, inputs=specs(model.inputs), outputs=specs(model.outputs), custom_ops=())


def _reshaped(core: Any, path: Path, info: ModelInfo, input_shape: tuple[int, ...]) -> Any:
    """The file's model with input 0 reshaped, for compile_model()."""
    try:
        model = core.read_model(str(path))
    except RuntimeError as exc:
        raise corrupt_model_error(path, f"OpenVINO cannot read it ({openvino_reason(exc)})") from exc
    name = info.inputs[0].name
    ports = [p for p in model.inputs if name in p.get_names()] or [model.inputs[0]]
    try:
        model.reshape({ports[0]: list(input_shape)})
    except RuntimeError as exc:
        raise ModelError(
            f"{path.name} cannot run at input shape {list(input_shape)}: {openvino_reason(exc)}"
        ) from exc
    return model


def resized_info(info: ModelInfo, compiled: Any) -> ModelInfo:
    """The file's tensor specs with the shapes the reshaped, compiled model really has."""

    def resized(specs: tuple[TensorSpec, ...], ports: Any) -> tuple[TensorSpec, ...]:
        shapes: dict[str, tuple[int, ...]] = {}
        for port in ports:
            shape = tuple(int(d) for d in port.get_shape())
            for port_name in port.get_names():
                shapes.setdefault(port_name, shape)
        return tuple(replace(spec, shape=shapes.get(spec.name, spec.shape)) for spec in specs)

    return replace(
        info, inputs=resized(info.inputs, compiled.inputs), outputs=resized(info.outputs, compiled.outputs)
    )


def compile_properties(config: OpenVINOConfig, device: str) -> dict[str, Any]:
    """The compile_model() properties a config asks for on `device`.

    Everything goes into the compile call, never onto the shared Core, so that one
    session's settings cannot leak into another's.
    """
    properties: dict[str, Any] = {"PERFORMANCE_HINT": config.performance_hint}
    if config.num_streams is not None:
        properties["NUM_STREAMS"] = config.num_streams
    # Left to itself the CPU picks bf16 where it can, which moves BlazePose landmarks by
    # pixels; f32 keeps both backends' poses the same unless the user asks otherwise.
    cpu: dict[str, Any] = {"INFERENCE_PRECISION_HINT": config.inference_precision or "f32"}
    if config.num_threads is not None:
        cpu["INFERENCE_NUM_THREADS"] = config.num_threads
    if device == "CPU":
        properties.update(cpu)
    elif device.startswith("AUTO"):
        properties["DEVICE_PROPERTIES"] = {"CPU": cpu}
    elif config.inference_precision is not None:
        properties["INFERENCE_PRECISION_HINT"] = config.inference_precision
    if config.cache_dir is not None:
        try:
            config.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackendError(
                f"OpenVINO cache_dir {config.cache_dir} cannot be created ({exc.strerror}): make it "
                "writable, or under systemd use CacheDirectory=posed"
            ) from exc
        properties["CACHE_DIR"] = str(config.cache_dir)
    return properties


def _compile_error(core: Any, path: Path, device: str, exc: RuntimeError) -> Exception:
    try:
        core.read_model(str(path))
    except RuntimeError as read_exc:
        return corrupt_model_error(path, f"OpenVINO cannot read it ({openvino_reason(read_exc)})")
    hint = "" if device == "CPU" else "; try `device: CPU`"
    return BackendError(f"OpenVINO cannot compile {path.name} for {device}: {openvino_reason(exc)}{hint}")


def _execution_device(compiled: Any, requested: str) -> str:
    """The device doing the work: for AUTO, the one AUTO picked, e.g. AUTO(CPU)."""
    try:
        devices = [str(d) for d in compiled.get_property("EXECUTION_DEVICES")]
    except RuntimeError:
        return requested
    if requested.startswith("AUTO") or len(devices) != 1:
        return f"{requested}({','.join(devices)})"
    return devices[0]


def _bool_property(compiled: Any, name: str) -> bool:
    try:
        return bool(compiled.get_property(name))
    except RuntimeError:
        return False


def _full_name(core: Any, device: str) -> str:
    try:
        return str(core.get_property(device, "FULL_DEVICE_NAME"))
    except RuntimeError:
        return device
