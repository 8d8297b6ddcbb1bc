"""The `openvino` entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posed.backend import ROLE_MAIN, BackendConfig, BackendStatus, InferenceSession, Role
from posed.errors import BackendUnavailableError, ModelError
from posed.tflite_file import read_model_info
from posed_openvino.config import OpenVINOConfig
from posed_openvino.session import OpenVINOSession

INSTALL_HINT = "pip install 'posed[openvino]'"


def _core() -> Any:
    try:
        import openvino as ov
    except ImportError as exc:
        raise BackendUnavailableError(f"OpenVINO is not installed: {INSTALL_HINT}") from exc
    return ov.Core()


class OpenVINOBackend:
    name = "openvino"
    config_model: type[BackendConfig] = OpenVINOConfig

    def probe(self) -> BackendStatus:
        try:
            core = _core()
            import openvino as ov

            devices = tuple(core.available_devices)
        except BackendUnavailableError as exc:
            return BackendStatus(self.name, False, str(exc), fix=INSTALL_HINT)
        return BackendStatus(self.name, True, f"openvino {ov.get_version()}", devices=devices)

    def open_session(
        self, model_path: Path, config: BackendConfig, *, role: Role = ROLE_MAIN
    ) -> InferenceSession:
        assert isinstance(config, OpenVINOConfig)
        info = read_model_info(model_path)  # also rejects non-TFLite and truncated files clearly
        core = _core()
        device = config.device_for(role)
        available = list(core.available_devices)
        base = device.split(":")[0]
        if base != "AUTO" and device not in available and not (base == "GPU" and "GPU.0" in available):
            raise BackendUnavailableError(
                f"OpenVINO device {device!r} is not available on this machine; available: "
                f"{', '.join(available) or 'none'}. For an Intel GPU or NPU install the "
                "intel-opencl-icd / intel-level-zero-npu drivers and add the user to the render group."
            )
        properties: dict[str, Any] = {"PERFORMANCE_HINT": config.performance_hint}
        if config.num_streams is not None:
            properties["NUM_STREAMS"] = str(config.num_streams)
        if config.num_threads is not None and base == "CPU":
            properties["INFERENCE_NUM_THREADS"] = config.num_threads
        if config.inference_precision is not None:
            properties["INFERENCE_PRECISION_HINT"] = config.inference_precision
        if config.cache_dir is not None:
            core.set_property({"CACHE_DIR": str(config.cache_dir)})
        try:
            model = core.read_model(str(model_path))
            compiled = core.compile_model(model, device, properties)
        except RuntimeError as exc:
            raise ModelError(f"OpenVINO cannot load {model_path.name} on {device}: {exc}") from exc
        return OpenVINOSession(compiled, info, device)
