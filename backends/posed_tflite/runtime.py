"""Which TFLite interpreter is installed: LiteRT first, then tflite-runtime."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posed.errors import BackendUnavailableError

INSTALL_HINT = "pip install 'posed[tflite]' (ai-edge-litert), or tflite-runtime on older Pi images"


@dataclass(frozen=True, slots=True)
class Runtime:
    name: str  # "ai-edge-litert" or "tflite-runtime"
    version: str
    interpreter_class: Any
    load_delegate: Any


def find_runtime() -> Runtime:
    from importlib.metadata import PackageNotFoundError, version

    try:
        from ai_edge_litert import interpreter as litert

        return Runtime("ai-edge-litert", version("ai-edge-litert"), litert.Interpreter, litert.load_delegate)
    except ImportError:
        pass
    try:
        from tflite_runtime import interpreter as tflr  # type: ignore[import-not-found,unused-ignore]

        try:
            ver = version("tflite-runtime")
        except PackageNotFoundError:
            ver = "unknown"
        return Runtime("tflite-runtime", ver, tflr.Interpreter, tflr.load_delegate)
    except ImportError:
        pass
    raise BackendUnavailableError(f"no TFLite interpreter is installed: {INSTALL_HINT}")
