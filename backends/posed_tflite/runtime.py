"""Which TFLite interpreter is installed: LiteRT first, then tflite-runtime.

Many Raspberry Pi images still ship only `tflite-runtime` (and pycoral pins it),
so it stays a supported fallback. Both expose the same Python interpreter API.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from posed.errors import BackendUnavailableError

INSTALL_HINT = "pip install 'posed[tflite]' (ai-edge-litert), or tflite-runtime on older Pi images"
LITERT = "ai-edge-litert"
TFLITE_RUNTIME = "tflite-runtime"


@dataclass(frozen=True, slots=True)
class Runtime:
    name: str  # LITERT or TFLITE_RUNTIME
    version: str
    interpreter_class: Any
    load_delegate: Callable[..., Any]
    # OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES: builtin kernels without XNNPACK
    # (`delegate: none`). None when the installed interpreter is too old to choose.
    no_default_delegates: Any | None

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


def find_runtime() -> Runtime:
    """The interpreter to use. Raises BackendUnavailableError naming what to install."""
    candidates = {LITERT: "ai_edge_litert.interpreter", TFLITE_RUNTIME: "tflite_runtime.interpreter"}
    found: dict[str, Any] = {}
    for candidate, module_name in candidates.items():
        try:
            found[candidate] = importlib.import_module(module_name)
            break
        except ImportError:
            continue
    if not found:
        raise BackendUnavailableError(f"no TFLite interpreter is installed: {INSTALL_HINT}")
    ((name, module),) = found.items()
    try:
        ver = version(name)
    except PackageNotFoundError:
        ver = "unknown version"
    resolver = getattr(module, "OpResolverType", None)
    return Runtime(
        name=name,
        version=ver,
        interpreter_class=module.Interpreter,
        load_delegate=module.load_delegate,
        no_default_delegates=getattr(resolver, "BUILTIN_WITHOUT_DEFAULT_DELEGATES", None),
    )
