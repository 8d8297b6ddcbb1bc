"""The `tflite` entry point."""

from __future__ import annotations

import os
from pathlib import Path

from posed.backend import ROLE_MAIN, BackendConfig, BackendStatus, Role
from posed.errors import BackendError, BackendUnavailableError
from posed_tflite.config import TFLiteConfig
from posed_tflite.edgetpu import LIBEDGETPU_FIX, library_error, list_edgetpu_devices, open_edgetpu_session
from posed_tflite.runtime import INSTALL_HINT, find_runtime
from posed_tflite.session import TFLiteSession


class TFLiteBackend:
    name = "tflite"
    config_model: type[BackendConfig] = TFLiteConfig

    def device_settings(self, device: str) -> dict[str, object]:
        """`--device cpu` runs XNNPACK; `usb:0`, `pci:0` or `edgetpu` a Coral; any other name
        is taken as a delegate."""
        if device.startswith(("usb", "pci", "edgetpu")):
            coral: dict[str, object] = {"delegate": "edgetpu"}
            return coral if device == "edgetpu" else {**coral, "edgetpu_device": device}
        return {"delegate": {"cpu": "xnnpack"}.get(device, device)}

    def probe(self) -> BackendStatus:
        try:
            runtime = find_runtime()
        except BackendUnavailableError as exc:
            return BackendStatus(self.name, False, str(exc), fix=INSTALL_HINT)

        corals = list_edgetpu_devices()
        missing = library_error()
        if missing is not None:
            note = f"Edge TPU: libedgetpu.so.1 is not installed ({missing}); to use a Coral, {LIBEDGETPU_FIX}"
        elif not corals:
            note = "Edge TPU: libedgetpu.so.1 is installed; no Coral device is attached"
        else:
            note = f"Edge TPU: libedgetpu.so.1 is installed; Coral devices: {', '.join(corals)}"
        names = {"cpu": f"CPU, {_cpu_count()} cores available"}
        names.update({c: f"Coral Edge TPU ({'PCIe/M.2' if c.startswith('pci') else 'USB'})" for c in corals})
        return BackendStatus(
            self.name,
            True,
            f"interpreter: {runtime.label}",
            devices=("cpu", *corals),
            runtime=runtime.label,
            device_names=names,
            notes=(note,),
        )

    def open_session(
        self,
        model_path: Path,
        config: BackendConfig,
        *,
        role: Role = ROLE_MAIN,
        input_shape: tuple[int, ...] | None = None,
    ) -> TFLiteSession:
        if not isinstance(config, TFLiteConfig):
            raise BackendError(f"the tflite backend needs a TFLiteConfig, got {type(config).__name__}")
        runtime = find_runtime()
        threads = config.num_threads or _cpu_count()
        if config.delegate == "edgetpu":
            return open_edgetpu_session(runtime, model_path, config, threads, input_shape=input_shape)
        if config.delegate == "none":
            if runtime.no_default_delegates is None:
                raise BackendUnavailableError(
                    f"{runtime.label} cannot switch XNNPACK off (`delegate: none`): upgrade it "
                    f"({INSTALL_HINT}) or use `delegate: xnnpack`"
                )
            return TFLiteSession.open(
                runtime.interpreter_class,
                model_path,
                num_threads=threads,
                device="cpu",
                op_resolver=runtime.no_default_delegates,
                input_shape=input_shape,
            )
        return TFLiteSession.open(
            runtime.interpreter_class,
            model_path,
            num_threads=threads,
            device="cpu:xnnpack",
            input_shape=input_shape,
        )


def _cpu_count() -> int:
    # The cores this process may run on (a systemd CPUAffinity= or a container limit),
    # not the machine's.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
