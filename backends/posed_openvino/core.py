"""The one OpenVINO Core of the process.

OpenVINO's runtime installs an alternate signal stack (sigaltstack) on the thread
that creates the first Core, and frees that memory when the last Core is released.
Released from another thread (a worker restart, a reload, the garbage collector
running on a camera thread), that leaves the creating thread's signal stack
dangling, and the next signal systemd sends, SIGTERM or SIGHUP, kills posed with
SIGSEGV. A single Core kept for the life of the process is never released, and it
is what OpenVINO recommends anyway: plugins load once and share the model cache.
"""

from __future__ import annotations

import threading
from typing import Any

from posed.errors import BackendUnavailableError
from posed_openvino.cpu_isa import cap_isa_below_unusable_amx

INSTALL_HINT = "pip install 'posed[openvino]'"

_lock = threading.Lock()
_core: Any | None = None


def openvino_module() -> Any:
    try:
        import openvino  # noqa: PLC0415 (optional runtime)
    except ImportError as exc:
        raise BackendUnavailableError(f"OpenVINO is not installed: {INSTALL_HINT}") from exc
    return openvino


def shared_core() -> Any:
    """The process-wide Core, created on first use and never released."""
    global _core
    with _lock:
        if _core is None:
            ov = openvino_module()
            cap_isa_below_unusable_amx()
            _core = ov.Core()
        return _core
