"""The `tflite` entry point."""

from __future__ import annotations

import os
from pathlib import Path

from posed.backend import ROLE_MAIN, BackendConfig, BackendStatus, InferenceSession, Role
from posed.errors import BackendUnavailableError
from posed_tflite.config import TFLiteConfig
from posed_tflite.runtime import INSTALL_HINT, find_runtime
from posed_tflite.session import TFLiteSession


class TFLiteBackend:
    name = "tflite"
    config_model: type[BackendConfig] = TFLiteConfig

    def probe(self) -> BackendStatus:
        try:
            runtime = find_runtime()
        except BackendUnavailableError as exc:
            return BackendStatus(self.name, False, str(exc), fix=INSTALL_HINT)
        from posed_tflite.edgetpu import list_edgetpu_devices

        devices = ("cpu", *list_edgetpu_devices())
        return BackendStatus(
            self.name, True, f"interpreter: {runtime.name} {runtime.version}", devices=devices
        )

    def open_session(
        self, model_path: Path, config: BackendConfig, *, role: Role = ROLE_MAIN
    ) -> InferenceSession:
        assert isinstance(config, TFLiteConfig)
        runtime = find_runtime()
        threads = config.num_threads or os.cpu_count() or 1
        if config.delegate == "edgetpu":
            from posed_tflite.edgetpu import open_edgetpu_session

            return open_edgetpu_session(runtime, model_path, config, threads)
        return TFLiteSession.open(
            runtime.interpreter_class,
            model_path,
            num_threads=threads,
            delegates=[],
            device="cpu:xnnpack" if config.delegate == "xnnpack" else "cpu",
            use_xnnpack=config.delegate == "xnnpack",
        )
